/** The `jobs` table: a run's planned jobs and their state. */
import { AuditError } from '../engine/errors';
import { setClause, type Db } from './db';
import { jobFromRow, toJson, type JobRow } from './rows';
import { getRun, runNotFound } from './runs';
import type { AuditStore, JobRecord, NewJob } from './types';

export type JobPatch = Parameters<AuditStore['updateJob']>[2];

// Patch field -> column. Only these fixed names ever reach the SQL text.
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
  ranOn: 'ran_on_json',
  outputs: 'outputs_json',
} as const satisfies Record<keyof JobPatch, string>;

const JSON_JOB_FIELDS = new Set<string>(['result', 'progress', 'ranOn', 'outputs']);

/**
 * Adds the run's planned jobs as 'pending'. Jobs already recorded under the same key keep
 * their state, so re-expanding the same spec on resume only adds what is new.
 */
export function insertJobs(db: Db, runId: string, jobs: NewJob[]): void {
  const keys = new Set<string>();
  for (const j of jobs) {
    if (keys.has(j.key))
      throw new AuditError('INVALID_ARGUMENT', `Job key ${j.key} appears twice in the plan`, {
        hint: 'Job keys must be unique within a run.',
      });
    keys.add(j.key);
  }
  const insert = db.stmt(`INSERT INTO jobs (run_id, key, kind, label, deps_json, payload_json, weight, status)
    VALUES (@run_id, @key, @kind, @label, @deps_json, @payload_json, @weight, 'pending')
    ON CONFLICT (run_id, key) DO NOTHING`);
  db.transaction(() => {
    if (!getRun(db, runId)) throw runNotFound(db, runId);
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
export function listJobs(db: Db, runId: string): JobRecord[] {
  return (db.stmt('SELECT * FROM jobs WHERE run_id = ? ORDER BY rowid').all(runId) as JobRow[]).map(jobFromRow);
}

export function getJob(db: Db, runId: string, key: string): JobRecord | undefined {
  const row = db.stmt('SELECT * FROM jobs WHERE run_id = ? AND key = ?').get(runId, key) as JobRow | undefined;
  return row && jobFromRow(row);
}

export function updateJob(db: Db, runId: string, key: string, patch: JobPatch): void {
  const { sql, params } = setClause(patch, JOB_COLUMNS, JSON_JOB_FIELDS);
  const changes = sql
    ? db.stmt(`UPDATE jobs SET ${sql} WHERE run_id = @run_id AND key = @key`).run({ ...params, run_id: runId, key })
        .changes
    : (db.stmt('SELECT count(*) AS n FROM jobs WHERE run_id = ? AND key = ?').get(runId, key) as { n: number }).n;
  if (changes === 0) {
    throw new AuditError('INVALID_ARGUMENT', `No job ${key} in run ${runId}`, {
      path: db.path,
      hint: 'The run may have been deleted meanwhile.',
    });
  }
}

/**
 * Jobs a dead runner left 'running' go back to pending. Their last attempt ended with the
 * runner, not with their worker, so it is not counted against their retries.
 */
export function resetInterruptedJobs(db: Db, runId: string): number {
  return db
    .stmt(`UPDATE jobs SET status = 'pending', attempts = MAX(attempts - 1, 0) WHERE run_id = ? AND status = 'running'`)
    .run(runId).changes;
}
