/**
 * Migration 5: every job's loss curves (issue 20). The runner streams losses while a job
 * trains; until now only the open window kept them, so a finished run opened from History
 * had none. One row per (run, job, series, iteration); a retried job overwrites its points.
 * Landed; never edit it (add a new migration instead).
 */
import type { Migration } from './types';

export const migration005: Migration = {
  version: 5,
  name: 'job loss curves',
  up(db) {
    db.exec(`
      CREATE TABLE loss_points (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        job_key TEXT NOT NULL,
        series TEXT NOT NULL,
        iteration INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (run_id, job_key, series, iteration)
      ) WITHOUT ROWID;
    `);
  },
};
