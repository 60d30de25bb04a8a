/**
 * Opening a run: find the unfinished run of the same spec (or the one asked for by id) or
 * create it, plan its jobs (adding only those it lacks, so a resumed run keeps its
 * finished ones), put interrupted and failed jobs back to pending, and claim the run for
 * this process. RUN_BUSY when another live process drives it.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { canonicalSpecJson, type AuditSpec } from '../../src-shared/audit/spec';
import { AuditError } from '../engine/errors';
import { processAlive } from '../engine/process-alive';
import { planJobs } from './plan';
import type { RunAuditOptions } from './run-audit';

export function specHash(spec: AuditSpec): string {
  return createHash('sha256').update(canonicalSpecJson(spec)).digest('hex');
}

export function defaultWorkers(backend: string): number {
  return backend === 'tensorflow-gpu' ? 1 : Math.max(1, availableParallelism());
}

function versions(): Record<string, string> {
  return { node: process.versions.node, app: process.env.npm_package_version ?? '0.1.0' };
}

/** Finds or creates the run, plans its jobs and claims it for this process. */
export function openRun(opts: RunAuditOptions): { runId: string; resumed: boolean } {
  const { store } = opts;
  const hash = specHash(opts.spec);
  let run = opts.resumeRunId ? store.getRun(opts.resumeRunId) : opts.fresh ? undefined : store.findResumableRun(hash);
  if (opts.resumeRunId && !run)
    throw new AuditError('RUN_NOT_FOUND', `No run with id ${opts.resumeRunId}`, {
      hint: 'List runs with `ownership-audit runs list`.',
    });
  const resumed = Boolean(run);
  if (run && run.status === 'running' && run.ownerPid && run.ownerPid !== process.pid && processAlive(run.ownerPid)) {
    throw new AuditError('RUN_BUSY', `Run ${run.id} is being run by process ${run.ownerPid}`, {
      hint: 'Wait for it, or stop that process first.',
    });
  }
  if (!run)
    run = store.createRun({
      name: opts.spec.name ?? 'audit',
      spec: opts.spec,
      specHash: hash,
      backend: opts.backend,
      versions: versions(),
      workDir: undefined,
    });
  const workDir = run.workDir || join(opts.home, 'runs', run.id);
  const spec = (resumed ? run.spec : opts.spec) as AuditSpec;
  const reuse = 'reuse' in spec.calibration ? store.getCalibration(spec.calibration.reuse) : undefined;
  if ('reuse' in spec.calibration && !reuse) {
    throw new AuditError('RUN_NOT_FOUND', `No stored calibration with id ${spec.calibration.reuse}`, {
      hint: 'List calibrations with `ownership-audit calibrations list`.',
    });
  }
  const planned = planJobs(spec, {
    workDir,
    runId: run.id,
    baseDir: opts.baseDir,
    calibration: reuse ? { filePath: reuse.filePath } : undefined,
  });
  const existing = new Set(store.listJobs(run.id).map((j) => j.key));
  store.insertJobs(
    run.id,
    planned.filter((j) => !existing.has(j.key)),
  );
  // Jobs left running by a dead process, and those that failed or were cancelled last time, run again.
  store.resetInterruptedJobs(run.id);
  for (const j of store.listJobs(run.id)) {
    if (j.status === 'failed' || j.status === 'cancelled')
      store.updateJob(run.id, j.key, { status: 'pending', attempts: 0, errorCode: null, errorMessage: null });
  }
  store.updateRun(run.id, {
    status: 'running',
    ownerPid: process.pid,
    backend: opts.backend,
    startedAt: run.startedAt ?? new Date().toISOString(),
    error: null,
  });
  return { runId: run.id, resumed };
}
