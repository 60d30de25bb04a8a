/**
 * Migration 1: the initial schema. Landed; never edit it (add a new migration instead).
 */
import type { Migration } from './types';

const RUN_STATUSES = `'pending','running','paused','cancelled','failed','completed'`;
const JOB_STATUSES = `'pending','running','done','failed','cancelled'`;

export const migration001: Migration = {
  version: 1,
  name: 'initial schema',
  up(db) {
    db.exec(`
        CREATE TABLE models (
          id INTEGER PRIMARY KEY,
          path TEXT NOT NULL,
          content_hash TEXT NOT NULL UNIQUE,
          arch TEXT NOT NULL,
          lineage TEXT NOT NULL,
          metrics_json TEXT NOT NULL,
          created_at TEXT NOT NULL
        );

        CREATE TABLE datasets (
          id INTEGER PRIMARY KEY,
          source TEXT NOT NULL,
          content_hash TEXT NOT NULL UNIQUE,
          splits_json TEXT NOT NULL
        );

        CREATE TABLE runs (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          spec_json TEXT NOT NULL,
          spec_hash TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN (${RUN_STATUSES})),
          backend TEXT NOT NULL,
          versions_json TEXT NOT NULL,
          work_dir TEXT NOT NULL,
          created_at TEXT NOT NULL,
          started_at TEXT,
          finished_at TEXT,
          wall_seconds REAL NOT NULL DEFAULT 0,
          owner_pid INTEGER,
          error TEXT
        );

        -- A calibration outlives the run that built it (other specs reuse it by id), so
        -- deleting that run only forgets the link.
        CREATE TABLE calibrations (
          id TEXT PRIMARY KEY,
          created_at TEXT NOT NULL,
          file_path TEXT NOT NULL,
          victim_hash TEXT NOT NULL,
          document_json TEXT NOT NULL,
          run_id TEXT REFERENCES runs(id) ON DELETE SET NULL
        );
        CREATE INDEX calibrations_run_id ON calibrations(run_id);

        CREATE TABLE fingerprint_sets (
          id INTEGER PRIMARY KEY,
          calibration_id TEXT NOT NULL REFERENCES calibrations(id) ON DELETE CASCADE,
          defense TEXT NOT NULL,
          path TEXT NOT NULL,
          content_hash TEXT NOT NULL,
          params_json TEXT NOT NULL,
          UNIQUE (calibration_id, defense)
        );

        CREATE TABLE jobs (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          key TEXT NOT NULL,
          kind TEXT NOT NULL,
          label TEXT NOT NULL,
          deps_json TEXT NOT NULL,
          payload_json TEXT NOT NULL,
          weight REAL NOT NULL,
          status TEXT NOT NULL CHECK (status IN (${JOB_STATUSES})),
          attempts INTEGER NOT NULL DEFAULT 0,
          started_at TEXT,
          finished_at TEXT,
          seconds REAL,
          error_code TEXT,
          error_message TEXT,
          result_json TEXT,
          progress_json TEXT,
          PRIMARY KEY (run_id, key)
        );
        CREATE INDEX jobs_run_id_status ON jobs(run_id, status);

        CREATE TABLE suspects (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          key TEXT NOT NULL,
          row_id TEXT NOT NULL,
          attack TEXT NOT NULL,
          label TEXT NOT NULL,
          scenario TEXT NOT NULL,
          seed INTEGER NOT NULL,
          model_path TEXT NOT NULL,
          model_hash TEXT NOT NULL,
          accuracy REAL NOT NULL,
          agreement REAL NOT NULL,
          victim_accuracy REAL NOT NULL,
          derived INTEGER,
          votes INTEGER,
          votes_of INTEGER,
          seconds REAL NOT NULL,
          passes REAL NOT NULL,
          iterations INTEGER NOT NULL,
          PRIMARY KEY (run_id, key)
        );
        CREATE INDEX suspects_run_id_row ON suspects(run_id, row_id);

        -- iteration is NULL for the final value, so it cannot be part of a key (NULLs are
        -- distinct in SQLite keys); recordSuspect replaces a suspect's rows as a whole.
        CREATE TABLE metric_values (
          id INTEGER PRIMARY KEY,
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          suspect_key TEXT NOT NULL,
          iteration INTEGER,
          metric_id TEXT NOT NULL,
          value REAL,
          tau REAL,
          flagged INTEGER,
          normalized REAL
        );
        CREATE INDEX metric_values_run_id_suspect ON metric_values(run_id, suspect_key);

        CREATE TABLE curves (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          suspect_key TEXT NOT NULL,
          iteration INTEGER NOT NULL,
          fidelity REAL NOT NULL,
          agreement REAL NOT NULL,
          PRIMARY KEY (run_id, suspect_key, iteration)
        );

        CREATE TABLE checkpoints (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          suspect_key TEXT NOT NULL,
          iteration INTEGER NOT NULL,
          path TEXT NOT NULL,
          PRIMARY KEY (run_id, suspect_key, iteration)
        );
      `);
  },
};
