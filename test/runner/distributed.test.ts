/**
 * Issue 21: an audit distributed through BullMQ on Redis. Debian's redis-server runs on a
 * loopback port (installed by .ci/run and the README's system packages; where it is absent
 * this file is skipped and says so). Three `worker --queue` processes with separate homes
 * share one folder; the coordinator is `run --queue`. During the smoke audit one worker and
 * then the coordinator are killed with -9 and the coordinator is started again: the table
 * must equal the local runner's for the same seeds, and every job must be recorded once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobInput } from '../../src-main/runner/executors';
import { createQueueDispatcher } from '../../src-main/runner/queue/dispatcher';
import { QUEUE_PREFIX, queueJobId, queueName } from '../../src-main/runner/queue/protocol';
import { databasePath, openStore } from '../../src-main/store';
import type { AuditStore } from '../../src-main/store/types';
import { STEP_CEILING_MS } from '../helpers/ceilings';
import { freePort } from '../helpers/free-port';
import { comparableRows, expectRowsClose } from '../helpers/results-rows';

const CLI = resolve('dist/cli.cjs');
const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
if (!REDIS)
  console.warn('distributed.test.ts skipped: redis-server is not installed (Debian: apt install redis-server)');

let root: string;
let port: number;
let redis: ChildProcess | undefined;
const children: ChildProcess[] = [];

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > STEP_CEILING_MS) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function withStore<T>(home: string, fn: (s: AuditStore) => T): T {
  const s = openStore(databasePath(home));
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

const queueUrl = () => `redis://127.0.0.1:${port}`;

function startWorker(n: number): ChildProcess {
  const home = join(root, `worker-${n}`);
  const child = spawn(
    process.execPath,
    [
      CLI,
      '--backend',
      'wasm',
      'worker',
      '--queue',
      queueUrl(),
      '--shared',
      join(root, 'shared'),
      '--lock-seconds',
      '2',
    ],
    { env: { ...process.env, OWNERSHIP_AUDIT_HOME: home }, stdio: 'ignore' },
  );
  children.push(child);
  return child;
}

function coordinatorArgs(): string[] {
  return [
    CLI,
    '--backend',
    'wasm',
    'run',
    '--preset',
    'smoke',
    '--queue',
    queueUrl(),
    '--shared',
    join(root, 'shared'),
    '--json',
  ];
}

describe.skipIf(!REDIS)('a distributed audit (BullMQ on Redis)', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'oa-dist-'));
    mkdirSync(join(root, 'shared'));
    port = await freePort();
    redis = spawn(
      REDIS as string,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    await waitFor('redis-server to answer', async () => {
      const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => {});
      try {
        await c.connect();
        return (await c.ping()) === 'PONG' ? true : undefined;
      } catch {
        return undefined;
      } finally {
        c.disconnect();
      }
    });
  });
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    redis?.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('gives the local table for the same seeds, with a worker and the coordinator each killed with -9 during it', async () => {
    // The local runner's rows for the same spec and seeds, which run-audit.test.ts pins.
    const localRows = JSON.parse(readFileSync(resolve('test/runner/__snapshots__/smoke-rows.json'), 'utf8')) as {
      label: string;
    }[];

    const workers = [1, 2, 3].map(startWorker);
    const home = join(root, 'coordinator');
    const first = spawn(process.execPath, coordinatorArgs(), {
      env: { ...process.env, OWNERSHIP_AUDIT_HOME: home },
      stdio: 'ignore',
    });
    children.push(first);
    const watch = new Redis(port, '127.0.0.1');
    try {
      // Kill the worker that runs an attack, mid-job.
      const victim = await waitFor('a worker running an attack', async () => {
        const keys = await watch.keys('ownership-audit:workers:*');
        const infos = (await Promise.all(keys.map((k) => watch.get(k)))).flatMap((v) =>
          v ? [JSON.parse(v) as { id: string; pid: number; current: string | null }] : [],
        );
        return infos.find((w) => w.current?.includes('|attack~'));
      });
      const killedWorker = workers.find((w) => w.pid === victim.pid);
      expect(killedWorker, 'the busy worker is one of ours').toBeDefined();
      process.kill(victim.pid, 'SIGKILL');
      const killedJob = victim.current as string;

      // Then the coordinator, once a job is recorded and before the run ends.
      const runId = await waitFor('the coordinator to record a job', () =>
        existsSync(databasePath(home))
          ? withStore(home, (s) => {
              const run = s.listRuns({ name: 'smoke' })[0];
              return run && s.listJobs(run.id).some((j) => j.status === 'done') ? run.id : undefined;
            })
          : undefined,
      );
      first.kill('SIGKILL');
      await new Promise((r) => (first.exitCode !== null || first.signalCode ? r(null) : first.once('exit', r)));
      const before = withStore(home, (s) => s.listJobs(runId));
      expect(
        before.some((j) => j.status !== 'done'),
        'the coordinator died mid-run',
      ).toBe(true);

      // The same command again resumes the run from the store and the queue.
      const again = spawnSync(process.execPath, coordinatorArgs(), {
        env: { ...process.env, OWNERSHIP_AUDIT_HOME: home },
        encoding: 'utf8',
        timeout: STEP_CEILING_MS,
      });
      expect(again.status, again.stderr.slice(-3000)).toBe(0);
      const out = JSON.parse(again.stdout.trim().split('\n').pop() as string) as {
        runId: string;
        status: string;
        rows: { label: string }[];
      };
      expect(out.runId).toBe(runId);
      expect(out.status).toBe('completed');
      expect(out.rows.map((r) => r.label)).toEqual(localRows.map((r) => r.label));
      expectRowsClose(localRows, comparableRows(out.rows));

      withStore(home, (s) => {
        expect(s.integrityCheck()).toBe('ok');
        const jobs = s.listJobs(runId);
        expect(jobs.every((j) => j.status === 'done')).toBe(true);
        // Jobs finished before the coordinator died were not redone.
        for (const j of before.filter((x) => x.status === 'done'))
          expect(jobs.find((x) => x.key === j.key)?.finishedAt).toBe(j.finishedAt);
        // Every job records the worker that ran it; the killed worker finished none of its job.
        const killedKey = jobs.find((j) => killedJob.includes(j.key.replace(/:/g, '~')))?.key;
        expect(killedKey).toBeDefined();
        const ranOn = jobs.find((j) => j.key === killedKey)?.ranOn as { pid: number; backend: string } | null;
        expect(ranOn?.pid).not.toBe(victim.pid);
        for (const j of jobs) expect((j.ranOn as { backend?: string } | null)?.backend).toBe('wasm');
        // What each job wrote to the shared location is hashed for the jobs that read it.
        const attack = jobs.find((j) => j.kind === 'attack');
        expect((attack?.outputs as { sha256: string }[]).length).toBeGreaterThan(0);
        const run = s.getRun(runId);
        expect(run?.workDir.startsWith(join(root, 'shared'))).toBe(true);
        expect((run?.distributed as { queue: string }).queue).toBe(`${queueUrl()}`);
      });
      // `runs show` lists the workers of the run, as the app does: every job is accounted to one.
      const shown = spawnSync(process.execPath, [CLI, 'runs', 'show', runId, '--json'], {
        env: { ...process.env, OWNERSHIP_AUDIT_HOME: home },
        encoding: 'utf8',
        timeout: STEP_CEILING_MS,
      });
      const detail = JSON.parse(shown.stdout.trim().split('\n').pop() as string) as {
        queue: string;
        workers: { id: string; host: string; backend: string; current: string | null; done: number }[];
        jobs: unknown[];
      };
      expect(detail.queue).toBe(queueUrl());
      expect(detail.workers.length).toBeGreaterThanOrEqual(2);
      for (const w of detail.workers) expect([w.backend, w.current, w.host.length > 0]).toEqual(['wasm', null, true]);
      expect(detail.workers.reduce((n, w) => n + w.done, 0)).toBe(detail.jobs.length);
      // Recorded jobs are removed from the queue: nothing of this run is left in Redis.
      const leftover = (await watch.keys('ownership-audit:*')).filter((k) => k.includes(runId));
      expect(leftover, leftover.join(' ')).toEqual([]);
    } finally {
      watch.disconnect();
      for (const w of workers) w.kill('SIGTERM');
    }
    // A stopped worker deregisters.
    await waitFor('the workers to stop', () =>
      workers.every((w) => w.exitCode !== null || w.signalCode) ? true : undefined,
    );
  });

  it('a cancelled waiting job leaves the queue, and the same attempt enqueued again is not cancelled again; a retried job does not follow an old outcome', async () => {
    const connection = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null });
    const store = { getRun: () => undefined, getJob: () => undefined } as unknown as AuditStore;
    const dispatcher = createQueueDispatcher({ connection, store, sharedRoot: join(root, 'shared'), backend: 'wasm' });
    const job = { kind: 'score', payload: { seed: 1 }, deps: {} } as unknown as JobInput;
    const id = queueJobId('r-test', 'score:x', 1);
    const queue = new Queue(queueName('score'), { connection, prefix: QUEUE_PREFIX });
    try {
      // No worker takes score jobs here: the job waits, and cancel takes it off the queue.
      const first = dispatcher.dispatch({ runId: 'r-test', key: 'score:x', attempt: 1, job });
      await waitFor('the job to be queued', async () =>
        (await queue.getJobState(id)) === 'waiting' ? true : undefined,
      );
      first.cancel();
      await expect(first.result).rejects.toMatchObject({ error: { code: 'CANCELLED' } });
      expect(await queue.getJobState(id)).toBe('unknown');
      // Resumed: the same attempt again is queued and stays (the old cancel request is gone).
      const again = dispatcher.dispatch({ runId: 'r-test', key: 'score:x', attempt: 1, job });
      await waitFor('the job to be queued again', async () =>
        (await queue.getJobState(id)) === 'waiting' ? true : undefined,
      );
      await new Promise((r) => setTimeout(r, 1000));
      expect(await queue.getJobState(id)).toBe('waiting');
      again.kill();
      // An old failure under the id, recorded before the user retried the job, is not followed.
      const old = await Job.fromId(queue, id);
      await old?.remove();
      await queue.add('score:x', { old: true }, { jobId: id });
      dispatcher.forget('r-test', [{ key: 'score:x', attempts: 1 }]);
      const retried = dispatcher.dispatch({ runId: 'r-test', key: 'score:x', attempt: 1, job });
      await waitFor('the retried job to replace the old one', async () => {
        const j = await Job.fromId(queue, id);
        return j && (j.data as { key?: string }).key === 'score:x' ? true : undefined;
      });
      retried.kill();
    } finally {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await dispatcher.close();
      connection.disconnect();
    }
  });
});
