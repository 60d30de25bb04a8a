/**
 * How the report names things: attacks and defences by the names the paper's tables use
 * (from their registry entries), row labels with the attack id replaced by that name, and
 * each metric's label, defence and kind.
 */
import type { RowDef } from '../../src-shared/audit/results';
import type { MetricKind } from '../../src-shared/domain/metrics';
import { ATTACKS } from '../engine/attacks/registry';
import { SCORERS, getMetric } from '../engine/defenses/registry';

/** The paper's name of an attack ('FT' for 'finetune'); the id itself for one no registry line knows. */
export function attackName(id: string): string {
  return ATTACKS.find((a) => a.id === id)?.name ?? id;
}

/** The paper's name of a defence ('DeepJudge' for 'deepjudge'); the id itself for one no registry line knows. */
export function defenseName(id: string): string {
  return SCORERS.find((d) => d.id === id)?.name ?? id;
}

/** A row's label with the attack id replaced by the paper's name: 'finetune(ratio=0.5)' -> 'FT(ratio=0.5)'. */
export function displayLabel(row: Pick<RowDef, 'attack' | 'label'>): string {
  const name = attackName(row.attack);
  if (name !== row.attack && row.label.startsWith(row.attack)) return name + row.label.slice(row.attack.length);
  return row.label;
}

export interface MetricInfo {
  id: string;
  /** e.g. 'DeepJudge LOD'. */
  label: string;
  /** Defence id ('deepjudge'), the part of the metric id before the dot. */
  defense: string;
  defenseName: string;
  kind: MetricKind | null;
}

export function metricInfo(id: string): MetricInfo {
  const defense = id.includes('.') ? id.slice(0, id.indexOf('.')) : id;
  try {
    const { metric } = getMetric(id);
    return { id, label: metric.label, defense, defenseName: defenseName(defense), kind: metric.kind };
  } catch {
    return { id, label: id, defense, defenseName: defenseName(defense), kind: null };
  }
}
