/**
 * Typed errors for everything a user can cause (a bad file, a wrong shape, a NaN loss).
 * Each carries a stable `code` for the UI and the CLI, the offending `path` where there is
 * one, and a `hint` that says what to do next.
 */
import type { AuditErrorCode } from '../../src-shared/domain/errors';

export type { AuditErrorCode };

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
