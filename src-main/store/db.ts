/**
 * What the store's query modules (runs.ts, jobs.ts, calibrations.ts, suspects.ts,
 * reports.ts) run on, and the small SQL helpers they share. `SqliteAuditStore` owns the
 * connection and hands each call its `Db`.
 */
import Database from 'better-sqlite3';
import { toJson } from './rows';

/** The part of a store's connection a query needs. */
export interface Db {
  /** The database file (for error messages and the default run folders). */
  readonly path: string;
  /** A cached prepared statement: each distinct SQL text is compiled once per connection. */
  stmt(sql: string): Database.Statement;
  /** Runs `fn` in one (nestable) IMMEDIATE transaction: the write lock is taken before the first read. */
  transaction<T>(fn: () => T): T;
}

export const now = (): string => new Date().toISOString();

export function sqliteCode(e: unknown): string | undefined {
  return e instanceof Database.SqliteError ? e.code : undefined;
}

/** `SET a = @a, b = @b` and its parameters for the defined fields of a patch. */
export function setClause(
  patch: object,
  columns: Record<string, string>,
  jsonFields: Set<string> = new Set(),
): { sql: string; params: Record<string, unknown> } {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    const column = columns[field];
    if (column === undefined || value === undefined) continue;
    parts.push(`${column} = @${column}`);
    params[column] = jsonFields.has(field) ? toJson(value) : value;
  }
  return { sql: parts.join(', '), params };
}
