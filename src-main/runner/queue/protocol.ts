/**
 * What travels through Redis between a coordinator (`run --queue`) and its workers
 * (`worker --queue`): queue names, the job data a worker validates before it runs anything,
 * and the value it returns. One schema per direction, checked with zod on arrival: a worker
 * never trusts a payload just because it came through the queue.
 *
 * Versioning: queues are named by the app's version, so a worker only ever takes jobs of
 * its own version; the job data also carries the version and a worker refuses a mismatch
 * (a coordinator started by hand against the wrong queue name) with QUEUE_VERSION.
 */
import { z } from 'zod';
import { JOB_KINDS, type JobKind } from '../../../src-shared/domain/states';
import { toolInfo } from '../../engine/tool-info';

/** Bumped when the job data or the returned value change shape. */
export const QUEUE_PROTOCOL = 1;

/** BullMQ's key prefix in Redis: everything this app keeps there starts with it. */
export const QUEUE_PREFIX = 'ownership-audit';

/** The app version of this process (queues and workers are matched on it). */
export function appVersion(): string {
  return toolInfo().version;
}

/** One queue per job kind, so a worker can choose (and order) the kinds it takes. */
export function queueName(kind: JobKind, version = appVersion()): string {
  // BullMQ refuses ':' in queue names; versions are dotted.
  return `v${version}-p${QUEUE_PROTOCOL}-${kind}`;
}

/** BullMQ job ids: one per (run, job, attempt), so a re-enqueue after a restart finds the same job. */
export function queueJobId(runId: string, key: string, attempt: number): string {
  return `${runId}|${key.replace(/:/g, '~')}|${attempt}`;
}

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** A file or folder another job produced, as a path relative to the shared root and its hash. */
export const ArtifactRefSchema = z.object({ path: z.string().min(1), sha256 });
export type ArtifactRef = z.infer<typeof ArtifactRefSchema>;

export const WorkerInfoSchema = z.object({
  id: z.string().min(1),
  host: z.string(),
  pid: z.number().int(),
  backend: z.string(),
  version: z.string(),
  kinds: z.array(z.enum(JOB_KINDS)),
  /** The job it runs now (queue job id), or null when idle. */
  current: z.string().nullable(),
  startedAt: z.string(),
});
export type WorkerInfo = z.infer<typeof WorkerInfoSchema>;

export const QueueJobDataSchema = z.object({
  protocol: z.literal(QUEUE_PROTOCOL),
  version: z.string(),
  runId: z.string().min(1),
  key: z.string().min(1),
  attempt: z.number().int().min(1),
  /** The backend the run asked for; a worker with another one runs anyway and says so. */
  backend: z.string(),
  /** The shared root as the coordinator sees it; paths under it are rewritten to the worker's mount. */
  sharedRoot: z.string().min(1),
  /** The job as a local worker process receives it (executors.ts JobInput). */
  job: z.object({
    kind: z.enum(JOB_KINDS),
    payload: z.record(z.string(), z.unknown()),
    deps: z.record(z.string(), z.unknown()),
  }),
  /** What this job reads that other jobs (or the coordinator) wrote: each checked before it starts. */
  reads: z.array(ArtifactRefSchema),
});
export type QueueJobData = z.infer<typeof QueueJobDataSchema>;

export const QueueJobOutcomeSchema = z.object({
  result: z.unknown(),
  /** What the job wrote under the shared root, hashed where it wrote it. */
  wrote: z.array(ArtifactRefSchema),
  worker: WorkerInfoSchema,
});
export type QueueJobOutcome = z.infer<typeof QueueJobOutcomeSchema>;

/** A failure as a worker reports it (BullMQ keeps it as the job's failedReason, JSON). */
export const QueueFailureSchema = z.object({
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  /** The job's process died without a result: the coordinator may retry it. */
  crashed: z.boolean(),
});
export type QueueFailure = z.infer<typeof QueueFailureSchema>;

/** Redis key a coordinator sets to ask the worker running a job to stop it at a checkpoint. */
export function cancelKey(jobId: string): string {
  return `${QUEUE_PREFIX}:cancel:${jobId}`;
}

/** Redis key under which a worker announces itself (with a time to live it keeps renewing). */
export function workerKey(workerId: string): string {
  return `${QUEUE_PREFIX}:workers:${workerId}`;
}
