/**
 * The better-sqlite3 implementation of `AuditStore`. One connection per process; the CLI,
 * the app and worker processes may each hold one on the same file: WAL lets readers go on
 * while one writer commits, and `busy_timeout` makes a second writer wait instead of
 * failing. Calls are synchronous (better-sqlite3), which suits short writes from the
 * job runner; nothing here holds a transaction across an `await`.
 *
 * The queries live by table group: runs.ts, jobs.ts, calibrations.ts, suspects.ts (with
 * metric values, curves and checkpoints) and reports.ts; this file owns the connection
 * (opening, schema version, statement cache, transactions) and delegates to them.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RunStatus } from '../../src-shared/audit/results';
import { AuditError } from '../engine/errors';
import * as calibrations from './calibrations';
import * as claim from './claim';
import { sqliteCode, type Db } from './db';
import * as jobs from './jobs';
import * as losses from './losses';
import { LATEST_VERSION, migrate, userVersion } from './migrations';
import * as reports from './reports';
import type { FingerprintSetRecord } from './rows';
import * as runs from './runs';
import * as suspects from './suspects';
import type {
  AuditStore,
  CalibrationRecord,
  CheckpointRecord,
  CurvePoint,
  JobRecord,
  LossPoint,
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

export class SqliteAuditStore implements AuditStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  /** What the query modules run on: this connection's statements and transactions. */
  private readonly q: Db;

  constructor(file: string, db: Database.Database) {
    this.path = file;
    this.db = db;
    this.q = {
      path: file,
      stmt: (sql) => this.stmt(sql),
      transaction: (fn) => this.transaction(fn),
    };
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

  /**
   * Runs `fn` in one (nestable) transaction: several store calls commit together or not at
   * all. IMMEDIATE: the write lock is taken before the first read, so while another process
   * writes, this one waits (busy_timeout). A deferred transaction starts as a reader, and
   * SQLite does not wait when a reader asks to become the writer: its first write failed
   * at once with SQLITE_BUSY. Every transaction here writes, so none loses by this.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ---- runs (runs.ts) ---------------------------------------------------------------------

  createRun(r: runs.NewRun): RunRecord {
    return runs.createRun(this.q, r);
  }

  getRun(id: string): RunRecord | undefined {
    return runs.getRun(this.q, id);
  }

  listRuns(filter: { status?: RunStatus; name?: string; limit?: number } = {}): RunRecord[] {
    return runs.listRuns(this.q, filter);
  }

  findResumableRun(specHash: string): RunRecord | undefined {
    return runs.findResumableRun(this.q, specHash);
  }

  updateRun(id: string, patch: runs.RunPatch): void {
    runs.updateRun(this.q, id, patch);
  }

  claimRun(req: claim.ClaimRequest): claim.Claim {
    return claim.claimRun(this.q, req);
  }

  heartbeatRun(id: string, pid: number): boolean {
    return claim.heartbeatRun(this.q, id, pid);
  }

  deleteRun(id: string): boolean {
    return runs.deleteRun(this.q, id);
  }

  // ---- jobs (jobs.ts) ---------------------------------------------------------------------

  insertJobs(runId: string, newJobs: NewJob[]): void {
    jobs.insertJobs(this.q, runId, newJobs);
  }

  listJobs(runId: string): JobRecord[] {
    return jobs.listJobs(this.q, runId);
  }

  getJob(runId: string, key: string): JobRecord | undefined {
    return jobs.getJob(this.q, runId, key);
  }

  updateJob(runId: string, key: string, patch: jobs.JobPatch): void {
    jobs.updateJob(this.q, runId, key, patch);
  }

  resetInterruptedJobs(runId: string): number {
    return jobs.resetInterruptedJobs(this.q, runId);
  }

  // ---- calibrations (calibrations.ts) -----------------------------------------------------

  importCalibration(c: calibrations.ImportCalibration): CalibrationRecord {
    return calibrations.importCalibration(this.q, c);
  }

  getCalibration(id: string): CalibrationRecord | undefined {
    return calibrations.getCalibration(this.q, id);
  }

  listCalibrations(): CalibrationRecord[] {
    return calibrations.listCalibrations(this.q);
  }

  listFingerprintSets(calibrationId: string): FingerprintSetRecord[] {
    return calibrations.listFingerprintSets(this.q, calibrationId);
  }

  // ---- suspects and what was measured on them (suspects.ts) -------------------------------

  recordSuspect(
    s: SuspectRecord,
    metrics: Omit<MetricValue, 'runId' | 'suspectKey'>[],
    curve: Omit<CurvePoint, 'runId' | 'suspectKey'>[],
    checkpoints: Omit<CheckpointRecord, 'runId' | 'suspectKey'>[],
  ): void {
    suspects.recordSuspect(this.q, s, metrics, curve, checkpoints);
  }

  listSuspects(runId: string): SuspectRecord[] {
    return suspects.listSuspects(this.q, runId);
  }

  listMetricValues(runId: string, suspectKey?: string): MetricValue[] {
    return suspects.listMetricValues(this.q, runId, suspectKey);
  }

  listCurve(runId: string, suspectKey: string): CurvePoint[] {
    return suspects.listCurve(this.q, runId, suspectKey);
  }

  listCheckpoints(runId: string, suspectKey: string): CheckpointRecord[] {
    return suspects.listCheckpoints(this.q, runId, suspectKey);
  }

  // ---- loss curves (losses.ts) ------------------------------------------------------------

  addLossPoints(runId: string, jobKey: string, points: readonly LossPoint[]): void {
    losses.addLossPoints(this.q, runId, jobKey, points);
  }

  lossCurves(runId: string): Record<string, Record<string, [number, number][]>> {
    return losses.lossCurves(this.q, runId);
  }

  // ---- reports (reports.ts) ---------------------------------------------------------------

  addReport(r: Omit<ReportRecord, 'id' | 'createdAt'>): ReportRecord {
    return reports.addReport(this.q, r);
  }

  listReports(runId: string): ReportRecord[] {
    return reports.listReports(this.q, runId);
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
