import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { AuditError } from '../../src-main/engine/errors';
import { LATEST_VERSION, MIGRATIONS, migrate, openStore, userVersion, type Migration } from '../../src-main/store';
import { useTempDirs } from './helpers';

const { dir, track } = useTempDirs();

function tables(db: Database.Database): string[] {
  return (
    db
      .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
      .all() as { name: string }[]
  ).map((r) => r.name);
}

function columns(db: Database.Database, table: string): string[] {
  return (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
}

function indexColumns(db: Database.Database, index: string): string[] {
  return (db.pragma(`index_info(${index})`) as { name: string }[]).map((c) => c.name);
}

function foreignKeys(db: Database.Database, table: string): { table: string; from: string; on_delete: string }[] {
  return (db.pragma(`foreign_key_list(${table})`) as { table: string; from: string; on_delete: string }[]).map(
    ({ table: t, from, on_delete }) => ({ table: t, from, on_delete }),
  );
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof AuditError ? e.code : `not an AuditError: ${String(e)}`;
  }
  return undefined;
}

const V1_COLUMNS: Record<string, string[]> = {
  models: ['id', 'path', 'content_hash', 'arch', 'lineage', 'metrics_json', 'created_at'],
  datasets: ['id', 'source', 'content_hash', 'splits_json'],
  runs: [
    'id',
    'name',
    'spec_json',
    'spec_hash',
    'status',
    'backend',
    'versions_json',
    'work_dir',
    'created_at',
    'started_at',
    'finished_at',
    'wall_seconds',
    'owner_pid',
    'error',
  ],
  calibrations: ['id', 'created_at', 'file_path', 'victim_hash', 'document_json', 'run_id'],
  fingerprint_sets: ['id', 'calibration_id', 'defense', 'path', 'content_hash', 'params_json'],
  jobs: [
    'run_id',
    'key',
    'kind',
    'label',
    'deps_json',
    'payload_json',
    'weight',
    'status',
    'attempts',
    'started_at',
    'finished_at',
    'seconds',
    'error_code',
    'error_message',
    'result_json',
    'progress_json',
  ],
  suspects: [
    'run_id',
    'key',
    'row_id',
    'attack',
    'label',
    'scenario',
    'seed',
    'model_path',
    'model_hash',
    'accuracy',
    'agreement',
    'victim_accuracy',
    'derived',
    'votes',
    'votes_of',
    'seconds',
    'passes',
    'iterations',
  ],
  metric_values: ['id', 'run_id', 'suspect_key', 'iteration', 'metric_id', 'value', 'tau', 'flagged', 'normalized'],
  curves: ['run_id', 'suspect_key', 'iteration', 'fidelity', 'agreement'],
  checkpoints: ['run_id', 'suspect_key', 'iteration', 'path'],
};

