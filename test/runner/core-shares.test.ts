/**
 * Issue 17 item 2, the runner's side: on the wasm backend it shares the machine's cores among
 * its running jobs and gives a job left alone every core, by message, while the job runs.
 * Workers here are fakes: the first job launched stays running, every other one fails at once
 * (a typed error, so it is not retried), so the first ends up alone; the test records what
 * each fake was told.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { machineThreads } from '../../src-main/engine/wasm-threads';
import { smokeSpec } from '../../src-main/runner/presets';
import type { FromWorker, ToWorker } from '../../src-main/runner/protocol';
import { startAudit } from '../../src-main/runner/run-audit';
import type { WorkerLauncher } from '../../src-main/runner/worker-process';
import { databasePath, openStore } from '../../src-main/store';
import { DEMO_INPUTS } from '../helpers/demo-inputs';

let home: string | undefined;
afterEach(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

function fakeLauncher(told: ToWorker[][], holdFirst: boolean): WorkerLauncher {
  return () => {
    const index = told.length;
    const messages: ToWorker[] = [];
    told.push(messages);
    const listeners: ((m: FromWorker) => void)[] = [];
    const exits: ((code: number | null, signal: string | null) => void)[] = [];
    const fail = () =>
      setImmediate(() => {
        listeners.forEach((l) => l({ type: 'error', error: { code: 'INVALID_ARGUMENT', message: 'fake job' } }));
        exits.forEach((l) => l(2, null));
      });
    return {
      pid: undefined,
      send: (m: ToWorker) => {
        messages.push(m);
        // The first job runs until the runner gives it another share (or, where the runner
        // never does, a deadline that only a failing run waits for); the others end at once.
        if ((m.type === 'start' && (index > 0 || !holdFirst)) || m.type === 'threads') fail();
        else if (m.type === 'start') setTimeout(fail, 10_000).unref();
      },
      onMessage: (l) => listeners.push(l),
      onExit: (l) => exits.push(l),
      onError: () => {},
      stderrTail: () => '',
      kill: () => {},
    };
  };
}

it.skipIf(machineThreads() < 2)(
  'shares the cores among running jobs and gives a job left alone all of them',
  async () => {
    home = mkdtempSync(join(tmpdir(), 'oa-shares-'));
    const store = openStore(databasePath(home));
    try {
      const told: ToWorker[][] = [];
      const handle = startAudit({
        store,
        home,
        spec: smokeSpec(DEMO_INPUTS),
        baseDir: home,
        workers: 2,
        backend: 'wasm',
        workerEntry: 'unused',
        launchWorker: fakeLauncher(told, true),
        maxAttempts: 1,
      });
      const result = await handle.done;
      expect(result.status).toBe('failed');
      const cores = machineThreads();
      // Two jobs were started together, on half the cores each; every later one joined the first.
      expect(told.length).toBeGreaterThanOrEqual(3);
      for (const messages of told) expect(messages[0]).toMatchObject({ type: 'start', threads: Math.floor(cores / 2) });
      // The first job, once alone, was told to take every core, once, while it ran.
      expect(told[0].filter((m) => m.type === 'threads')).toEqual([{ type: 'threads', count: cores }]);
      for (const messages of told.slice(1)) expect(messages.filter((m) => m.type === 'threads')).toEqual([]);
      // Its log says so.
      const runDir = join(home, 'runs', readdirSync(join(home, 'runs'))[0], 'logs');
      const logs = readdirSync(runDir).map((f) => readFileSync(join(runDir, f), 'utf8'));
      expect(logs.filter((l) => l.includes(`share of the cores now ${cores} threads`))).toHaveLength(1);
    } finally {
      store.close();
    }
  },
);

it('a queue-less run on another backend starts its jobs without a thread count', async () => {
  home = mkdtempSync(join(tmpdir(), 'oa-shares-'));
  const store = openStore(databasePath(home));
  try {
    const told: ToWorker[][] = [];
    await startAudit({
      store,
      home,
      spec: smokeSpec(DEMO_INPUTS),
      baseDir: home,
      workers: 2,
      backend: 'cpu',
      workerEntry: 'unused',
      launchWorker: fakeLauncher(told, false),
      maxAttempts: 1,
    }).done;
    expect(told.length).toBeGreaterThan(0);
    for (const messages of told) expect(messages[0]).not.toHaveProperty('threads');
  } finally {
    store.close();
  }
});
