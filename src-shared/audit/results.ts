/**
 * Results of an audit run in the shape of the paper's Table 1: one row per attack variant
 * and scenario, with the mean and sample std of every metric over the row's suspects, the
 * number of suspects each metric flagged, tau, the fidelity drop and the ownership verdict
 * ("Yes (k/N)" when a strict majority of the suspects were judged derived).
 *
 * Pure: the store and the runner feed it records; the CLI prints it with
 * `formatResultsTable`, the app and the report render the same object.
 */

import type { MetricKind } from '../domain/metrics';
import type { RunStatus } from '../domain/states';
import { ownershipLabel, ownershipVerdict, type Verdict } from '../domain/verdict';
import { formatNumber, percent } from '../format';

export type { RunStatus };
export { ownershipLabel };
export { formatNumber };

/** One row of the table as planned (see planRows in src-main/runner/plan.ts), in spec order. */
export interface RowDef {
  /** Filesystem-safe slug of the attack variant, e.g. 'removalnet-alpha-0.4'. */
  rowId: string;
  /** Attack id, e.g. 'removalnet'. */
  attack: string;
  /** Human label, e.g. 'removalnet(alpha=0.4)'. */
  label: string;
  /** Scenario id; '-' for negative models (no attacker data scenario). */
  scenario: string;
}

export interface ResultMetric {
  mean: number;
  /** Sample standard deviation (n - 1); 0 for a single suspect. */
  std: number;
  tau: number | null;
  /** Suspects this metric flagged as derived. */
  flagged: number;
  /** Suspects with a value for this metric. */
  n: number;
  degenerate?: boolean;
}

export interface ResultRow {
  rowId: string;
  attack: string;
  label: string;
  scenario: string;
  /** Finished suspects in the row. */
  suspects: number;
  /** Means over the row's suspects (fractions, not percent); null while the row has none. */
  fidelity: { accuracy: number; drop: number; accuracyStd: number; agreement: number } | null;
  /** Per metric id; only metrics with at least one value in the row. */
  metrics: Record<string, ResultMetric>;
  /** verdict for code, label for people: 'Yes (3/3)' / 'No (1/3)'; '-' while no suspect of the row has a verdict. */
  ownership: { derived: number; total: number; verdict: Verdict; label: string };
  /**
   * Per defence id: how many of the row's suspects it recognises on its own (a strict
   * majority of its non-degenerate metrics flag the suspect), how many are ties (as many
   * flag as do not: not recognised), of the suspects it could judge.
   */
  defenses: Record<string, DefenseRecognition>;
  /** Means per suspect. */
  compute: { seconds: number; passes: number; iterations: number };
}

export interface DefenseRecognition {
  recognised: number;
  ties: number;
  judged: number;
}

/** A metric column: its threshold from the calibration (tau null before calibration or when not finite). */
export interface MetricColumn {
  id: string;
  kind: MetricKind | null;
  tau: number | null;
  degenerate: boolean;
}

export interface ResultsTable {
  runId: string;
  status: RunStatus;
  /** The victim's test accuracy the drops are measured from (null when unknown). */
  victimAccuracy: number | null;
  /** Column order: calibration metrics, then any other metric seen in the values. */
  metrics: MetricColumn[];
  rows: ResultRow[];
}

/** Fidelity and one value per metric of a suspect over its attack's iterations (checkpoints). */
export interface Trajectory {
  suspectKey: string;
  rowId: string;
  points: {
    iteration: number;
    fidelity: number;
    agreement?: number;
    metrics: Record<string, { value: number | null; normalized: number | null }>;
  }[];
}

export interface SuspectSummary {
  /** The suspect's key (its attack job's key). */
  key: string;
  rowId: string;
  scenario: string;
  accuracy: number;
  agreement: number;
  victimAccuracy: number;
  /** null until the suspect has been scored against a calibration. */
  derived: boolean | null;
  seconds: number;
  passes: number;
  iterations: number;
}

