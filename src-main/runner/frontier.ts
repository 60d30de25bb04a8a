/**
 * The evasion frontier of a stored run, from what the report and the CLI already hold: the
 * spec (which rows make up which grid), the results table, the trajectories and the
 * suspects. The computation itself is the pure `computeFrontier` (src-shared/audit/frontier.ts);
 * this only plans the grids and names the defences as the registry does.
 */
import { computeFrontier, type FrontierResult } from '../../src-shared/audit/frontier';
import { metricDefense, type ResultsTable, type Trajectory } from '../../src-shared/audit/results';
import type { AuditSpec } from '../../src-shared/audit/spec';
import { SCORERS } from '../engine/defenses/registry';
import { frontierPlan } from './expand';

/** What the frontier reads (a ReportData has all of it). */
export interface FrontierSource {
  spec: AuditSpec;
  table: ResultsTable;
  trajectories: readonly Trajectory[];
  suspects: readonly { key: string; scenario: string }[];
}

/** The frontier of a run whose spec has a frontier block; null otherwise. */
export function frontierOf(source: FrontierSource): FrontierResult | null {
  const plan = frontierPlan(source.spec);
  if (!plan) return null;
  const defenses = [...new Set(source.table.metrics.map((c) => metricDefense(c.id)))];
  return computeFrontier({
    plan,
    table: source.table,
    trajectories: source.trajectories,
    suspects: source.suspects,
    names: Object.fromEntries(defenses.map((d) => [d, SCORERS.find((s) => s.id === d)?.name ?? d])),
  });
}
