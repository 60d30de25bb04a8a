/** The `runs` table: creating, finding, updating and deleting runs. */
import path from 'node:path';
import type { RunStatus } from '../../src-shared/audit/results';
import { AuditError } from '../engine/errors';
import { now, setClause, sqliteCode, type Db } from './db';
import { newId } from './ids';
import { runsDir } from './location';
import { runFromRow, toJson, type RunRow } from './rows';
import type { AuditStore, RunRecord } from './types';

export type NewRun = Parameters<AuditStore['createRun']>[0];
export type RunPatch = Parameters<AuditStore['updateRun']>[1];

// Patch field -> column. Only these fixed names ever reach the SQL text.
const RUN_COLUMNS = {
  status: 'status',
  backend: 'backend',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  wallSeconds: 'wall_seconds',
  ownerPid: 'owner_pid',
  error: 'error',
  workDir: 'work_dir',
  distributed: 'distributed_json',
} as const satisfies Record<keyof RunPatch, string>;

const JSON_RUN_FIELDS = new Set<string>(['distributed']);

export function createRun(db: Db, r: NewRun): RunRecord {
  const insert =
    db.stmt(`INSERT INTO runs (id, name, spec_json, spec_hash, status, backend, versions_json, work_dir, created_at)
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
        work_dir: r.workDir ?? path.join(runsDir(path.dirname(db.path)), id),
        created_at: now(),
      });
      return getRun(db, id) as RunRecord;
    } catch (e) {
      if (r.id !== undefined || attempt >= 4 || sqliteCode(e) !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw e;
    }
  }
}

export function getRun(db: Db, id: string): RunRecord | undefined {
  const row = db.stmt('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  return row && runFromRow(row);
}

export function listRuns(db: Db, filter: { status?: RunStatus; name?: string; limit?: number } = {}): RunRecord[] {
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
  return (db.stmt(sql).all(params) as RunRow[]).map(runFromRow);
}

export function findResumableRun(db: Db, specHash: string): RunRecord | undefined {
  const row = db
    .stmt(
      `SELECT * FROM runs WHERE spec_hash = ? AND status <> 'completed' ORDER BY created_at DESC, rowid DESC LIMIT 1`,
    )
    .get(specHash) as RunRow | undefined;
  return row && runFromRow(row);
}

export function updateRun(db: Db, id: string, patch: RunPatch): void {
  const { sql, params } = setClause(patch, RUN_COLUMNS, JSON_RUN_FIELDS);
  const changes = sql
    ? db.stmt(`UPDATE runs SET ${sql} WHERE id = @id`).run({ ...params, id }).changes
    : (db.stmt('SELECT count(*) AS n FROM runs WHERE id = ?').get(id) as { n: number }).n;
  if (changes === 0) throw runNotFound(db, id);
}

export function deleteRun(db: Db, id: string): boolean {
  return db.stmt('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
}

export function runNotFound(db: Db, id: string): AuditError {
  return new AuditError('RUN_NOT_FOUND', `No run ${id} in the store`, {
    path: db.path,
    hint: 'List runs with `ownership-audit runs`.',
  });
}
