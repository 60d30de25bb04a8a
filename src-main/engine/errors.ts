/**
 * Typed errors for everything a user can cause (a bad file, a wrong shape, a NaN loss).
 * Each carries a stable `code` for the UI and the CLI, the offending `path` where there is
 * one, and a `hint` that says what to do next.
 */
export type AuditErrorCode =
  | 'DATASET_NOT_FOUND'
  | 'DATASET_FORMAT'
  | 'DATASET_CORRUPT'
  | 'DATASET_MISMATCH'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_FORMAT'
  | 'MODEL_UNKNOWN_LAYER'
  | 'MODEL_WEIGHTS'
  | 'MODEL_SHAPE'
  | 'MODEL_NOT_FINITE'
  | 'MODEL_NOT_CLASSIFIER'
  | 'UNKNOWN_ARCH'
  | 'UNKNOWN_BLOCK'
  | 'INVALID_ARGUMENT'
  | 'BACKEND_UNAVAILABLE'
  | 'TRAINING_DIVERGED'
  | 'CANCELLED'
  | 'CHECKPOINT'
  | 'MODEL_WRITE'
  | 'CALIBRATION_MISMATCH'
  | 'NOT_APPLICABLE'
  | 'NON_FINITE_OUTPUT'
  | 'STORE_VERSION'
  | 'STORE_CORRUPT'
  | 'STORE_NOT_FOUND'
  | 'SPEC_INVALID'
  | 'RUN_NOT_FOUND'
  | 'RUN_BUSY'
  | 'WORKER_CRASHED'
  | 'DEPENDENCY_FAILED'
  | 'CHROMIUM_NOT_FOUND';

export class AuditError extends Error {
  readonly code: AuditErrorCode;
  readonly hint: string;
  readonly path?: string;

  constructor(code: AuditErrorCode, message: string, opts: { hint: string; path?: string; cause?: unknown }) {
    super(opts.path ? `${message} (${opts.path})` : message, { cause: opts.cause });
    this.name = 'AuditError';
    this.code = code;
    this.hint = opts.hint;
    this.path = opts.path;
  }

  /** A plain object for JSON output and for crossing process boundaries. */
  toJSON(): { code: AuditErrorCode; message: string; hint: string; path?: string } {
    return { code: this.code, message: this.message, hint: this.hint, path: this.path };
  }
}

export function isAuditError(e: unknown): e is AuditError {
  return e instanceof AuditError;
}