export interface MetricValueSummary {
  suspectKey: string;
  metricId: string;
  value: number | null;
  flagged: boolean | null;
  /** Values at checkpoints (iteration not null) are ignored here: the table shows final values. */
  iteration?: number | null;
}

export interface ResultsInput {
  runId: string;
  status: RunStatus;
  /** null: use the mean of the suspects' own victimAccuracy. */
  victimAccuracy: number | null;
  calibration: { id: string; kind: MetricKind; tau: number | null; degenerate: boolean }[];
  rows: RowDef[];
  suspects: SuspectSummary[];
  metricValues: MetricValueSummary[];
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
}

/** Sample standard deviation (n - 1); 0 for fewer than two values. */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

const finiteOrNull = (x: number | null | undefined): number | null =>
  typeof x === 'number' && Number.isFinite(x) ? x : null;

export function buildResultsTable(input: ResultsInput): ResultsTable {
  const columns: MetricColumn[] = input.calibration.map((c) => ({
    id: c.id,
    kind: c.kind,
    tau: finiteOrNull(c.tau),
    degenerate: c.degenerate,
  }));
  const finals = input.metricValues.filter((v) => v.iteration === undefined || v.iteration === null);
  for (const v of finals) {
    if (!v.metricId.startsWith('fidelity.') && !columns.some((c) => c.id === v.metricId))
      columns.push({ id: v.metricId, kind: null, tau: null, degenerate: false });
  }
  const valuesBySuspect = new Map<string, MetricValueSummary[]>();
  for (const v of finals) valuesBySuspect.set(v.suspectKey, [...(valuesBySuspect.get(v.suspectKey) ?? []), v]);
  const suspectVictimAccuracy = mean(input.suspects.map((s) => s.victimAccuracy));
  const victimAccuracy = finiteOrNull(input.victimAccuracy) ?? finiteOrNull(suspectVictimAccuracy);

  const rows = input.rows.map((def): ResultRow => {
    const suspects = input.suspects.filter((s) => s.rowId === def.rowId && s.scenario === def.scenario);
    const n = suspects.length;
    const judged = suspects.filter((s) => s.derived !== null);
    const derived = judged.filter((s) => s.derived === true).length;
    const row: ResultRow = {
      ...def,
      suspects: n,
      fidelity: null,
      metrics: {},
      ownership: {
        derived,
        total: judged.length,
        verdict: ownershipVerdict(derived, judged.length),
        label: ownershipLabel(derived, judged.length),
      },
      compute: { seconds: 0, passes: 0, iterations: 0 },
      defenses: {},
    };
    if (n === 0) return row;
    row.defenses = recognitionByDefense(suspects, valuesBySuspect, columns);
    const accuracies = suspects.map((s) => s.accuracy);
    const accuracy = mean(accuracies);
    const rowVictim = victimAccuracy ?? mean(suspects.map((s) => s.victimAccuracy));
    row.fidelity = {
      accuracy,
      accuracyStd: sampleStd(accuracies),
      drop: rowVictim - accuracy,
      agreement: mean(suspects.map((s) => s.agreement)),
    };
    row.compute = {
      seconds: mean(suspects.map((s) => s.seconds)),
      passes: mean(suspects.map((s) => s.passes)),
      iterations: mean(suspects.map((s) => s.iterations)),
    };
    for (const col of columns) {
      const vals = suspects.flatMap((s) =>
        (valuesBySuspect.get(s.key) ?? []).filter(
          (v) => v.metricId === col.id && typeof v.value === 'number' && Number.isFinite(v.value),
        ),
      );
      if (vals.length === 0) continue;
      const xs = vals.map((v) => v.value as number);
      row.metrics[col.id] = {
        mean: mean(xs),
        std: sampleStd(xs),
        tau: col.tau,
        flagged: vals.filter((v) => v.flagged === true).length,
        n: xs.length,
        ...(col.kind !== null ? { degenerate: col.degenerate } : {}),
      };
    }
    return row;
  });
  return { runId: input.runId, status: input.status, victimAccuracy, metrics: columns, rows };
}

/** A metric id's defence: 'deepjudge.lod' -> 'deepjudge'. */
export function metricDefense(metricId: string): string {
  return metricId.split('.')[0];
}

