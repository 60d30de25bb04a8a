/**
 * CLI output conventions: with --json, stdout carries exactly one JSON object (the result
 * or `{ "error": ... }`); progress and human-readable text go to stderr, so the JSON can be
 * piped. User errors (AuditError) exit with 2, other failures with 1, cancellation with 130.
 */
import { isAuditError } from '../engine/errors';

export interface OutputMode {
  json: boolean;
}

export function emit(mode: OutputMode, result: object, human: () => string): void {
  if (mode.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${human()}\n`);
}

export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function fail(mode: OutputMode, e: unknown): never {
  if (isAuditError(e)) {
    if (mode.json) process.stdout.write(`${JSON.stringify({ error: e.toJSON() })}\n`);
    process.stderr.write(`error [${e.code}]: ${e.message}\n  what to do: ${e.hint}\n`);
    process.exit(e.code === 'CANCELLED' ? 130 : 2);
  }
  const err = e instanceof Error ? e : new Error(String(e));
  if (mode.json) process.stdout.write(`${JSON.stringify({ error: { code: 'INTERNAL', message: err.message } })}\n`);
  process.stderr.write(`internal error: ${err.stack ?? err.message}\n`);
  process.exit(1);
}