describe('migrations', () => {
  it('are numbered 1, 2, ... and the latest is 6', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(LATEST_VERSION).toBe(6);
  });

  it('live one per file, NNN-what-it-does.ts, listed in the order of their numbers', async () => {
    const folder = fileURLToPath(new URL('../../src-main/store/migrations/', import.meta.url));
    const files = readdirSync(folder)
      .filter((f) => /^\d{3}-[a-z0-9-]+\.ts$/.test(f))
      .sort();
    expect(files.length).toBe(MIGRATIONS.length);
    for (const [i, file] of files.entries()) {
      const exported = Object.values(await import(path.join(folder, file))) as Migration[];
      expect(exported, file).toEqual([MIGRATIONS[i]]);
      expect(MIGRATIONS[i].version, file).toBe(Number(file.slice(0, 3)));
    }
  });

  it('migration 1 creates exactly the initial tables, columns, keys and run_id indices', () => {
    const db = new Database(':memory:');
    expect(userVersion(db)).toBe(0);
    expect(migrate(db, 1)).toEqual([1]);
    expect(userVersion(db)).toBe(1);
    expect(tables(db)).toEqual(Object.keys(V1_COLUMNS).sort());
    for (const [table, cols] of Object.entries(V1_COLUMNS)) expect(columns(db, table), table).toEqual(cols);

    for (const t of ['jobs', 'suspects', 'metric_values', 'curves', 'checkpoints']) {
      expect(foreignKeys(db, t), t).toEqual([{ table: 'runs', from: 'run_id', on_delete: 'CASCADE' }]);
    }
    expect(foreignKeys(db, 'calibrations')).toEqual([{ table: 'runs', from: 'run_id', on_delete: 'SET NULL' }]);
    expect(foreignKeys(db, 'fingerprint_sets')).toEqual([
      { table: 'calibrations', from: 'calibration_id', on_delete: 'CASCADE' },
    ]);
    // Lookups by run start with run_id (a primary key or an index).
    expect(indexColumns(db, 'jobs_run_id_status')).toEqual(['run_id', 'status']);
    expect(indexColumns(db, 'metric_values_run_id_suspect')).toEqual(['run_id', 'suspect_key']);
    expect(indexColumns(db, 'suspects_run_id_row')).toEqual(['run_id', 'row_id']);
    expect(indexColumns(db, 'calibrations_run_id')).toEqual(['run_id']);
    db.close();
  });

  it('migration 2 adds reports and the (spec_hash, status) index on runs', () => {
    const db = new Database(':memory:');
    migrate(db, 1);
    expect(migrate(db, 2)).toEqual([2]);
    expect(userVersion(db)).toBe(2);
    expect(tables(db)).toEqual([...Object.keys(V1_COLUMNS), 'reports'].sort());
    expect(columns(db, 'reports')).toEqual(['id', 'run_id', 'format', 'path', 'created_at']);
    expect(foreignKeys(db, 'reports')).toEqual([{ table: 'runs', from: 'run_id', on_delete: 'CASCADE' }]);
    expect(indexColumns(db, 'runs_spec_hash_status')).toEqual(['spec_hash', 'status']);
    expect(indexColumns(db, 'reports_run_id')).toEqual(['run_id']);
    expect(migrate(db, 2)).toEqual([]);
    db.close();
  });

  it('migration 3 drops models and datasets and nothing else', () => {
    const db = new Database(':memory:');
    migrate(db, 2);
    const before = db
      .prepare(`SELECT type, name, sql FROM sqlite_schema WHERE tbl_name NOT IN ('models', 'datasets') ORDER BY name`)
      .all();
    expect(migrate(db, 3)).toEqual([3]);
    expect(userVersion(db)).toBe(3);
    const v3 = [...Object.keys(V1_COLUMNS).filter((t) => t !== 'models' && t !== 'datasets'), 'reports'].sort();
    expect(tables(db)).toEqual(v3);
    // Every other table and index is exactly as migrations 1 and 2 made it.
    expect(db.prepare(`SELECT type, name, sql FROM sqlite_schema ORDER BY name`).all()).toEqual(before);
    expect(migrate(db, 3)).toEqual([]);
    db.close();
  });

  it("migration 4 adds the run owner's heartbeat column and nothing else", () => {
    const db = new Database(':memory:');
    migrate(db, 3);
    const runsBefore = columns(db, 'runs');
    const others = db.prepare(`SELECT type, name, sql FROM sqlite_schema WHERE name <> 'runs' ORDER BY name`).all();
    expect(migrate(db, 4)).toEqual([4]);
    expect(userVersion(db)).toBe(4);
    expect(columns(db, 'runs')).toEqual([...runsBefore, 'owner_heartbeat_at']);
    expect(db.prepare(`SELECT type, name, sql FROM sqlite_schema WHERE name <> 'runs' ORDER BY name`).all()).toEqual(
      others,
    );
    expect(migrate(db, 4)).toEqual([]);
    db.close();
  });

  it('migration 5 adds the loss_points table and nothing else; deleting a run deletes its points', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(db, 4);
    const before = db.prepare(`SELECT type, name, sql FROM sqlite_schema ORDER BY name`).all();
    expect(migrate(db, 5)).toEqual([5]);
    expect(userVersion(db)).toBe(5);
    expect(columns(db, 'loss_points')).toEqual(['run_id', 'job_key', 'series', 'iteration', 'value']);
    const after = db.prepare(
      `SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE '%loss_points%' ORDER BY name`,
    );
    expect(after.all()).toEqual(before);
    db.prepare(
      `INSERT INTO runs (id, name, spec_json, spec_hash, status, backend, versions_json, work_dir, created_at)
      VALUES ('r-1', 'x', '{}', 'h', 'completed', 'wasm', '{}', '/w', '2026-01-01T00:00:00.000Z')`,
    ).run();
    db.prepare(`INSERT INTO loss_points VALUES ('r-1', 'attack:a', 'loss', 10, 0.5)`).run();
    db.prepare(`DELETE FROM runs WHERE id = 'r-1'`).run();
    expect(db.prepare(`SELECT COUNT(*) AS n FROM loss_points`).get()).toEqual({ n: 0 });
    db.close();
  });

  it('migration 6 adds the distributed-run columns (null for existing rows) and nothing else', () => {
    const db = new Database(':memory:');
    migrate(db, 5);
    const runsBefore = columns(db, 'runs');
    const jobsBefore = columns(db, 'jobs');
    const others = () =>
      db.prepare(`SELECT type, name, sql FROM sqlite_schema WHERE name NOT IN ('runs', 'jobs') ORDER BY name`).all();
    const before = others();
    db.prepare(
      `INSERT INTO runs (id, name, spec_json, spec_hash, status, backend, versions_json, work_dir, created_at)
      VALUES ('r-1', 'x', '{}', 'h', 'completed', 'wasm', '{}', '/w', '2026-01-01T00:00:00.000Z')`,
    ).run();
    expect(migrate(db)).toEqual([6]);
    expect(userVersion(db)).toBe(6);
    expect(columns(db, 'runs')).toEqual([...runsBefore, 'distributed_json']);
    expect(columns(db, 'jobs')).toEqual([...jobsBefore, 'ran_on_json', 'outputs_json']);
    expect(others()).toEqual(before);
    expect(db.prepare(`SELECT distributed_json FROM runs`).get()).toEqual({ distributed_json: null });
    db.close();
  });

  it('a failing migration rolls back with its version bump', () => {
    const db = new Database(':memory:');
    migrate(db, 1);
    const spy = vi.spyOn(MIGRATIONS[1], 'up').mockImplementation((d) => {
      d.exec('CREATE TABLE reports (id INTEGER)');
      throw new Error('boom');
    });
    try {
      expect(() => migrate(db)).toThrow('boom');
    } finally {
      spy.mockRestore();
    }
    expect(userVersion(db)).toBe(1);
    expect(tables(db)).not.toContain('reports');
    db.close();
  });
});

