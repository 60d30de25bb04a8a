/**
 * A stand-in for the job runner: it records a run in the store like `startAudit` does and
 * emits the same events, but runs no processes; the test decides when the run ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach } from 'vitest';
import type { RunStatus } from '../../src-shared/audit/results';
import { createAuditService, type AuditService, type AuditServiceOptions } from '../../src-main/api/service';
import { smokeSpec } from '../../src-main/runner/presets';
import type { AuditHandle, RunAuditOptions } from '../../src-main/runner/run-audit';

export const DEMO = {
  demoModel: resolve('resources/models/demo-victim'),
  demoData: resolve('resources/datasets/fashion-mnist-demo'),
};
export const CLI = resolve('dist/cli.cjs');

export function smoke(): ReturnType<typeof smokeSpec> {
  return smokeSpec(DEMO);
}

export interface FakeRun {
  opts: RunAuditOptions;
  runId: string;
  finish(status: RunStatus): void;
  paused: boolean;
  cancelled: boolean;
  cancelledJobs: string[];
}

/** A fake `startAudit` and the runs it started. */
export function fakeRunner(): { start: (opts: RunAuditOptions) => AuditHandle; runs: FakeRun[] } {
  const runs: FakeRun[] = [];
  const start = (opts: RunAuditOptions): AuditHandle => {
    const run = opts.resumeRunId
      ? opts.store.getRun(opts.resumeRunId)
      : opts.store.createRun({
          name: opts.spec.name ?? 'audit',
          spec: opts.spec,
          specHash: 'fake',
          backend: opts.backend,
          versions: {},
        });
    if (!run) throw new Error('no such run');
    const runId = run.id;
    opts.store.insertJobs(runId, [
      { key: 'attack:a', kind: 'attack', label: 'attack a', deps: [], payload: {}, weight: 1 },
    ]);
    opts.store.updateRun(runId, { status: 'running', ownerPid: process.pid });
    let finish: (status: RunStatus) => void = () => undefined;
    const done = new Promise<{ runId: string; status: RunStatus; table: never }>((res) => {
      finish = (status) => {
        opts.store.updateRun(runId, { status, ownerPid: null });
        opts.onEvent?.({ type: 'run', runId, status, resumed: false, jobs: 1, done: status === 'completed' ? 1 : 0 });
        res({ runId, status, table: undefined as never });
      };
    });
    const fake: FakeRun = { opts, runId, finish: (s) => finish(s), paused: false, cancelled: false, cancelledJobs: [] };
    runs.push(fake);
    opts.onEvent?.({ type: 'run', runId, status: 'running', resumed: Boolean(opts.resumeRunId), jobs: 1, done: 0 });
    opts.onEvent?.({
      type: 'progress',
      runId,
      key: 'attack:a',
      kind: 'attack',
      label: 'attack a',
      event: { stage: 'finetune', iteration: 1, total: 10, values: { loss: Number.NaN } },
      done: 0,
      total: 1,
      etaSeconds: 5,
    });
    return {
      runId,
      done,
      abandon: () => finish('paused'),
      pause: () => {
        fake.paused = true;
        finish('paused');
      },
      cancel: () => {
        fake.cancelled = true;
        finish('cancelled');
      },
      cancelJob: (key) => {
        fake.cancelledJobs.push(key);
        opts.store.updateJob(runId, key, { status: 'cancelled' });
      },
    };
  };
  return { start, runs };
}

/** A service on a fresh temp home with the fake runner; closed and removed after each test. */
export function useFakeService(): (extra?: Partial<AuditServiceOptions>) => {
  service: AuditService;
  runner: ReturnType<typeof fakeRunner>;
  home: string;
} {
  const made: { service: AuditService; home: string }[] = [];
  afterEach(async () => {
    for (const m of made.splice(0)) {
      await m.service.close();
      rmSync(m.home, { recursive: true, force: true });
    }
  });
  return (extra: Partial<AuditServiceOptions> = {}) => {
    const home = mkdtempSync(join(tmpdir(), 'oa-api-'));
    const runner = fakeRunner();
    const service = createAuditService({ home, backend: 'wasm', workerEntry: CLI, startAudit: runner.start, ...extra });
    made.push({ service, home });
    return { service, runner, home };
  };
}
