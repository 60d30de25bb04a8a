/**
 * Per defence, how many independent models it would accuse in a stored run (issue 18 item 4),
 * for `run --json` and `runs show --json`: the Negative models at the calibrated tau and the
 * references by leave-one-out (engine/verdict/separability.ts falseClaims), read from the
 * store alone (no file hashing, unlike the report's data).
 */
import type { ResultsTable } from '../../src-shared/audit/results';
import type { FalseClaims } from '../engine/verdict/separability';
import type { AuditStore } from '../store/types';
import { findCalibration } from './data';
import { separabilityData } from './separability';

export interface DefenseFalseClaims extends FalseClaims {
  defense: string;
}

/** Null when the run has no readable calibration (no thresholds, no claims). */
export function runFalseClaims(store: AuditStore, table: ResultsTable): DefenseFalseClaims[] | null {
  const run = store.getRun(table.runId);
  if (!run) return null;
  const calibration = findCalibration(store, run, store.listJobs(table.runId));
  if (!calibration) return null;
  const s = separabilityData({
    table,
    calibration,
    suspects: store.listSuspects(table.runId),
    finalValues: store.listMetricValues(table.runId).filter((v) => v.iteration === null),
  });
  return s.falseClaims.defenses.flatMap((d) => (d.counts ? [{ defense: d.id, ...d.counts }] : []));
}