describe('openStore and the schema version', () => {
  it('migrates a new database to the latest version, with WAL and foreign keys', () => {
    const file = path.join(dir(), 'nested', 'audit.db');
    const store = track(openStore(file));
    expect(store.path).toBe(file);
    expect(store.schemaVersion()).toBe(6);
    expect(store.integrityCheck()).toBe('ok');
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('reopening does not run the migrations again', () => {
    const file = path.join(dir(), 'audit.db');
    openStore(file).close();
    const spies = MIGRATIONS.map((m) => vi.spyOn(m, 'up'));
    try {
      const store = track(openStore(file));
      expect(store.schemaVersion()).toBe(6);
      for (const s of spies) expect(s).not.toHaveBeenCalled();
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });

  it('upgrades a version-1 database in place, keeping its rows', () => {
    const file = path.join(dir(), 'audit.db');
    const db = new Database(file);
    migrate(db, 1);
    db.prepare(
      `INSERT INTO runs (id, name, spec_json, spec_hash, status, backend, versions_json, work_dir, created_at)
      VALUES ('r-old', 'old', '{}', 'h', 'paused', 'wasm', '{}', '/w', '2026-01-01T00:00:00.000Z')`,
    ).run();
    db.close();
    const store = track(openStore(file));
    expect(store.schemaVersion()).toBe(6);
    expect(store.getRun('r-old')?.status).toBe('paused');
    expect(store.listReports('r-old')).toEqual([]);
  });

  it('upgrades a version-2 database with models and datasets rows to the latest: the tables go, every other row stays', () => {
    const file = path.join(dir(), 'audit.db');
    const db = new Database(file);
    db.pragma('foreign_keys = ON');
    migrate(db, 2);
    db.exec(`
      INSERT INTO runs (id, name, spec_json, spec_hash, status, backend, versions_json, work_dir, created_at)
        VALUES ('r-old', 'old', '{"v":1}', 'h', 'completed', 'wasm', '{}', '/w', '2026-01-01T00:00:00.000Z');
      INSERT INTO jobs (run_id, key, kind, label, deps_json, payload_json, weight, status, result_json)
        VALUES ('r-old', 'victim', 'train-victim', 'Victim', '[]', '{}', 1, 'done', '{"model":"/w/victim"}');
      INSERT INTO calibrations (id, created_at, file_path, victim_hash, document_json, run_id)
        VALUES ('c-old', '2026-01-01T00:00:00.000Z', '/w/cal.json', 'vh', '{"defenses":[]}', 'r-old');
      INSERT INTO fingerprint_sets (calibration_id, defense, path, content_hash, params_json)
        VALUES ('c-old', 'deepjudge', '/w/dj.json', 'f1', '{}');
      INSERT INTO suspects (run_id, key, row_id, attack, label, scenario, seed, model_path, model_hash, accuracy,
          agreement, victim_accuracy, derived, votes, votes_of, seconds, passes, iterations)
        VALUES ('r-old', 'attack:ft:1', 'ft', 'finetune', 'FT', 'ltd', 1, '/w/s', 'sh', 0.8, 0.9, 0.85, 1, 3, 4, 1.5, 10, 5);
      INSERT INTO metric_values (run_id, suspect_key, iteration, metric_id, value, tau, flagged, normalized)
        VALUES ('r-old', 'attack:ft:1', NULL, 'deepjudge.rob', 0.1, 0.2, 1, 0.5);
      INSERT INTO curves (run_id, suspect_key, iteration, fidelity, agreement) VALUES ('r-old', 'attack:ft:1', 5, 0.8, 0.9);
      INSERT INTO checkpoints (run_id, suspect_key, iteration, path) VALUES ('r-old', 'attack:ft:1', 5, '/w/ck');
      INSERT INTO reports (run_id, format, path, created_at) VALUES ('r-old', 'html', '/w/r.html', '2026-01-02T00:00:00.000Z');
      INSERT INTO models (path, content_hash, arch, lineage, metrics_json, created_at)
        VALUES ('/w/victim', 'vh', 'cnn', 'victim', '{"testAccuracy":0.9}', '2026-01-01T00:00:00.000Z');
      INSERT INTO datasets (source, content_hash, splits_json) VALUES ('/data/x', 'd1', '{"train":100}');
    `);
    const kept = ['runs', 'jobs', 'calibrations', 'fingerprint_sets', 'suspects', 'metric_values', 'curves'];
    const dump = (d: Database.Database) =>
      Object.fromEntries([...kept, 'checkpoints', 'reports'].map((t) => [t, d.prepare(`SELECT * FROM ${t}`).all()]));
    const before = dump(db);
    db.close();

    const store = track(openStore(file));
    expect(store.schemaVersion()).toBe(6);
    expect(store.integrityCheck()).toBe('ok');
    const after = new Database(file, { readonly: true });
    expect(tables(after)).not.toContain('models');
    expect(tables(after)).not.toContain('datasets');
    // Every row stays; runs gain migration 4's empty heartbeat column, runs and jobs migration 6's empty distributed columns.
    expect(dump(after)).toEqual({
      ...before,
      runs: (before.runs as object[]).map((r) => ({ ...r, owner_heartbeat_at: null, distributed_json: null })),
      jobs: (before.jobs as object[]).map((j) => ({ ...j, ran_on_json: null, outputs_json: null })),
    });
    expect(after.pragma('foreign_key_check')).toEqual([]);
    after.close();
    expect(store.getRun('r-old')?.spec).toEqual({ v: 1 });
    expect(store.listSuspects('r-old').map((s) => s.key)).toEqual(['attack:ft:1']);
    expect(store.listMetricValues('r-old')).toHaveLength(1);
    expect(store.listReports('r-old').map((r) => r.path)).toEqual(['/w/r.html']);
    expect(store.getCalibration('c-old')?.runId).toBe('r-old');
  });

  it('refuses a database from a newer app with STORE_VERSION and leaves it as it was', () => {
    const file = path.join(dir(), 'audit.db');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    const before = readFileSync(file);
    expect(codeOf(() => openStore(file))).toBe('STORE_VERSION');
    expect(codeOf(() => openStore(file, { readonly: true }))).toBe('STORE_VERSION');
    expect(readFileSync(file).equals(before)).toBe(true);
    try {
      openStore(file);
    } catch (e) {
      expect((e as AuditError).hint).toMatch(/update/i);
    }
  });

  it('refuses a file that is not SQLite with STORE_CORRUPT and changes nothing on disk', () => {
    const d = dir();
    const file = path.join(d, 'audit.db');
    const garbage = Buffer.from('this is not a database\n'.repeat(200));
    writeFileSync(file, garbage);
    let err: unknown;
    try {
      openStore(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AuditError);
    expect((err as AuditError).code).toBe('STORE_CORRUPT');
    expect((err as AuditError).hint).toMatch(/move the file aside/i);
    expect(readFileSync(file).equals(garbage)).toBe(true);
    expect(readdirSync(d)).toEqual(['audit.db']);
  });

  it("refuses another program's SQLite database (tables at version 0) with STORE_CORRUPT", () => {
    const file = path.join(dir(), 'audit.db');
    const db = new Database(file);
    db.exec('CREATE TABLE notes (body TEXT)');
    db.close();
    expect(codeOf(() => openStore(file))).toBe('STORE_CORRUPT');
    const check = new Database(file, { readonly: true });
    expect(userVersion(check)).toBe(0);
    expect(tables(check)).toEqual(['notes']);
    check.close();
  });

  it('read-only: needs an existing, current database and does not write', () => {
    const d = dir();
    const file = path.join(d, 'audit.db');
    expect(codeOf(() => openStore(file, { readonly: true }))).toBe('STORE_NOT_FOUND');
    expect(readdirSync(d)).toEqual([]);
    const rw = track(openStore(file));
    const run = rw.createRun({ name: 'x', spec: {}, specHash: 'h', backend: 'wasm', versions: {} });
    const ro = track(openStore(file, { readonly: true }));
    expect(ro.getRun(run.id)?.name).toBe('x');
    expect(() => ro.updateRun(run.id, { status: 'running' })).toThrow(/readonly/i);
  });
});
