/**
 * The coordinator's side of a distributed run: instead of forking a local worker, each ready
 * job is enqueued on BullMQ (one queue per job kind) and followed there until a worker
 * finishes or fails it. The runner (run-audit.ts) sees the same WorkerHandle either way, so
 * the job graph, the store, retries and resume are the local runner's, unchanged.
 *
 * Idempotence: a job's BullMQ id is (run, job key, attempt). A coordinator that restarts
 * re-plans its interrupted jobs with the same attempt, so enqueuing finds the job already
 * there (running on a worker, or finished while the coordinator was down) and follows it
 * instead of starting it twice. A BullMQ job is removed only after the runner has recorded
 * its outcome, so no finished job is lost between the two.
 */
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ProgressEvent } from '../../engine/context';
import type { AuditStore } from '../../store/types';
import type { JobInput } from '../executors';
import { JobFailure, type WorkerHandle } from '../worker-process';
import { distributedRecord } from './run-record';
import { pathsUnder } from './shared-paths';
import {
  QUEUE_PREFIX,
  QUEUE_PROTOCOL,
  QueueFailureSchema,
  QueueJobOutcomeSchema,
  appVersion,
  cancelKey,
  queueJobId,
  queueName,
  type ArtifactRef,
  type QueueJobData,
  type WorkerInfo,
} from './protocol';
import type { JobKind } from '../jobs';

/** How often a followed job's state, progress and log are read from Redis. */
const POLL_MS = 400;

export interface DispatchRequest {
  runId: string;
  key: string;
  attempt: number;
  job: JobInput;
  onProgress?: (e: ProgressEvent) => void;
  onLog?: (message: string) => void;
}

/** What a distributed job adds to a local one: which worker ran it, for how long, and what it wrote. */
export interface RemoteDetails {
  ranOn: WorkerInfo;
  wrote: ArtifactRef[];
  /** Seconds on the worker that finished it (time waiting in the queue excluded). */
  seconds: number | undefined;
}

export type RemoteHandle = WorkerHandle & {
  details(): RemoteDetails | undefined;
  /** Called by the runner once the outcome is in its store: the queue may forget the job. */
  recorded(): void;
};

export interface QueueDispatcherOptions {
  connection: Redis;
  store: AuditStore;
  /** The shared root as this machine mounts it (the run's work folder and artifacts are under it). */
  sharedRoot: string;
  /** The backend the run asked for. */
  backend: string;
}

export interface QueueDispatcher {
  dispatch(req: DispatchRequest): RemoteHandle;
  /**
   * Jobs whose earlier attempts ended and were recorded (failed or cancelled, now retried
   * from attempt 1): any job still in the queue under those ids is an old outcome, not one
   * to follow.
   */
  forget(runId: string, jobs: { key: string; attempts: number }[]): void;
  /**
   * Removes what the queue still holds of jobs whose outcome the store already has (a
   * coordinator killed between storing an outcome and removing its queue job leaves them).
   */
  sweep(runId: string, jobs: { key: string; kind: JobKind; attempts: number }[]): void;
  close(): Promise<void>;
}

/** The references among `known` that the job reads: those naming one of its paths or a folder above one. */
function readsOf(job: JobInput, sharedRoot: string, known: ArtifactRef[]): ArtifactRef[] {
  const used = pathsUnder([job.payload, job.deps], sharedRoot);
  return known.filter((ref) => used.some((p) => p === ref.path || p.startsWith(`${ref.path}/`)));
}

function failureOf(reason: string | undefined): JobFailure {
  try {
    const f = QueueFailureSchema.parse(JSON.parse(reason ?? ''));
    return new JobFailure({ code: f.code, message: f.message, ...(f.hint ? { hint: f.hint } : {}) }, f.crashed);
  } catch {
    // A failure BullMQ itself recorded (a job stalled too often, a worker's bug).
    return new JobFailure(
      {
        code: 'WORKER_CRASHED',
        message: `The queue failed the job: ${reason ?? 'no reason given'}`,
        hint: 'Check the workers (`ownership-audit runs workers`); run the audit again to retry it.',
      },
      true,
    );
  }
}

