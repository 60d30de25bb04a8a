/**
 * `ownership-audit worker --queue URL`: a machine's worker for distributed runs. It takes
 * one job at a time from the queues of the kinds it accepts, in the order given (a GPU box
 * lists the trainings first and so prefers them), and runs each in a child process exactly
 * as the local runner does (worker-process.ts), with its own backend.
 *
 * Before a job starts, its data is validated (zod), its version checked, its paths moved
 * from the coordinator's mount of the shared location to this one, and every file it reads
 * from other jobs checked against the hash recorded when that was written. While it runs,
 * the worker renews the job's lock, forwards progress and log lines, and watches for a
 * cancel request. A worker killed mid-job stops renewing: BullMQ's stalled-job check (run
 * by every other worker) puts the job back, and the next worker resumes it from the
 * checkpoint the dead one left in the shared location.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { isAuditError } from '../../engine/errors';
import type { JobInput } from '../executors';
import type { JobKind } from '../jobs';
import { JobFailure, startWorker } from '../worker-process';
import { artifactRefs, outermostRefs, verifyArtifactRefs } from './artifact-refs';
import {
  QUEUE_PREFIX,
  QueueJobDataSchema,
  appVersion,
  cancelKey,
  queueName,
  workerKey,
  type QueueFailure,
  type QueueJobOutcome,
  type WorkerInfo,
} from './protocol';
import { pathsUnder, rebasePaths } from './shared-paths';

export interface QueueWorkerOptions {
  connection: Redis;
  /** The shared location as this machine mounts it. */
  sharedRoot: string;
  /** Kinds this worker takes, most preferred first. */
  kinds: JobKind[];
  /** The backend its job processes initialise. */
  backend: string;
  /** Script and arguments of a local job process (the bundled CLI's `worker job`). */
  entry: string;
  entryArgs?: string[];
  /** A job whose lock is not renewed for this long is taken as stalled and given to another worker. */
  lockMs: number;
  /** Threads of each job on the wasm backend (wasm-threads.ts); 1 when left out. */
  threads?: number;
  log: (line: string) => void;
}

export interface QueueWorkerHandle {
  info: WorkerInfo;
  /** Stops taking jobs; a job in progress is stopped at its next checkpoint and given back to the queue. */
  stop(): Promise<void>;
  /** Resolves when the worker has stopped. */
  stopped: Promise<void>;
}

const IDLE_POLL_MS = 300;
const ANNOUNCE_MS = 2000;

function failure(f: QueueFailure): Error {
  return new Error(JSON.stringify(f));
}

