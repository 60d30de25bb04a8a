/**
 * Database rows (snake_case, JSON as text, booleans as 0/1) and their mapping to the
 * records of `types.ts`. Kept apart from the queries so each mapping is read in one place.
 */
import type { RunStatus } from '../../src-shared/audit/results';
import type {
  CalibrationRecord,
  CheckpointRecord,
  CurvePoint,
  JobRecord,
  JobStatus,
  MetricValue,
  ReportRecord,
  RunRecord,
  SuspectRecord,
} from './types';

/** A calibration's fingerprint set, as imported from its `defenses` entry. */
export interface FingerprintSetRecord {
  calibrationId: string;
  defense: string;
  /** `fingerprintsFile` as written in the calibration document. */
  path: string;
  contentHash: string;
  params: Record<string, unknown>;
}

/** JSON text for a column; `undefined` (which JSON.stringify drops) is stored as JSON null. */
export function toJson(v: unknown): string {
  return JSON.stringify(v) ?? 'null';
}

export function fromJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

export function toBit(b: boolean | null): 0 | 1 | null {
  return b === null ? null : b ? 1 : 0;
}

function fromBit(b: number | null): boolean | null {
  return b === null ? null : b !== 0;
}

export interface RunRow {
  id: string;
  name: string;
  spec_json: string;
  spec_hash: string;
  status: string;
  backend: string;
  versions_json: string;
  work_dir: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  wall_seconds: number;
  owner_pid: number | null;
  error: string | null;
  distributed_json: string | null;
}

export function runFromRow(r: RunRow): RunRecord {
  return {
    id: r.id,
    name: r.name,
    spec: fromJson(r.spec_json),
    specHash: r.spec_hash,
    // The CHECK constraint keeps the column to RunStatus values.
    status: r.status as RunStatus,
    backend: r.backend,
    versions: fromJson(r.versions_json) as Record<string, string>,
    workDir: r.work_dir,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    wallSeconds: r.wall_seconds,
    ownerPid: r.owner_pid,
    error: r.error,
    distributed: fromJson(r.distributed_json),
  };
}

export interface JobRow {
  run_id: string;
  key: string;
  kind: string;
  label: string;
  deps_json: string;
  payload_json: string;
  weight: number;
  status: string;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  seconds: number | null;
  error_code: string | null;
  error_message: string | null;
  result_json: string | null;
  progress_json: string | null;
  ran_on_json: string | null;
  outputs_json: string | null;
}

export function jobFromRow(r: JobRow): JobRecord {
  return {
    runId: r.run_id,
    key: r.key,
    kind: r.kind,
    label: r.label,
    deps: fromJson(r.deps_json) as string[],
    payload: fromJson(r.payload_json),
    weight: r.weight,
    status: r.status as JobStatus,
    attempts: r.attempts,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    seconds: r.seconds,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    result: fromJson(r.result_json),
    progress: fromJson(r.progress_json),
    ranOn: fromJson(r.ran_on_json),
    outputs: fromJson(r.outputs_json),
  };
}

export interface CalibrationRow {
  id: string;
  created_at: string;
  file_path: string;
  victim_hash: string;
  document_json: string;
  run_id: string | null;
}

export function calibrationFromRow(r: CalibrationRow): CalibrationRecord {
  return {
    id: r.id,
    createdAt: r.created_at,
    filePath: r.file_path,
    victimHash: r.victim_hash,
    document: fromJson(r.document_json),
    runId: r.run_id,
  };
}

export interface FingerprintSetRow {
  calibration_id: string;
  defense: string;
  path: string;
  content_hash: string;
  params_json: string;
}

export function fingerprintSetFromRow(r: FingerprintSetRow): FingerprintSetRecord {
  return {
    calibrationId: r.calibration_id,
    defense: r.defense,
    path: r.path,
    contentHash: r.content_hash,
    params: fromJson(r.params_json) as Record<string, unknown>,
  };
}

export interface SuspectRow {
  run_id: string;
  key: string;
  row_id: string;
  attack: string;
  label: string;
  scenario: string;
  seed: number;
  model_path: string;
  model_hash: string;
  accuracy: number;
  agreement: number;
  victim_accuracy: number;
  derived: number | null;
  votes: number | null;
  votes_of: number | null;
  seconds: number;
  passes: number;
  iterations: number;
}

export function suspectToRow(s: SuspectRecord): SuspectRow {
  return {
    run_id: s.runId,
    key: s.key,
    row_id: s.rowId,
    attack: s.attack,
    label: s.label,
    scenario: s.scenario,
    seed: s.seed,
    model_path: s.modelPath,
    model_hash: s.modelHash,
    accuracy: s.accuracy,
    agreement: s.agreement,
    victim_accuracy: s.victimAccuracy,
    derived: toBit(s.derived),
    votes: s.votes,
    votes_of: s.of,
    seconds: s.seconds,
    passes: s.passes,
    iterations: s.iterations,
  };
}

export function suspectFromRow(r: SuspectRow): SuspectRecord {
  return {
    runId: r.run_id,
    key: r.key,
    rowId: r.row_id,
    attack: r.attack,
    label: r.label,
    scenario: r.scenario,
    seed: r.seed,
    modelPath: r.model_path,
    modelHash: r.model_hash,
    accuracy: r.accuracy,
    agreement: r.agreement,
    victimAccuracy: r.victim_accuracy,
    derived: fromBit(r.derived),
    votes: r.votes,
    of: r.votes_of,
    seconds: r.seconds,
    passes: r.passes,
    iterations: r.iterations,
  };
}

export interface MetricValueRow {
  run_id: string;
  suspect_key: string;
  iteration: number | null;
  metric_id: string;
  value: number | null;
  tau: number | null;
  flagged: number | null;
  normalized: number | null;
}

export function metricValueFromRow(r: MetricValueRow): MetricValue {
  return {
    runId: r.run_id,
    suspectKey: r.suspect_key,
    iteration: r.iteration,
    metricId: r.metric_id,
    value: r.value,
    tau: r.tau,
    flagged: fromBit(r.flagged),
    normalized: r.normalized,
  };
}

export interface CurveRow {
  run_id: string;
  suspect_key: string;
  iteration: number;
  fidelity: number;
  agreement: number;
}

export function curveFromRow(r: CurveRow): CurvePoint {
  return {
    runId: r.run_id,
    suspectKey: r.suspect_key,
    iteration: r.iteration,
    fidelity: r.fidelity,
    agreement: r.agreement,
  };
}

export interface CheckpointRow {
  run_id: string;
  suspect_key: string;
  iteration: number;
  path: string;
}

export function checkpointFromRow(r: CheckpointRow): CheckpointRecord {
  return { runId: r.run_id, suspectKey: r.suspect_key, iteration: r.iteration, path: r.path };
}

export interface ReportRow {
  id: number;
  run_id: string;
  format: string;
  path: string;
  created_at: string;
}

export function reportFromRow(r: ReportRow): ReportRecord {
  return { id: r.id, runId: r.run_id, format: r.format, path: r.path, createdAt: r.created_at };
}
