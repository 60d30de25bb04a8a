/**
 * The better-sqlite3 implementation of `AuditStore`. One connection per process; the CLI,
 * the app and worker processes may each hold one on the same file: WAL lets readers go on
 * while one writer commits, and `busy_timeout` makes a second writer wait instead of
 * failing. Calls are synchronous (better-sqlite3), which suits short writes from the
 * job runner; nothing here holds a transaction across an `await`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RunStatus } from '../../src-shared/audit/results';
import { AuditError } from '../engine/errors';
import { newId } from './ids';
import { runsDir } from './location';
import { LATEST_VERSION, migrate, userVersion } from './migrations';
import {
  calibrationFromRow,
  checkpointFromRow,
  curveFromRow,
  fingerprintSetFromRow,
  jobFromRow,
  metricValueFromRow,
  reportFromRow,
  runFromRow,
  suspectFromRow,
  suspectToRow,
  toBit,
  toJson,
  type CalibrationRow,
  type CheckpointRow,
  type CurveRow,
  type FingerprintSetRecord,
  type FingerprintSetRow,
  type JobRow,
  type MetricValueRow,
  type ReportRow,
  type RunRow,
  type SuspectRow,
} from './rows';
import type {
  AuditStore,
  CalibrationRecord,
  CheckpointRecord,
  CurvePoint,
  JobRecord,
  MetricValue,
  NewJob,
  ReportRecord,
  RunRecord,
  SuspectRecord,
} from './types';

export interface OpenStoreOptions {
  /** Open without writing anything: no migration, no WAL switch (monitors, `runs list`). */
  readonly?: boolean;
}

/**
 * Path of a better-sqlite3 binary to load instead of the one in node_modules. The desktop
 * app needs one built for Electron's ABI (`npx @electron/rebuild -f -w better-sqlite3`, at
 * packaging time on a machine with internet, never at run time) while the CLI and the
 * tests keep the Node build; pointing this at the Electron build lets both coexist.
 */
export const SQLITE_BINDING_ENV = 'OWNERSHIP_AUDIT_SQLITE_BINDING';

type RunPatch = Parameters<AuditStore['updateRun']>[1];
type JobPatch = Parameters<AuditStore['updateJob']>[2];

// Patch field -> column. Only these fixed names ever reach the SQL text.
const RUN_COLUMNS = {
  status: 'status',
  backend: 'backend',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  wallSeconds: 'wall_seconds',
  ownerPid: 'owner_pid',
  error: 'error',
} as const satisfies Record<keyof RunPatch, string>;

const JOB_COLUMNS = {
  status: 'status',
  attempts: 'attempts',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  seconds: 'seconds',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  result: 'result_json',
  progress: 'progress_json',
} as const satisfies Record<keyof JobPatch, string>;

const JSON_JOB_FIELDS = new Set<string>(['result', 'progress']);

const now = (): string => new Date().toISOString();

function sqliteCode(e: unknown): string | undefined {
  return e instanceof Database.SqliteError ? e.code : undefined;
}

