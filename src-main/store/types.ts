/**
 * What the rest of the main side sees of the store: records and the operations the job
 * runner, the CLI and (later) the app need. The better-sqlite3 implementation lives in
 * `store.ts`; files on disk (models, calibrations, checkpoints) are referenced by path and
 * content hash, never copied into the database.
 */
import type { RunStatus } from '../../src-shared/audit/results';

import type { JobStatus } from '../../src-shared/domain/states';
import type { Claim, ClaimRequest } from './claim';

export type { JobStatus, Claim, ClaimRequest };

export interface RunRecord {
  id: string;
  name: string;
  /** The audit spec as given (JSON), stored with the run. */
  spec: unknown;
  /** sha256 of the canonical spec JSON: `run SPEC.json` again finds the unfinished run. */
  specHash: string;
  status: RunStatus;
  backend: string;
  /** Versions of the app, tfjs and node at creation. */
  versions: Record<string, string>;
  workDir: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Wall seconds summed over every session that worked on the run. */
  wallSeconds: number;
  /** Process that currently drives the run (null when none). */
  ownerPid: number | null;
  error: string | null;
  /** A run driven through a queue: its URL (password removed), shared location and input hashes; null when local. */
  distributed: unknown;
}

export interface NewJob {
  key: string;
  kind: string;
  label: string;
  deps: string[];
  payload: unknown;
  weight: number;
}

export interface JobRecord extends NewJob {
  runId: string;
  status: JobStatus;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** The executor's JSON result once done. */
  result: unknown;
  /** Last progress event (JSON), for monitors. */
  progress: unknown;
  /** The queue worker that ran it (host, backend, version); null for a local worker. */
  ranOn: unknown;
  /** Hashes of what it wrote to a distributed run's shared location; null for a local run. */
  outputs: unknown;
}

export interface LossPoint {
  series: string;
  iteration: number;
  value: number;
}

export interface CalibrationRecord {
  id: string;
  createdAt: string;
  /** Path of the calibration JSON document (fingerprints beside it). */
  filePath: string;
  victimHash: string;
  /** The calibration document as written by `calibrate`, imported as is. */
  document: unknown;
  /** Run that built it, when a run did. */
  runId: string | null;
}

/** One metric value of one suspect, at the end (iteration null) or at a checkpoint. */
export interface MetricValue {
  runId: string;
  suspectKey: string;
  iteration: number | null;
  metricId: string;
  value: number | null;
  tau: number | null;
  flagged: boolean | null;
  normalized: number | null;
}

export interface SuspectRecord {
  runId: string;
  /** The attack job's key. */
  key: string;
  rowId: string;
  attack: string;
  label: string;
  scenario: string;
  seed: number;
  modelPath: string;
  modelHash: string;
  accuracy: number;
  agreement: number;
  victimAccuracy: number;
  derived: boolean | null;
  votes: number | null;
  of: number | null;
  seconds: number;
  passes: number;
  iterations: number;
}

export interface CurvePoint {
  runId: string;
  suspectKey: string;
  iteration: number;
  fidelity: number;
  agreement: number;
}

export interface CheckpointRecord {
  runId: string;
  suspectKey: string;
  iteration: number;
  path: string;
}

export interface ReportRecord {
  id: number;
  runId: string;
  format: string;
  path: string;
  createdAt: string;
}

export interface AuditStore {
  readonly path: string;
  close(): void;
  schemaVersion(): number;
  /**
   * Runs `fn` in one (nestable) IMMEDIATE transaction: several store calls commit together
   * or not at all, and the write lock is taken first, so another process's writer is waited
   * for (busy_timeout) instead of failing the first write with SQLITE_BUSY.
   */
  transaction<T>(fn: () => T): T;
  /** `PRAGMA integrity_check` result: 'ok' when healthy. */
  integrityCheck(): string;

  createRun(
    r: Pick<RunRecord, 'name' | 'spec' | 'specHash' | 'backend' | 'versions'> & { id?: string; workDir?: string },
  ): RunRecord;
  getRun(id: string): RunRecord | undefined;
  listRuns(filter?: { status?: RunStatus; name?: string; limit?: number }): RunRecord[];
  /** The newest run with this spec hash that is not completed (to resume it). */
  findResumableRun(specHash: string): RunRecord | undefined;
  updateRun(
    id: string,
    patch: Partial<
      Pick<
        RunRecord,
        | 'status'
        | 'backend'
        | 'startedAt'
        | 'finishedAt'
        | 'wallSeconds'
        | 'ownerPid'
        | 'error'
        | 'workDir'
        | 'distributed'
      >
    >,
  ): void;
  /**
   * Finds (by id, or the resumable run of a spec hash unless `fresh`) or creates the run and
   * claims it for `pid`, in one IMMEDIATE transaction: of two processes claiming at once,
   * exactly one gets the run; the other gets RUN_BUSY and nothing is written.
   */
  claimRun(req: ClaimRequest): Claim;
  /** The owner's heartbeat; false when `pid` no longer owns the run. */
  heartbeatRun(id: string, pid: number): boolean;
  /** Deletes the run and everything recorded for it (jobs, suspects, metrics, curves, checkpoints, reports). */
  deleteRun(id: string): boolean;

  insertJobs(runId: string, jobs: NewJob[]): void;
  listJobs(runId: string): JobRecord[];
  getJob(runId: string, key: string): JobRecord | undefined;
  updateJob(
    runId: string,
    key: string,
    patch: Partial<
      Pick<
        JobRecord,
        | 'status'
        | 'attempts'
        | 'startedAt'
        | 'finishedAt'
        | 'seconds'
        | 'errorCode'
        | 'errorMessage'
        | 'result'
        | 'progress'
        | 'ranOn'
        | 'outputs'
      >
    >,
  ): void;
  /** Jobs left 'running' by a dead process go back to 'pending' (their checkpoints stay). Returns how many. */
  resetInterruptedJobs(runId: string): number;

  importCalibration(c: {
    filePath: string;
    document: unknown;
    victimHash: string;
    runId?: string | null;
    id?: string;
  }): CalibrationRecord;
  getCalibration(id: string): CalibrationRecord | undefined;
  listCalibrations(): CalibrationRecord[];

  /** Records a finished suspect with its final metric values, curve and checkpoints in one transaction (replacing earlier ones for the same key). */
  recordSuspect(
    s: SuspectRecord,
    metrics: Omit<MetricValue, 'runId' | 'suspectKey'>[],
    curve: Omit<CurvePoint, 'runId' | 'suspectKey'>[],
    checkpoints: Omit<CheckpointRecord, 'runId' | 'suspectKey'>[],
  ): void;
  listSuspects(runId: string): SuspectRecord[];
  listMetricValues(runId: string, suspectKey?: string): MetricValue[];
  listCurve(runId: string, suspectKey: string): CurvePoint[];
  listCheckpoints(runId: string, suspectKey: string): CheckpointRecord[];

  /** Loss points a job streamed (series such as 'loss', 'ce'); a retried job overwrites its own. */
  addLossPoints(runId: string, jobKey: string, points: readonly LossPoint[]): void;
  /** job key -> series -> [iteration, value] in iteration order. */
  lossCurves(runId: string): Record<string, Record<string, [number, number][]>>;

  addReport(r: Omit<ReportRecord, 'id' | 'createdAt'>): ReportRecord;
  listReports(runId: string): ReportRecord[];
}
