/**
 * The Table-1 view of a stored run, and its trajectories: read from the store, aggregated
 * by the pure `buildResultsTable` so the CLI, the app and the report show the same figures.
 */
import type { AuditSpec } from '../../src-shared/audit/spec';
import { buildResultsTable, type ResultsTable, type Trajectory } from '../../src-shared/audit/results';
import { AuditError } from '../engine/errors';
import type { AuditStore } from '../store/types';
import { jobResult } from './jobs';
import { planRows } from './plan';

export function loadResultsTable(store: AuditStore, runId: string): ResultsTable {
  const run = store.getRun(runId);
  if (!run)
    throw new AuditError('RUN_NOT_FOUND', `No run with id ${runId}`, {
      hint: 'List runs with `ownership-audit runs list`.',
    });
  const calibration = jobResult(store.getJob(runId, 'calibrate'), 'calibrate');
  const suspects = store.listSuspects(runId);
  return buildResultsTable({
    runId,
    status: run.status,
    victimAccuracy: null,
    calibration: (calibration?.metrics ?? []).map((m) => ({
      id: m.id,
      kind: m.kind === 'similarity' ? 'similarity' : 'distance',
      tau: Number.isFinite(m.tau) ? m.tau : null,
      degenerate: m.degenerate,
    })),
    rows: planRows(run.spec as AuditSpec),
    suspects: suspects.map((s) => ({
      key: s.key,
      rowId: s.rowId,
      scenario: s.scenario,
      accuracy: s.accuracy,
      agreement: s.agreement,
      victimAccuracy: s.victimAccuracy,
      derived: s.derived,
      seconds: s.seconds,
      passes: s.passes,
      iterations: s.iterations,
    })),
    metricValues: store
      .listMetricValues(runId)
      .filter((m) => m.iteration === null)
      .map((m) => ({
        suspectKey: m.suspectKey,
        metricId: m.metricId,
        value: m.value,
        flagged: m.flagged,
        iteration: m.iteration,
      })),
  });
}

/** Fidelity and metric values per checkpoint of every suspect that has them (paper Fig. 4-5). */
export function loadTrajectories(store: AuditStore, runId: string): Trajectory[] {
  const out: Trajectory[] = [];
  for (const s of store.listSuspects(runId)) {
    const values = store.listMetricValues(runId, s.key).filter((m) => m.iteration !== null);
    const iterations = [...new Set(values.map((v) => v.iteration as number))].sort((a, b) => a - b);
    if (iterations.length === 0) continue;
    out.push({
      suspectKey: s.key,
      rowId: s.rowId,
      points: iterations.map((it) => {
        const at = values.filter((v) => v.iteration === it);
        const fid = at.find((v) => v.metricId === 'fidelity.accuracy')?.value ?? NaN;
        const agr = at.find((v) => v.metricId === 'fidelity.agreement')?.value ?? undefined;
        return {
          iteration: it,
          fidelity: fid,
          ...(agr !== undefined && agr !== null ? { agreement: agr } : {}),
          metrics: Object.fromEntries(
            at
              .filter((v) => !v.metricId.startsWith('fidelity.'))
              .map((v) => [v.metricId, { value: v.value, normalized: v.normalized }]),
          ),
        };
      }),
    });
  }
  return out;
}
