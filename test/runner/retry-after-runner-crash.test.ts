/**
 * Issue 16, defect 8: a runner that dies (kill -9) leaves its in-flight jobs "running" with
 * the attempt counted; that attempt was the runner's crash, not the worker's, so resuming
 * must not count it against the job's retries. Workers here are fakes that crash at once,
 * so the test measures how many attempts the resumed run gives a job, in milliseconds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { planJobs } from '../../src-main/runner/plan';
import { smokeSpec } from '../../src-main/runner/presets';
import { startAudit } from '../../src-main/runner/run-audit';
import { specHash } from '../../src-main/runner/open-run';
import type { WorkerLauncher } from '../../src-main/runner/worker-process';
import type { ToWorker } from '../../src-main/runner/protocol';
import { databasePath, openStore } from '../../src-main/store';
import { DEMO_INPUTS } from '../helpers/demo-inputs';

let home: string | undefined;
afterEach(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

/** A worker that takes its job, then dies without a result (as a killed process does). */
function crashingLauncher(started: string[]): WorkerLauncher {
  return () => {
    const exits: ((code: number | null, signal: string | null) => void)[] = [];
    return {
      pid: undefined,
      send: (m: ToWorker) => {
        if (m.type !== 'start') return;
        started.push(JSON.stringify(m.job.payload));
        setImmediate(() => exits.forEach((l) => l(null, 'SIGKILL')));
      },
      onMessage: () => {},
      onExit: (l) => exits.push(l),
      onError: () => {},
      stderrTail: () => '',
      kill: () => {},
    };
  };
}

it('after a runner crash, a job still gets its full retries (the interrupted attempt is not counted)', async () => {
  home = mkdtempSync(join(tmpdir(), 'oa-retry-'));
  const store = openStore(databasePath(home));
  try {
    const spec = smokeSpec(DEMO_INPUTS);
    // The state a kill -9 of the runner leaves: the run "running" under a dead pid, its
    // first jobs "running" with their first attempt counted.
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
    const run = store.createRun({ name: 'smoke', spec, specHash: specHash(spec), backend: 'wasm', versions: {} });
    store.insertJobs(run.id, planJobs(spec, { workDir: join(home, 'runs', run.id), runId: run.id, baseDir: home }));
    const first = store.listJobs(run.id).filter((j) => j.deps.length === 0);
    for (const j of first) store.updateJob(run.id, j.key, { status: 'running', attempts: 1 });
    store.updateRun(run.id, { status: 'running', ownerPid: deadPid });

    const started: string[] = [];
    const handle = startAudit({
      store,
      home,
      spec,
      baseDir: home,
      workers: 1,
      backend: 'wasm',
      workerEntry: 'unused',
      resumeRunId: run.id,
      launchWorker: crashingLauncher(started),
      maxAttempts: 2,
    });
    const r = await handle.done;
    expect(r.status).toBe('failed');
    const target = first[0];
    // Two worker crashes, two attempts in this session: the runner's crash used none.
    expect(started.filter((p) => p === JSON.stringify(target.payload)).length).toBe(2);
    expect(store.getJob(run.id, target.key)).toMatchObject({ status: 'failed', attempts: 2 });
  } finally {
    store.close();
  }
});
