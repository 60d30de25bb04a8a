/**
 * Migration 2: the reports table and the index behind `findResumableRun`. Landed; never
 * edit it (add a new migration instead).
 */
import type { Migration } from './types';

export const migration002: Migration = {
  version: 2,
  name: 'reports; resumable-run lookup index',
  up(db) {
    db.exec(`
        CREATE TABLE reports (
          id INTEGER PRIMARY KEY,
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          format TEXT NOT NULL,
          path TEXT NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE INDEX reports_run_id ON reports(run_id);
        -- findResumableRun: spec hash + "not completed", newest first.
        CREATE INDEX runs_spec_hash_status ON runs(spec_hash, status);
      `);
  },
};