/** `SET a = @a, b = @b` and its parameters for the defined fields of a patch. */
function setClause(
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

interface CalibrationDefense {
  id: string;
  params: Record<string, unknown>;
  fingerprintsFile: string;
  fingerprintsHash: string;
}

/** The `defenses` of a calibration document, checked enough to index them. */
function calibrationDefenses(document: unknown, filePath: string): CalibrationDefense[] {
  const bad = (why: string): AuditError =>
    new AuditError('CALIBRATION_MISMATCH', `The calibration document cannot be imported: ${why}`, {
      path: filePath,
      hint: 'Import a file written by `ownership-audit calibrate`.',
    });
  const defenses = (document as { defenses?: unknown } | null)?.defenses;
  if (!Array.isArray(defenses)) throw bad('it has no `defenses` list');
  const seen = new Set<string>();
  return defenses.map((d: unknown, i) => {
    const e = (d ?? {}) as Partial<Record<keyof CalibrationDefense, unknown>>;
    if (typeof e.id !== 'string' || typeof e.fingerprintsFile !== 'string' || typeof e.fingerprintsHash !== 'string') {
      throw bad(`defenses[${i}] needs string id, fingerprintsFile and fingerprintsHash`);
    }
    if (seen.has(e.id)) throw bad(`defence ${e.id} is listed twice`);
    seen.add(e.id);
    const params =
      e.params !== undefined && e.params !== null && typeof e.params === 'object'
        ? (e.params as Record<string, unknown>)
        : {};
    return { id: e.id, params, fingerprintsFile: e.fingerprintsFile, fingerprintsHash: e.fingerprintsHash };
  });
}

export class SqliteAuditStore implements AuditStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string, db: Database.Database) {
    this.path = file;
    this.db = db;
  }

  /** A cached prepared statement: each distinct SQL text is compiled once per connection. */
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }

  schemaVersion(): number {
    return userVersion(this.db);
  }

  integrityCheck(): string {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('\n');
  }

  /** Runs `fn` in one (nestable) transaction: several store calls commit together or not at all. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- runs -----------------------------------------------------------------------------

  createRun(
    r: Pick<RunRecord, 'name' | 'spec' | 'specHash' | 'backend' | 'versions'> & { id?: string; workDir?: string },
  ): RunRecord {
    const insert = this
      .stmt(`INSERT INTO runs (id, name, spec_json, spec_hash, status, backend, versions_json, work_dir, created_at)
      VALUES (@id, @name, @spec_json, @spec_hash, 'pending', @backend, @versions_json, @work_dir, @created_at)`);
    // A generated id collides only when two runs start in the same second with the same
    // 16 random bits; draw again then. A caller-given id that exists is the caller's error.
    for (let attempt = 0; ; attempt++) {
      const id = r.id ?? newId('r');
      try {
        insert.run({
          id,
          name: r.name,
          spec_json: toJson(r.spec),
          spec_hash: r.specHash,
          backend: r.backend,
          versions_json: toJson(r.versions),
          work_dir: r.workDir ?? path.join(runsDir(path.dirname(this.path)), id),
          created_at: now(),
        });
        return this.getRun(id) as RunRecord;
      } catch (e) {
        if (r.id !== undefined || attempt >= 4 || sqliteCode(e) !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw e;
      }
    }
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.stmt('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row && runFromRow(row);
  }

  listRuns(filter: { status?: RunStatus; name?: string; limit?: number } = {}): RunRecord[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit ?? -1 };
    if (filter.status !== undefined) {
      where.push('status = @status');
      params.status = filter.status;
    }
    if (filter.name !== undefined) {
      where.push('name = @name');
      params.name = filter.name;
    }
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT @limit`;
    return (this.stmt(sql).all(params) as RunRow[]).map(runFromRow);
  }

  findResumableRun(specHash: string): RunRecord | undefined {
    const row = this.stmt(
      `SELECT * FROM runs WHERE spec_hash = ? AND status <> 'completed' ORDER BY created_at DESC, rowid DESC LIMIT 1`,
    ).get(specHash) as RunRow | undefined;
    return row && runFromRow(row);
  }

  updateRun(id: string, patch: RunPatch): void {
    const { sql, params } = setClause(patch, RUN_COLUMNS);
    const changes = sql
      ? this.stmt(`UPDATE runs SET ${sql} WHERE id = @id`).run({ ...params, id }).changes
      : (this.stmt('SELECT count(*) AS n FROM runs WHERE id = ?').get(id) as { n: number }).n;
    if (changes === 0) throw this.runNotFound(id);
  }

  deleteRun(id: string): boolean {
    return this.stmt('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
  }

  private runNotFound(id: string): AuditError {
    return new AuditError('RUN_NOT_FOUND', `No run ${id} in the store`, {
      path: this.path,
      hint: 'List runs with `ownership-audit runs`.',
    });
  }

  // ---- jobs -----------------------------------------------------------------------------

  /**
   * Adds the run's planned jobs as 'pending'. Jobs already recorded under the same key keep
   * their state, so re-expanding the same spec on resume only adds what is new.
   */
  insertJobs(runId: string, jobs: NewJob[]): void {
    const keys = new Set<string>();
    for (const j of jobs) {
      if (keys.has(j.key))
        throw new AuditError('INVALID_ARGUMENT', `Job key ${j.key} appears twice in the plan`, {
          hint: 'Job keys must be unique within a run.',
        });
      keys.add(j.key);
    }
    const insert = this.stmt(`INSERT INTO jobs (run_id, key, kind, label, deps_json, payload_json, weight, status)
      VALUES (@run_id, @key, @kind, @label, @deps_json, @payload_json, @weight, 'pending')
      ON CONFLICT (run_id, key) DO NOTHING`);
    this.transaction(() => {
      if (!this.getRun(runId)) throw this.runNotFound(runId);
      for (const j of jobs) {
        insert.run({
          run_id: runId,
          key: j.key,
          kind: j.kind,
          label: j.label,
          deps_json: toJson(j.deps),
          payload_json: toJson(j.payload),
          weight: j.weight,
        });
      }
    });
  }

  /** In plan order (the order they were inserted). */
  listJobs(runId: string): JobRecord[] {
    return (this.stmt('SELECT * FROM jobs WHERE run_id = ? ORDER BY rowid').all(runId) as JobRow[]).map(jobFromRow);
  }

  getJob(runId: string, key: string): JobRecord | undefined {
    const row = this.stmt('SELECT * FROM jobs WHERE run_id = ? AND key = ?').get(runId, key) as JobRow | undefined;
    return row && jobFromRow(row);
  }

  updateJob(runId: string, key: string, patch: JobPatch): void {
    const { sql, params } = setClause(patch, JOB_COLUMNS, JSON_JOB_FIELDS);
    const changes = sql
      ? this.stmt(`UPDATE jobs SET ${sql} WHERE run_id = @run_id AND key = @key`).run({ ...params, run_id: runId, key })
          .changes
      : (this.stmt('SELECT count(*) AS n FROM jobs WHERE run_id = ? AND key = ?').get(runId, key) as { n: number }).n;
    if (changes === 0) {
      throw new AuditError('INVALID_ARGUMENT', `No job ${key} in run ${runId}`, {
        path: this.path,
        hint: 'The run may have been deleted meanwhile.',
      });
    }
  }

  resetInterruptedJobs(runId: string): number {
    return this.stmt(`UPDATE jobs SET status = 'pending' WHERE run_id = ? AND status = 'running'`).run(runId).changes;
  }

  // ---- calibrations ---------------------------------------------------------------------

  /**
   * Records a calibration document and its fingerprint sets. Importing again under the
   * same id replaces both (the file was recalibrated in place).
   */
  importCalibration(c: {
    filePath: string;
    document: unknown;
    victimHash: string;
    runId?: string | null;
    id?: string;
  }): CalibrationRecord {
    const defenses = calibrationDefenses(c.document, c.filePath);
    const id = c.id ?? newId('c');
    const docCreated = (c.document as { createdAt?: unknown }).createdAt;
    const createdAt = typeof docCreated === 'string' ? docCreated : now();
    this.transaction(() => {
      this.stmt(
        `INSERT INTO calibrations (id, created_at, file_path, victim_hash, document_json, run_id)
        VALUES (@id, @created_at, @file_path, @victim_hash, @document_json, @run_id)
        ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, file_path = excluded.file_path,
          victim_hash = excluded.victim_hash, document_json = excluded.document_json, run_id = excluded.run_id`,
      ).run({
        id,
        created_at: createdAt,
        file_path: c.filePath,
        victim_hash: c.victimHash,
        document_json: toJson(c.document),
        run_id: c.runId ?? null,
      });
      this.stmt('DELETE FROM fingerprint_sets WHERE calibration_id = ?').run(id);
      const insert = this.stmt(`INSERT INTO fingerprint_sets (calibration_id, defense, path, content_hash, params_json)
        VALUES (@calibration_id, @defense, @path, @content_hash, @params_json)`);
      for (const d of defenses) {
        insert.run({
          calibration_id: id,
          defense: d.id,
          path: d.fingerprintsFile,
          content_hash: d.fingerprintsHash,
          params_json: toJson(d.params),
        });
      }
    });
    return this.getCalibration(id) as CalibrationRecord;
  }

  getCalibration(id: string): CalibrationRecord | undefined {
    const row = this.stmt('SELECT * FROM calibrations WHERE id = ?').get(id) as CalibrationRow | undefined;
    return row && calibrationFromRow(row);
  }

  /** Newest first. */
  listCalibrations(): CalibrationRecord[] {
    return (this.stmt('SELECT * FROM calibrations ORDER BY created_at DESC, rowid DESC').all() as CalibrationRow[]).map(
      calibrationFromRow,
    );
  }

  listFingerprintSets(calibrationId: string): FingerprintSetRecord[] {
    return (
      this.stmt('SELECT * FROM fingerprint_sets WHERE calibration_id = ? ORDER BY id').all(
        calibrationId,
      ) as FingerprintSetRow[]
    ).map(fingerprintSetFromRow);
  }

  // ---- suspects and what was measured on them -------------------------------------------

  recordSuspect(
    s: SuspectRecord,
    metrics: Omit<MetricValue, 'runId' | 'suspectKey'>[],
    curve: Omit<CurvePoint, 'runId' | 'suspectKey'>[],
    checkpoints: Omit<CheckpointRecord, 'runId' | 'suspectKey'>[],
  ): void {
    const key = { run_id: s.runId, suspect_key: s.key };
    this.transaction(() => {
      // A re-scored suspect replaces everything recorded for it before.
      for (const table of ['metric_values', 'curves', 'checkpoints'] as const) {
        this.stmt(`DELETE FROM ${table} WHERE run_id = @run_id AND suspect_key = @suspect_key`).run(key);
      }
      this.stmt('DELETE FROM suspects WHERE run_id = @run_id AND key = @suspect_key').run(key);
      this.stmt(
        `INSERT INTO suspects (run_id, key, row_id, attack, label, scenario, seed, model_path, model_hash, accuracy,
          agreement, victim_accuracy, derived, votes, votes_of, seconds, passes, iterations)
        VALUES (@run_id, @key, @row_id, @attack, @label, @scenario, @seed, @model_path, @model_hash, @accuracy,
          @agreement, @victim_accuracy, @derived, @votes, @votes_of, @seconds, @passes, @iterations)`,
      ).run(suspectToRow(s));
      const metric = this
        .stmt(`INSERT INTO metric_values (run_id, suspect_key, iteration, metric_id, value, tau, flagged, normalized)
        VALUES (@run_id, @suspect_key, @iteration, @metric_id, @value, @tau, @flagged, @normalized)`);
      for (const m of metrics) {
        metric.run({
          ...key,
          iteration: m.iteration,
          metric_id: m.metricId,
          value: m.value,
          tau: m.tau,
          flagged: toBit(m.flagged),
          normalized: m.normalized,
        });
      }
      const point = this.stmt(`INSERT INTO curves (run_id, suspect_key, iteration, fidelity, agreement)
        VALUES (@run_id, @suspect_key, @iteration, @fidelity, @agreement)`);
      for (const p of curve)
        point.run({ ...key, iteration: p.iteration, fidelity: p.fidelity, agreement: p.agreement });
      const checkpoint = this.stmt(
        `INSERT INTO checkpoints (run_id, suspect_key, iteration, path) VALUES (@run_id, @suspect_key, @iteration, @path)`,
      );
      for (const c of checkpoints) checkpoint.run({ ...key, iteration: c.iteration, path: c.path });
    });
  }

  /** In the order they were recorded. */
  listSuspects(runId: string): SuspectRecord[] {
    return (this.stmt('SELECT * FROM suspects WHERE run_id = ? ORDER BY rowid').all(runId) as SuspectRow[]).map(
      suspectFromRow,
    );
  }

  listMetricValues(runId: string, suspectKey?: string): MetricValue[] {
    const rows =
      suspectKey === undefined
        ? this.stmt('SELECT * FROM metric_values WHERE run_id = ? ORDER BY id').all(runId)
        : this.stmt('SELECT * FROM metric_values WHERE run_id = ? AND suspect_key = ? ORDER BY id').all(
            runId,
            suspectKey,
          );
    return (rows as MetricValueRow[]).map(metricValueFromRow);
  }

  listCurve(runId: string, suspectKey: string): CurvePoint[] {
    return (
      this.stmt('SELECT * FROM curves WHERE run_id = ? AND suspect_key = ? ORDER BY iteration').all(
        runId,
        suspectKey,
      ) as CurveRow[]
    ).map(curveFromRow);
  }

  listCheckpoints(runId: string, suspectKey: string): CheckpointRecord[] {
    return (
      this.stmt('SELECT * FROM checkpoints WHERE run_id = ? AND suspect_key = ? ORDER BY iteration').all(
        runId,
        suspectKey,
      ) as CheckpointRow[]
    ).map(checkpointFromRow);
  }

  // ---- reports --------------------------------------------------------------------------

  addReport(r: Omit<ReportRecord, 'id' | 'createdAt'>): ReportRecord {
    const row = this.stmt(
      'INSERT INTO reports (run_id, format, path, created_at) VALUES (@run_id, @format, @path, @created_at) RETURNING *',
    ).get({
      run_id: r.runId,
      format: r.format,
      path: r.path,
      created_at: now(),
    }) as ReportRow;
    return reportFromRow(row);
  }

  listReports(runId: string): ReportRecord[] {
    return (this.stmt('SELECT * FROM reports WHERE run_id = ? ORDER BY id').all(runId) as ReportRow[]).map(
      reportFromRow,
    );
  }
}

