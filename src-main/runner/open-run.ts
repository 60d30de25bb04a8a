/**
 * Opening a run: find the unfinished run of the same spec (or the one asked for by id) or
 * create it, plan its jobs (adding only those it lacks, so a resumed run keeps its
 * finished ones), put interrupted and failed jobs back to pending, and claim the run for
 * this process. RUN_BUSY when another live process drives it (see store/claim.ts).
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { canonicalSpecJson, type AuditSpec } from '../../src-shared/audit/spec';
import { AuditError } from '../engine/errors';
import type { AuditStore, CalibrationRecord } from '../store/types';
import { newId } from '../store/ids';
import { planJobs } from './plan';
import { inputPublisher } from './queue/inputs';
import { pathsUnder } from './queue/shared-paths';
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

/**
 * Finds or creates the run and claims it for this process (one IMMEDIATE transaction in the
 * store: RUN_BUSY, with nothing written, when a live process drives it), then plans its
 * jobs. A reused calibration that is not stored is refused before anything is created; if
 * planning fails, the run is given back as it was (a run created for it is removed).
 */
export function openRun(opts: RunAuditOptions): {
  runId: string;
  resumed: boolean;
  /** Jobs that had ended (failed, cancelled) and run again from attempt 1, with the attempts they had used. */
  retried: { key: string; attempts: number }[];
} {
  const { store } = opts;
  const hash = specHash(opts.spec);
  const asked = opts.resumeRunId ? store.getRun(opts.resumeRunId) : undefined;
  if (opts.resumeRunId && !asked)
    throw new AuditError('RUN_NOT_FOUND', `No run with id ${opts.resumeRunId}`, {
      hint: 'List runs with `ownership-audit runs list`.',
    });
  const reuse = reusedCalibration(store, (asked?.spec ?? opts.spec) as AuditSpec);
  // A distributed run lives in the shared location, where every worker can reach it.
  const shared = opts.distributed?.sharedRoot;
  const newRunId = newId('r');
  const { run, resumed, previous } = store.claimRun({
    pid: process.pid,
    runId: opts.resumeRunId,
    specHash: hash,
    fresh: opts.fresh,
    backend: opts.backend,
    create: {
      name: opts.spec.name ?? 'audit',
      spec: opts.spec,
      specHash: hash,
      backend: opts.backend,
      versions: versions(),
      ...(shared ? { id: newRunId, workDir: join(shared, 'runs', newRunId) } : {}),
    },
  });
  const retried: { key: string; attempts: number }[] = [];
  try {
    if (shared && pathsUnder(run.workDir, shared).length === 0)
      throw new AuditError(
        'INVALID_ARGUMENT',
        `Run ${run.id} keeps its files in ${run.workDir}, outside the shared location`,
        {
          hint: 'Resume it without --queue, or start a new run with --new to distribute it.',
        },
      );
    const publisher = shared ? inputPublisher(shared) : undefined;
    const spec = (resumed ? run.spec : opts.spec) as AuditSpec;
    const planned = planJobs(spec, {
      workDir: run.workDir || join(opts.home, 'runs', run.id),
      runId: run.id,
      baseDir: opts.baseDir,
      calibration: reuse ? { filePath: sharedCalibration(reuse.filePath, publisher?.map) } : undefined,
      artifacts: join(shared ?? opts.home, 'artifacts'),
      ...(publisher ? { inputs: publisher.map } : {}),
    });
    store.transaction(() => {
      const existing = new Set(store.listJobs(run.id).map((j) => j.key));
      store.insertJobs(
        run.id,
        planned.filter((j) => !existing.has(j.key)),
      );
      // Jobs left running by a dead runner (their attempt not counted), and those that
      // failed or were cancelled last time, run again.
      store.resetInterruptedJobs(run.id);
      if (opts.distributed && publisher)
        store.updateRun(run.id, {
          distributed: { queue: opts.distributed.queue, shared: opts.distributed.sharedRoot, inputs: publisher.refs() },
        });
      for (const j of store.listJobs(run.id)) {
        if (j.status === 'failed' || j.status === 'cancelled') retried.push({ key: j.key, attempts: j.attempts });
        if (j.status === 'failed' || j.status === 'cancelled')
          store.updateJob(run.id, j.key, { status: 'pending', attempts: 0, errorCode: null, errorMessage: null });
      }
    });
  } catch (e) {
    if (resumed) store.updateRun(run.id, { status: previous.status, ownerPid: null });
    else store.deleteRun(run.id);
    throw e;
  }
  return { runId: run.id, resumed, retried };
}

/** The stored calibration a spec reuses; SPEC_INVALID naming calibration.reuse when it is not stored. */
function reusedCalibration(store: AuditStore, spec: AuditSpec): CalibrationRecord | undefined {
  if (!('reuse' in spec.calibration)) return undefined;
  const found = store.getCalibration(spec.calibration.reuse);
  if (!found)
    throw new AuditError('SPEC_INVALID', `calibration.reuse: no stored calibration with id ${spec.calibration.reuse}`, {
      hint: 'List calibrations with `ownership-audit runs calibrations list`, or calibrate in this run instead.',
    });
  return found;
}

/** A reused calibration's file, in its published folder (with its fingerprints) for a distributed run. */
function sharedCalibration(filePath: string, publish: ((path: string) => string) | undefined): string {
  return publish ? join(publish(dirname(filePath)), basename(filePath)) : filePath;
}