export async function startQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorkerHandle> {
  const { connection } = opts;
  const info: WorkerInfo = {
    id: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    host: hostname(),
    pid: process.pid,
    backend: opts.backend,
    version: appVersion(),
    kinds: opts.kinds,
    current: null,
    startedAt: new Date().toISOString(),
  };
  const workers = opts.kinds.map(
    (kind) =>
      new Worker(queueName(kind), null, {
        connection,
        prefix: QUEUE_PREFIX,
        autorun: false,
        lockDuration: opts.lockMs,
        stalledInterval: opts.lockMs,
        // A job whose worker died is handed back this many times before the queue gives up on it.
        maxStalledCount: 5,
      }),
  );
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  // Manual processing: the stalled-job check is ours to start (it recovers other workers' dead jobs too).
  await Promise.all(workers.map((w) => w.startStalledCheckTimer()));

  const announce = () =>
    connection.set(workerKey(info.id), JSON.stringify(info), 'PX', ANNOUNCE_MS * 3).catch(() => {});
  await announce();
  const announcer = setInterval(() => void announce(), ANNOUNCE_MS);

  let stopping = false;
  let cancelCurrent: (() => void) | undefined;

  const runOne = async (job: Job, token: string): Promise<void> => {
    info.current = job.id ?? null;
    void announce();
    // The job's lock went to another worker (this one was taken for dead): stop at once and
    // report nothing, the other worker owns the job and its checkpoint folder now.
    let lockLost = false;
    let killCurrent: (() => void) | undefined;
    const lockTimer = setInterval(
      () =>
        void (async () => {
          if ((await job.extendLock(token, opts.lockMs)) !== 1) {
            lockLost = true;
            killCurrent?.();
            return;
          }
          if (job.id && (await connection.get(cancelKey(job.id)))) cancelCurrent?.();
        })().catch(() => {}),
      Math.max(250, Math.floor(opts.lockMs / 3)),
    );
    try {
      if (job.deferredFailure) {
        // BullMQ's stalled check gave up on it (its workers kept dying); manual processing must say so.
        throw new JobFailure(
          {
            code: 'WORKER_CRASHED',
            message: `The job stalled too often: ${job.deferredFailure}`,
            hint: 'Its workers kept dying (out of memory?); check the worker machines.',
          },
          true,
        );
      }
      const parsed = QueueJobDataSchema.safeParse(job.data);
      if (!parsed.success) {
        throw new JobFailure(
          {
            code: 'INVALID_ARGUMENT',
            message: `Malformed queued job: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
          },
          false,
        );
      }
      const data = parsed.data;
      if (data.version !== info.version) {
        throw new JobFailure(
          {
            code: 'QUEUE_VERSION',
            message: `The job comes from a coordinator of version ${data.version}; this worker is ${info.version}`,
            hint: 'Run workers of the same version as the coordinator.',
          },
          false,
        );
      }
      const local = rebasePaths(data.job, data.sharedRoot, opts.sharedRoot) as unknown as JobInput;
      try {
        verifyArtifactRefs(opts.sharedRoot, data.reads);
      } catch (e) {
        // Another worker (with the right mount) may succeed: retryable.
        if (isAuditError(e)) throw new JobFailure(e.toJSON(), true);
        throw e;
      }
      await job.log(`taken by ${info.id} (${info.backend}, version ${info.version}), attempt ${data.attempt}`);
      const handle = startWorker(local, {
        entry: opts.entry,
        args: opts.entryArgs,
        backend: opts.backend,
        ...(opts.backend === 'wasm' && (opts.threads ?? 1) > 1 ? { threads: opts.threads } : {}),
        // The worker rides along, so that the coordinator's store (and the app) can show who runs what.
        onProgress: (event) =>
          void job
            .updateProgress({
              ...event,
              worker: { id: info.id, host: info.host, backend: info.backend, version: info.version },
            })
            .catch(() => {}),
        onLog: (message) => void job.log(message).catch(() => {}),
      });
      cancelCurrent = () => handle.cancel();
      killCurrent = () => handle.kill();
      if (stopping) handle.cancel();
      const result = await handle.result;
      const wrote = outermostRefs(artifactRefs(opts.sharedRoot, pathsUnder(result, opts.sharedRoot)));
      const outcome: QueueJobOutcome = {
        result: rebasePaths(result, opts.sharedRoot, data.sharedRoot),
        wrote,
        worker: info,
      };
      clearInterval(lockTimer);
      if (lockLost) throw new Error('lock lost');
      await job.moveToCompleted(outcome, token, false);
      opts.log(`${job.id}: done`);
    } catch (e) {
      clearInterval(lockTimer);
      if (lockLost) {
        opts.log(`${job.id}: its lock passed to another worker; this one stopped it`);
        return;
      }
      const f =
        e instanceof JobFailure
          ? e
          : new JobFailure({ code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) }, true);
      // A job this worker checkpointed because it is stopping goes back to the queue, attempt
      // unchanged: the next worker resumes it from the checkpoint.
      if (stopping && f.error.code === 'CANCELLED') {
        opts.log(`${job.id}: given back (this worker is stopping)`);
        await job.log(`worker ${info.id} stopped; the job continues from its checkpoint`).catch(() => {});
        await job.moveToWait(token).catch(() => {});
        return;
      }
      opts.log(`${job.id}: failed: [${f.error.code}] ${f.error.message}`);
      await job
        .moveToFailed(
          failure({
            code: f.error.code,
            message: f.error.message,
            ...(f.error.hint ? { hint: f.error.hint } : {}),
            crashed: f.crashed,
          }),
          token,
          false,
        )
        .catch(() => {});
    } finally {
      clearInterval(lockTimer);
      cancelCurrent = undefined;
      info.current = null;
      void announce();
    }
  };

  const stopped = (async () => {
    while (!stopping) {
      let took = false;
      for (const w of workers) {
        if (stopping) break;
        const token = randomUUID();
        const job = (await w.getNextJob(token, { block: false }).catch(() => undefined)) as Job | undefined;
        if (job) {
          took = true;
          await runOne(job, token);
          break; // back to the most preferred kind
        }
      }
      if (!took && !stopping) await new Promise((r) => setTimeout(r, IDLE_POLL_MS));
    }
    clearInterval(announcer);
    await connection.del(workerKey(info.id)).catch(() => {});
    await Promise.all(workers.map((w) => w.close(true).catch(() => {})));
  })();

  return {
    info,
    stopped,
    stop: async () => {
      stopping = true;
      cancelCurrent?.();
      await stopped;
    },
  };
}

/** The workers that announced themselves in the last few seconds. */
export async function listQueueWorkers(connection: Redis): Promise<WorkerInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await connection.scan(cursor, 'MATCH', workerKey('*'), 'COUNT', 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await connection.mget(...keys);
  return values
    .flatMap((v) => {
      try {
        return v ? [JSON.parse(v) as WorkerInfo] : [];
      } catch {
        return [];
      }
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}
