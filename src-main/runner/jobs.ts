/**
 * The kinds of job an audit run is made of, with the payload each executor takes and the
 * result it returns, as one discriminated union. The planner builds typed jobs, the
 * executors receive them narrowed by kind, and whatever reads a stored job (the runner's
 * recording, the results table, the report) gets its payload and result back typed through
 * `storedJob` / `jobResult`: the store keeps them as JSON, and this module is the one place
 * that says what that JSON is.
 */
import type { MetricKind } from '../../src-shared/domain/metrics';
import type { JobKind } from '../../src-shared/domain/states';
import type { RunAttackRequest, RunAttackResult } from '../engine/attacks/run-attack';
import type { CalibrateRequest } from '../engine/calibration/calibrate';
import type { VerifyResult } from '../engine/calibration/verify';
import { AuditError } from '../engine/errors';
import type { TrainModelRequest } from '../engine/training/train-model';
import type { MetricScore, VoteRule } from '../engine/verdict/verdict';
import type { JobRecord } from '../store/types';
import { JOB_KINDS } from '../../src-shared/domain/states';

export type { JobKind };

/** Trains one calibration reference: entry `index` of the references `calibrate` plans. */
export interface ReferencePayload {
  index: number;
  calibrate: CalibrateRequest;
  /** The home's artifact store: references are reused across audits (absent in runs planned before it). */
  artifacts?: string;
}

/** Reuses a stored calibration instead of building one (checked against the victim). */
export interface ReuseCalibrationPayload {
  reuse: string;
  victimDir: string;
}

export type CalibratePayload = CalibrateRequest | ReuseCalibrationPayload;

/** One suspect: the attack request plus where its row of the results table is. */
export type AttackPayload = RunAttackRequest & {
  seed: number;
  rowId: string;
  scenario: string;
  label: string;
  suspectKey: string;
};

export interface ScorePayload {
  suspectKey: string;
  victimDir: string;
  /** The suspect; when absent, the model of the attack job this score job depends on. */
  suspectDir?: string;
  dataDir: string;
  calibrationFile?: string;
  rule?: VoteRule;
  maxTest?: number;
  /** Metric ids to score on each kept checkpoint; null or absent: no checkpoint scoring. */
  checkpointMetrics?: string[] | null;
  /** Where the suspect goes in the results table. */
  rowId: string;
  scenario: string;
  seed: number;
  label: string;
  /** The attack's id. */
  attack: string;
}

export interface TrainVictimResult {
  model: string;
  testAccuracy: number;
  contentHash: string;
  arch: string;
  lineage: string;
  seconds: number;
}

export interface ReferenceResult {
  model: string;
  testAccuracy: number;
  seed: number;
}

export interface CalibrateJobResult {
  file: string;
  victimHash: string;
  metrics: { id: string; kind: MetricKind; tau: number; degenerate: boolean }[];
}

export interface CheckpointScore {
  iteration: number;
  path: string;
  accuracy: number;
  agreement: number;
  metrics: MetricScore[];
}

export interface ScoreJobResult {
  suspectKey: string;
  final: VerifyResult;
  checkpoints: CheckpointScore[];
}

/** Payload and result of every job kind. */
export interface JobTypes {
  'train-victim': { payload: TrainModelRequest; result: TrainVictimResult };
  reference: { payload: ReferencePayload; result: ReferenceResult };
  calibrate: { payload: CalibratePayload; result: CalibrateJobResult };
  attack: { payload: AttackPayload; result: RunAttackResult };
  score: { payload: ScorePayload; result: ScoreJobResult };
}

export type JobPayload<K extends JobKind> = JobTypes[K]['payload'];
export type JobResult<K extends JobKind> = JobTypes[K]['result'];
/** The result of a job of any kind. */
export type AnyJobResult = JobResult<JobKind>;

/** A job narrowed by its kind: `switch (job.kind)` types the payload. */
export type TypedJob = { [K in JobKind]: { kind: K; payload: JobPayload<K> } }[JobKind];

function isJobKind(kind: string): kind is JobKind {
  return (JOB_KINDS as readonly string[]).includes(kind);
}

/** INVALID_ARGUMENT for a job kind this version does not know (a job planned by another version). */
export function unknownJobKind(kind: string): AuditError {
  return new AuditError('INVALID_ARGUMENT', `Unknown job kind "${kind}"`, {
    hint: 'The run was planned by another version of Ownership Audit; start a new run.',
  });
}

/** A stored job as the typed job it was planned as (INVALID_ARGUMENT for a kind this version does not know). */
export function storedJob(record: Pick<JobRecord, 'kind' | 'payload'>): TypedJob {
  if (!isJobKind(record.kind)) throw unknownJobKind(record.kind);
  // The store returns the JSON the planner wrote for this kind.
  return { kind: record.kind, payload: record.payload } as TypedJob;
}

/** The payload of a stored job of the given kind; undefined when the record is of another kind. */
export function jobPayload<K extends JobKind>(record: JobRecord | undefined, kind: K): JobPayload<K> | undefined {
  return record?.kind === kind ? (record.payload as JobPayload<K>) : undefined;
}

/** The result of a finished job of the given kind; undefined when absent, unfinished or of another kind. */
export function jobResult<K extends JobKind>(record: JobRecord | undefined, kind: K): JobResult<K> | undefined {
  return record?.kind === kind && record.status === 'done'
    ? ((record.result as JobResult<K> | null) ?? undefined)
    : undefined;
}

/** The stored result of a dependency, as the job that depends on it receives it. */
export function storedResult(record: JobRecord | undefined): AnyJobResult | undefined {
  return record?.status === 'done' ? ((record.result as AnyJobResult | null) ?? undefined) : undefined;
}

/** What a worker sent back for a job of this kind (JSON from the executor of that kind). */
export function workerResult<K extends JobKind>(_kind: K, result: unknown): JobResult<K> {
  return result as JobResult<K>;
}

/** The kind of a stored job (INVALID_ARGUMENT for a kind this version does not know). */
export function jobKindOf(record: Pick<JobRecord, 'kind' | 'payload'>): JobKind {
  return storedJob(record).kind;
}
