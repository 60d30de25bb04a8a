/** The `reports` table: report files written for a run. */
import { now, type Db } from './db';
import { reportFromRow, type ReportRow } from './rows';
import type { ReportRecord } from './types';

export function addReport(db: Db, r: Omit<ReportRecord, 'id' | 'createdAt'>): ReportRecord {
  const row = db
    .stmt(
      'INSERT INTO reports (run_id, format, path, created_at) VALUES (@run_id, @format, @path, @created_at) RETURNING *',
    )
    .get({
      run_id: r.runId,
      format: r.format,
      path: r.path,
      created_at: now(),
    }) as ReportRow;
  return reportFromRow(row);
}

export function listReports(db: Db, runId: string): ReportRecord[] {
  return (db.stmt('SELECT * FROM reports WHERE run_id = ? ORDER BY id').all(runId) as ReportRow[]).map(reportFromRow);
}
