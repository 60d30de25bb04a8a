/** The `loss_points` table: each job's loss curves as the runner streamed them. */
import type { Db } from './db';
import type { LossPoint } from './types';

/** Points of one job; a point already stored at the same iteration is replaced (a retried job). */
export function addLossPoints(db: Db, runId: string, jobKey: string, points: readonly LossPoint[]): void {
  if (points.length === 0) return;
  const insert = db.stmt(
    `INSERT OR REPLACE INTO loss_points (run_id, job_key, series, iteration, value)
     VALUES (@run_id, @job_key, @series, @iteration, @value)`,
  );
  db.transaction(() => {
    for (const p of points) insert.run({ run_id: runId, job_key: jobKey, ...p });
  });
}

/** A run's loss curves: job key -> series -> [iteration, value] points in iteration order. */
export function lossCurves(db: Db, runId: string): Record<string, Record<string, [number, number][]>> {
  const rows = db
    .stmt(
      `SELECT job_key, series, iteration, value FROM loss_points WHERE run_id = @run_id
       ORDER BY job_key, series, iteration`,
    )
    .all({ run_id: runId }) as { job_key: string; series: string; iteration: number; value: number }[];
  const out: Record<string, Record<string, [number, number][]>> = {};
  for (const r of rows) ((out[r.job_key] ??= {})[r.series] ??= []).push([r.iteration, r.value]);
  return out;
}
