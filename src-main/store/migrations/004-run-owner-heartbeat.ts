/**
 * Migration 4: the owner's heartbeat on a run. A run is claimed by one process (owner_pid);
 * the owner refreshes owner_heartbeat_at every few seconds, so a claim whose owner died, or
 * whose pid now belongs to an unrelated process, can be told from a live one by its age.
 * Landed; never edit it (add a new migration instead).
 */
import type { Migration } from './types';

export const migration004: Migration = {
  version: 4,
  name: 'run owner heartbeat',
  up(db) {
    db.exec(`ALTER TABLE runs ADD COLUMN owner_heartbeat_at TEXT;`);
  },
};