// ---- opening ------------------------------------------------------------------------------

function corrupt(file: string, cause: unknown): AuditError {
  return new AuditError('STORE_CORRUPT', 'The audit database is not a readable SQLite database', {
    path: file,
    hint: 'Move the file aside (nothing was changed or deleted) and run again to start a new database; keep the old one to recover runs from it.',
    cause,
  });
}

/**
 * Opens (creating when needed) the audit database at `file` and brings its schema up to
 * date. Refuses, without writing to it, a file that is not SQLite (STORE_CORRUPT), a
 * SQLite database of some other program, and a database made by a newer version of the
 * app (STORE_VERSION).
 */
export function openStore(file: string, opts: OpenStoreOptions = {}): SqliteAuditStore {
  const abs = path.resolve(file);
  const readonly = opts.readonly === true;
  if (readonly && !existsSync(abs)) {
    throw new AuditError('STORE_NOT_FOUND', 'There is no audit database yet', {
      path: abs,
      hint: 'Run an audit first, or pass the right --home.',
    });
  }
  if (!readonly) mkdirSync(path.dirname(abs), { recursive: true });
  const nativeBinding = process.env[SQLITE_BINDING_ENV]?.trim() || undefined;
  const db = new Database(abs, { readonly, fileMustExist: readonly, ...(nativeBinding ? { nativeBinding } : {}) });
  try {
    // Connection settings first: they touch no file, so they are safe on any input.
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');

    // The first read of the header is where SQLite notices a file that is not a database.
    let version: number;
    try {
      version = userVersion(db);
    } catch (e) {
      const code = sqliteCode(e);
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw corrupt(abs, e);
      throw e;
    }
    if (version > LATEST_VERSION) {
      throw new AuditError(
        'STORE_VERSION',
        `The audit database has schema version ${version}, newer than this version of the app understands (${LATEST_VERSION})`,
        {
          path: abs,
          hint: 'Update Ownership Audit (app and CLI) to the latest version; the database was left unchanged.',
        },
      );
    }
    if (version === 0) {
      // Version 0 means "empty": tables here belong to some other program's database.
      const { n } = db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'`).get() as {
        n: number;
      };
      if (n > 0) {
        throw new AuditError('STORE_CORRUPT', 'The file is a SQLite database but not an Ownership Audit one', {
          path: abs,
          hint: 'Point --home (or OWNERSHIP_AUDIT_HOME) at another folder, or move the file aside; nothing was changed.',
        });
      }
    }
    if (readonly) {
      if (version < LATEST_VERSION) {
        throw new AuditError(
          'STORE_VERSION',
          `The audit database has schema version ${version}; this app needs ${LATEST_VERSION}`,
          {
            path: abs,
            hint: 'Run any command that writes (for example an audit) once to upgrade it; read-only opens do not migrate.',
          },
        );
      }
    } else {
      db.pragma('journal_mode = WAL');
      // Safe with WAL: a power loss may lose the last commits, never corrupt the file.
      db.pragma('synchronous = NORMAL');
      migrate(db);
    }
    return new SqliteAuditStore(abs, db);
  } catch (e) {
    db.close();
    throw e;
  }
}
