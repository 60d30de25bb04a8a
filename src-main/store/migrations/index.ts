/**
 * Schema migrations, numbered from 1 and tracked in `PRAGMA user_version` (0 = empty
 * database). Each runs in its own IMMEDIATE transaction together with the version bump,
 * so a crash leaves the database at the previous version, never half-migrated, and two
 * processes opening a fresh database at once do not both apply the same migration (the
 * second waits on the write lock, then sees the new version and skips).
 *
 * One migration per file (`NNN-what-it-does.ts`), numbered in landing order and listed
 * below. Never edit a released migration: add a new one. Tests pin what each one creates.
 */
import type Database from 'better-sqlite3';
import { migration001 } from './001-initial-schema';
import { migration002 } from './002-reports-resumable-run-index';
import { migration003 } from './003-drop-models-datasets';
import { migration004 } from './004-run-owner-heartbeat';
import { migration005 } from './005-job-loss-curves';
import { migration006 } from './006-distributed-runs';
import type { Migration } from './types';

export type { Migration } from './types';

/** Every migration, in landing order (one file each, numbered as they landed). */
export const MIGRATIONS: readonly Migration[] = [
  migration001,
  migration002,
  migration003,
  migration004,
  migration005,
  migration006,
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies every migration above the database's version, up to `target` (default: all).
 * Returns the versions applied. The caller checks first that the database is not newer
 * than the code.
 */
export function migrate(db: Database.Database, target: number = LATEST_VERSION): number[] {
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version > target) break;
    const apply = db.transaction(() => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      if (userVersion(db) >= m.version) return false;
      m.up(db);
      // user_version is part of the database header, so this write commits or rolls
      // back with the migration itself.
      db.pragma(`user_version = ${m.version}`);
      return true;
    });
    if (apply.immediate()) applied.push(m.version);
  }
  return applied;
}
