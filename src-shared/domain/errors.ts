/**
 * Every error code a user can meet, in one list: the engine's (a bad file, a wrong shape, a
 * NaN loss, a busy run...) and those of the API layer itself. The CLI prints them, the API
 * carries them in `ApiError.code`, the workbench and scripts branch on them.
 */
export const AUDIT_ERROR_CODES = [
  'DATASET_NOT_FOUND',
  'DATASET_FORMAT',
  'DATASET_CORRUPT',
  'DATASET_MISMATCH',
  'MODEL_NOT_FOUND',
  'MODEL_FORMAT',
  'MODEL_UNKNOWN_LAYER',
  'MODEL_WEIGHTS',
  'MODEL_SHAPE',
  'MODEL_NOT_FINITE',
  'MODEL_NOT_CLASSIFIER',
  'UNKNOWN_ARCH',
  'UNKNOWN_BLOCK',
  'INVALID_ARGUMENT',
  'BACKEND_UNAVAILABLE',
  'TRAINING_DIVERGED',
  'CANCELLED',
  'CHECKPOINT',
  'MODEL_WRITE',
  'CALIBRATION_MISMATCH',
  /** A calibration changed after it was written: its content hash or its signature does not match. */
  'CALIBRATION_TAMPERED',
  'NOT_APPLICABLE',
  'NON_FINITE_OUTPUT',
  'STORE_VERSION',
  'STORE_CORRUPT',
  'STORE_NOT_FOUND',
  'SPEC_INVALID',
  'RUN_NOT_FOUND',
  'RUN_BUSY',
  'WORKER_CRASHED',
  'DEPENDENCY_FAILED',
  'CHROMIUM_NOT_FOUND',
  /** A path through the API outside the read roots, or an export outside the exports folder or a granted one. */
  'PATH_NOT_ALLOWED',
  /** An evidence bundle whose files, hashes or recomputed values do not match what it states. */
  'EVIDENCE_MISMATCH',
  /** Recorded answers (verify --responses) that do not fit the queries: missing sets, shapes, values. */
  'RESPONSES_INVALID',
  /** `--queue`: Redis cannot be reached, or refused the password. */
  'QUEUE_UNREACHABLE',
  /** A queued job from a coordinator of another version (or another queue protocol). */
  'QUEUE_VERSION',
  /** A file another job wrote to the shared location does not match the hash recorded when it was written. */
  'ARTIFACT_MISMATCH',
] as const;
export type AuditErrorCode = (typeof AUDIT_ERROR_CODES)[number];

/** Failures that belong to the API layer itself (a method or state the engine does not know). */
export const API_ONLY_ERROR_CODES = [
  'UNKNOWN_METHOD',
  'NOT_AVAILABLE',
  'RUN_NOT_ACTIVE',
  'FORBIDDEN',
  'INTERNAL',
] as const;
export type ApiOnlyErrorCode = (typeof API_ONLY_ERROR_CODES)[number];

export type ErrorCode = AuditErrorCode | ApiOnlyErrorCode;