/**
 * Each defence's own verdict on each suspect (the audit's strict majority, applied to the
 * defence's non-degenerate metrics with a value and a flag), counted over the suspects.
 */
function recognitionByDefense(
  suspects: readonly SuspectSummary[],
  valuesBySuspect: ReadonlyMap<string, MetricValueSummary[]>,
  columns: readonly MetricColumn[],
): Record<string, DefenseRecognition> {
  const voting = new Set(columns.filter((c) => c.kind !== null && c.tau !== null && !c.degenerate).map((c) => c.id));
  const out: Record<string, DefenseRecognition> = {};
  for (const s of suspects) {
    const byDefense = new Map<string, { flagged: number; of: number }>();
    for (const v of valuesBySuspect.get(s.key) ?? []) {
      if (!voting.has(v.metricId) || v.flagged === null || v.value === null) continue;
      const d = metricDefense(v.metricId);
      const c = byDefense.get(d) ?? { flagged: 0, of: 0 };
      c.of += 1;
      if (v.flagged) c.flagged += 1;
      byDefense.set(d, c);
    }
    for (const [d, c] of byDefense) {
      const r = (out[d] ??= { recognised: 0, ties: 0, judged: 0 });
      r.judged += 1;
      if (c.flagged * 2 > c.of) r.recognised += 1;
      else if (c.flagged * 2 === c.of) r.ties += 1;
    }
  }
  return out;
}

/** A fixed-width text table for terminals: row, scenario, acc %, drop (points), metrics `mean±std` (tau in the header), ownership. */
export function formatResultsTable(table: ResultsTable): string {
  const header1 = ['row', 'scenario', 'acc %', 'drop', ...table.metrics.map((m) => m.id), 'ownership'];
  const header2 = [
    '',
    '',
    '',
    '',
    ...table.metrics.map((m) => `tau ${m.tau === null ? '-' : formatNumber(m.tau)}${m.degenerate ? '!' : ''}`),
    '',
  ];
  const body = table.rows.map((r) => [
    r.label,
    r.scenario,
    r.fidelity ? percent(r.fidelity.accuracy) : '-',
    r.fidelity ? percent(r.fidelity.drop) : '-',
    ...table.metrics.map((m) => {
      const v = r.metrics[m.id];
      if (!v) return r.suspects ? 'n/a' : '-';
      return `${formatNumber(v.mean)}±${formatNumber(v.std)}`;
    }),
    r.ownership.label,
  ]);
  const all = [header1, header2, ...body];
  const widths = header1.map((_, c) => Math.max(...all.map((line) => line[c].length)));
  const render = (line: string[]): string =>
    line
      .map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  const lines = [render(header1), render(header2), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(render)];
  const notes = [
    `victim accuracy ${table.victimAccuracy === null ? '-' : `${percent(table.victimAccuracy)} %`}`,
    `status ${table.status}`,
  ];
  if (table.metrics.some((m) => m.degenerate))
    notes.push('! degenerate threshold (every reference reached the same value; the metric does not vote)');
  return [...lines, '', notes.join('; '), ...perDefenseLines(table)].join('\n');
}

/** 'deepjudge: finetune/ltd10 2/3, removalnet/ltd10 0/5 (2 ties)': each defence on its own, per row. */
function perDefenseLines(table: ResultsTable): string[] {
  const ids = [...new Set(table.rows.flatMap((r) => Object.keys(r.defenses)))];
  if (ids.length === 0) return [];
  return [
    'recognised per defence (suspects a defence alone judges derived; a tie is not recognition):',
    ...ids.map(
      (id) =>
        `  ${id}: ${table.rows
          .filter((r) => r.defenses[id])
          .map((r) => {
            const d = r.defenses[id];
            return `${r.label}/${r.scenario} ${d.recognised}/${d.judged}${d.ties ? ` (${d.ties} ${d.ties === 1 ? 'tie' : 'ties'})` : ''}`;
          })
          .join(', ')}`,
    ),
  ];
}
