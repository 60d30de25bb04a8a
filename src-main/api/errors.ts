/**
 * Errors as they cross the API boundary: every failure becomes an `ApiError` value with a
 * stable code, a message and a hint (what to do next). Nothing thrown on the main side
 * reaches a transport as an exception.
 */
import type { ApiError, Result } from '../../src-shared/contract/api';
import type { ErrorCode } from '../../src-shared/domain/errors';
import { AuditError, isAuditError } from '../engine/errors';

/** Codes the API layer raises: its own (src-shared/domain/errors.ts) and the engine's it re-raises. */
export type ApiErrorCode = ErrorCode;

/** An error the API layer raises on purpose (the engine's own errors are AuditErrors; a child's typed error keeps its code). */
export class ApiFailure extends Error {
  constructor(
    readonly code: ApiErrorCode | (string & {}),
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export function toApiError(e: unknown): ApiError {
  if (isAuditError(e)) return { code: e.code, message: e.message, hint: e.hint };
  if (e instanceof ApiFailure) return { code: e.code, message: e.message, hint: e.hint };
  const message = e instanceof Error ? e.message : String(e);
  return {
    code: 'INTERNAL',
    message,
    hint: 'This is a bug in Ownership Audit; the message above says where it happened.',
  };
}

export function failed<T = never>(code: string, message: string, hint: string): Result<T> {
  return { ok: false, error: { code, message, hint } };
}

/**
 * The value as it would arrive over JSON (non-finite numbers become null, undefined fields
 * vanish), so IPC's structured clone and the browser mode's JSON carry the same data.
 */
export function jsonNormalized<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/**
 * A JSON parser's message quotes the text it choked on, and through the API that would hand
 * a file's first characters to the caller: keep only that the file is not valid JSON.
 */
export function withoutFileContents(e: unknown): unknown {
  if (!isAuditError(e) || !/Invalid JSON/.test(e.message)) return e;
  const message = e.message.replace(/Invalid JSON:[\s\S]*$/, 'Invalid JSON');
  // AuditError appends the path again, as the original did.
  return new AuditError(e.code, message, { hint: e.hint, path: e.path });
}