export function createQueueDispatcher(opts: QueueDispatcherOptions): QueueDispatcher {
  const queues = new Map<JobKind, Queue>();
  const queueFor = (kind: JobKind): Queue => {
    let q = queues.get(kind);
    if (!q) {
      q = new Queue(queueName(kind), { connection: opts.connection, prefix: QUEUE_PREFIX });
      queues.set(kind, q);
    }
    return q;
  };
  const live = new Set<() => void>();
  const stale = new Set<string>();
  // Removals of recorded jobs still in flight: close() waits for them.
  const forgetting = new Set<Promise<unknown>>();

  const dispatch = (req: DispatchRequest): RemoteHandle => {
    const queue = queueFor(req.job.kind);
    const id = queueJobId(req.runId, req.key, req.attempt);
    // The run's published inputs (victim, data) and what its dependencies wrote.
    const known = [
      ...(distributedRecord(opts.store.getRun(req.runId)?.distributed)?.inputs ?? []),
      ...Object.keys(req.job.deps).flatMap((k) => (opts.store.getJob(req.runId, k)?.outputs ?? []) as ArtifactRef[]),
    ];
    const data: QueueJobData = {
      protocol: QUEUE_PROTOCOL,
      version: appVersion(),
      runId: req.runId,
      key: req.key,
      attempt: req.attempt,
      backend: opts.backend,
      sharedRoot: opts.sharedRoot,
      // JSON either way: the worker validates the shape and its executor the payload.
      job: req.job as unknown as QueueJobData['job'],
      reads: readsOf(req.job, opts.sharedRoot, known),
    };
    let details: RemoteDetails | undefined;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      live.delete(stop);
    };
    live.add(stop);

    const result = new Promise<unknown>((resolve, reject) => {
      let lastProgress = '';
      let logsSeen = 0;
      const poll = async (): Promise<void> => {
        if (stopped) return;
        // The state first, then the job: read the other way round, a job that ends in between
        // would be seen terminal without its return value or failure reason.
        const state = await queue.getJobState(id);
        const job = await Job.fromId(queue, id);
        if (!job || state === 'unknown') {
          stop();
          return reject(new JobFailure({ code: 'CANCELLED', message: 'removed from the queue' }, false));
        }
        const progress = JSON.stringify(job.progress ?? null);
        if (progress !== lastProgress && job.progress && typeof job.progress === 'object') {
          lastProgress = progress;
          req.onProgress?.(job.progress as ProgressEvent);
        }
        const { logs } = await queue.getJobLogs(id, logsSeen, -1);
        logsSeen += logs.length;
        for (const line of logs) req.onLog?.(line);
        if (state === 'completed') {
          const parsed = QueueJobOutcomeSchema.safeParse(job.returnvalue);
          if (!parsed.success) {
            stop();
            return reject(
              new JobFailure(
                {
                  code: 'WORKER_CRASHED',
                  message: `A worker returned a malformed result: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
                  hint: 'Run workers of the same version as the coordinator.',
                },
                true,
              ),
            );
          }
          const outcome = parsed.data;
          details = {
            ranOn: outcome.worker,
            wrote: outcome.wrote,
            seconds: job.processedOn && job.finishedOn ? (job.finishedOn - job.processedOn) / 1000 : undefined,
          };
          stop();
          return resolve(outcome.result);
        }
        if (state === 'failed') {
          stop();
          return reject(failureOf(job.failedReason));
        }
        timer = setTimeout(() => void poll().catch(onPollError), POLL_MS);
      };
      // Redis went away for longer than ioredis retries: keep following; the job is safe in Redis.
      const onPollError = (e: unknown) => {
        req.onLog?.(`queue: ${(e as Error).message}; retrying`);
        if (!stopped) timer = setTimeout(() => void poll().catch(onPollError), 5 * POLL_MS);
      };
      // An existing id (a restarted coordinator's job) is not added again: BullMQ keeps the
      // first and this follows it. One whose outcome was already recorded before a retry of
      // the job (stale) is removed first; so is a cancel request left from an earlier session.
      const enqueue = async () => {
        if (stale.delete(id)) await (await Job.fromId(queue, id))?.remove();
        await opts.connection.del(cancelKey(id));
        await queue.add(req.key, data, { jobId: id, removeOnComplete: false, removeOnFail: false, attempts: 1 });
        await poll();
      };
      enqueue().catch(onPollError);
    });

    return {
      pid: undefined,
      result,
      details: () => details,
      recorded: () => {
        const removal = Job.fromId(queue, id)
          .then((j) => j?.remove())
          .then(() => opts.connection.del(cancelKey(id)))
          .catch(() => {});
        forgetting.add(removal);
        void removal.finally(() => forgetting.delete(removal));
      },
      cancel: () => {
        // A job still waiting is taken off the queue; a running one is stopped by its worker at a checkpoint.
        void opts.connection
          .set(cancelKey(id), '1', 'EX', 24 * 3600)
          .then(() => Job.fromId(queue, id))
          .then(async (j) => {
            // Only a job no worker has taken yet; a finished one keeps its outcome for the runner.
            if (j && ['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children'].includes(await j.getState()))
              await j.remove();
          })
          .catch(() => {});
      },
      // Leaving at once (the coordinator quits): the job stays with its worker; a restarted coordinator follows it again.
      kill: stop,
    };
  };

  return {
    dispatch,
    forget: (runId, jobs) => {
      for (const j of jobs) for (let a = 1; a <= j.attempts; a++) stale.add(queueJobId(runId, j.key, a));
    },
    sweep: (runId, jobs) => {
      for (const j of jobs)
        for (let a = 1; a <= j.attempts; a++) {
          const id = queueJobId(runId, j.key, a);
          const removal = Job.fromId(queueFor(j.kind), id)
            .then((found) => found?.remove())
            .then(() => opts.connection.del(cancelKey(id)))
            .catch(() => {});
          forgetting.add(removal);
          void removal.finally(() => forgetting.delete(removal));
        }
    },
    close: async () => {
      for (const stop of [...live]) stop();
      await Promise.all([...forgetting]);
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
