/** The `suspects`, `metric_values`, `curves` and `checkpoints` tables: what was measured on each suspect. */
import type { Db } from './db';
import {
  checkpointFromRow,
  curveFromRow,
  metricValueFromRow,
  suspectFromRow,
  suspectToRow,
  toBit,
  type CheckpointRow,
  type CurveRow,
  type MetricValueRow,
  type SuspectRow,
} from './rows';
import type { CheckpointRecord, CurvePoint, MetricValue, SuspectRecord } from './types';

export function recordSuspect(
  db: Db,
  s: SuspectRecord,
  metrics: Omit<MetricValue, 'runId' | 'suspectKey'>[],
  curve: Omit<CurvePoint, 'runId' | 'suspectKey'>[],
  checkpoints: Omit<CheckpointRecord, 'runId' | 'suspectKey'>[],
): void {
  const key = { run_id: s.runId, suspect_key: s.key };
  db.transaction(() => {
    // A re-scored suspect replaces everything recorded for it before.
    for (const table of ['metric_values', 'curves', 'checkpoints'] as const) {
      db.stmt(`DELETE FROM ${table} WHERE run_id = @run_id AND suspect_key = @suspect_key`).run(key);
    }
    db.stmt('DELETE FROM suspects WHERE run_id = @run_id AND key = @suspect_key').run(key);
    db.stmt(
      `INSERT INTO suspects (run_id, key, row_id, attack, label, scenario, seed, model_path, model_hash, accuracy,
        agreement, victim_accuracy, derived, votes, votes_of, seconds, passes, iterations)
      VALUES (@run_id, @key, @row_id, @attack, @label, @scenario, @seed, @model_path, @model_hash, @accuracy,
        @agreement, @victim_accuracy, @derived, @votes, @votes_of, @seconds, @passes, @iterations)`,
    ).run(suspectToRow(s));
    const metric =
      db.stmt(`INSERT INTO metric_values (run_id, suspect_key, iteration, metric_id, value, tau, flagged, normalized)
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
    const point = db.stmt(`INSERT INTO curves (run_id, suspect_key, iteration, fidelity, agreement)
      VALUES (@run_id, @suspect_key, @iteration, @fidelity, @agreement)`);
    for (const p of curve) point.run({ ...key, iteration: p.iteration, fidelity: p.fidelity, agreement: p.agreement });
    const checkpoint = db.stmt(
      `INSERT INTO checkpoints (run_id, suspect_key, iteration, path) VALUES (@run_id, @suspect_key, @iteration, @path)`,
    );
    for (const c of checkpoints) checkpoint.run({ ...key, iteration: c.iteration, path: c.path });
  });
}

/**
 * By key, not in the order they were recorded: scoring jobs finish in an order that depends
 * on the machine's speed, and reports, tables and their means (float sums depend on the order
 * of their terms) must be the same for the same run whatever that order was.
 */
export function listSuspects(db: Db, runId: string): SuspectRecord[] {
  return (db.stmt('SELECT * FROM suspects WHERE run_id = ? ORDER BY key').all(runId) as SuspectRow[]).map(
    suspectFromRow,
  );
}

/** A run's (by suspect key, as listSuspects) or one suspect's, each suspect's in the order it recorded them. */
export function listMetricValues(db: Db, runId: string, suspectKey?: string): MetricValue[] {
  const rows =
    suspectKey === undefined
      ? db.stmt('SELECT * FROM metric_values WHERE run_id = ? ORDER BY suspect_key, id').all(runId)
      : db.stmt('SELECT * FROM metric_values WHERE run_id = ? AND suspect_key = ? ORDER BY id').all(runId, suspectKey);
  return (rows as MetricValueRow[]).map(metricValueFromRow);
}

export function listCurve(db: Db, runId: string, suspectKey: string): CurvePoint[] {
  return (
    db
      .stmt('SELECT * FROM curves WHERE run_id = ? AND suspect_key = ? ORDER BY iteration')
      .all(runId, suspectKey) as CurveRow[]
  ).map(curveFromRow);
}

export function listCheckpoints(db: Db, runId: string, suspectKey: string): CheckpointRecord[] {
  return (
    db
      .stmt('SELECT * FROM checkpoints WHERE run_id = ? AND suspect_key = ? ORDER BY iteration')
      .all(runId, suspectKey) as CheckpointRow[]
  ).map(checkpointFromRow);
}
