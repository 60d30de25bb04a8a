/**
 * Machine-readable exports of a run: the results table as CSV (one line per row, full
 * precision, fractions not percent) and the whole run as JSON (spec, table, findings,
 * separability (engine/verdict/separability.ts), the evasion frontier when planned, calibration, suspects, metric values,
 * trajectories, attack results, environment).
 */
import type { ResultsTable } from '../../src-shared/audit/results';
import type { ReportData } from './data';
import { findings } from './findings';
import { separabilityData } from './separability';

function csvCell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * RFC 4180 CSV: row_id, label, attack, scenario, suspects, accuracy, accuracy_std, drop,
 * agreement, then per metric <id>_mean, _std, _flagged, _n, _tau, then ownership, derived,
 * total, seconds, passes, iterations. Empty cells where a row has no value.
 */
export function tableCsv(table: ResultsTable): string {
  const header = [
    'row_id',
    'label',
    'attack',
    'scenario',
    'suspects',
    'accuracy',
    'accuracy_std',
    'drop',
    'agreement',
    ...table.metrics.flatMap((m) => [`${m.id}_mean`, `${m.id}_std`, `${m.id}_flagged`, `${m.id}_n`, `${m.id}_tau`]),
    'ownership',
    'derived',
    'total',
    'seconds',
    'passes',
    'iterations',
  ];
  const lines = table.rows.map((r) => [
    r.rowId,
    r.label,
    r.attack,
    r.scenario,
    r.suspects,
    r.fidelity?.accuracy,
    r.fidelity?.accuracyStd,
    r.fidelity?.drop,
    r.fidelity?.agreement,
    ...table.metrics.flatMap((m) => {
      const v = r.metrics[m.id];
      return [v?.mean, v?.std, v?.flagged, v?.n, m.tau];
    }),
    r.ownership.label,
    r.ownership.derived,
    r.ownership.total,
    r.suspects ? r.compute.seconds : null,
    r.suspects ? r.compute.passes : null,
    r.suspects ? r.compute.iterations : null,
  ]);
  return `${[header, ...lines].map((l) => l.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/** The run as one JSON object (formatVersion 1). */
export function runJson(data: ReportData): Record<string, unknown> {
  const { run } = data;
  return {
    formatVersion: 1,
    generatedAt: data.generatedAt,
    run: {
      id: run.id,
      name: run.name,
      status: run.status,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      wallSeconds: run.wallSeconds,
      backend: run.backend,
      versions: run.versions,
      specHash: run.specHash,
      workDir: run.workDir,
      error: run.error,
    },
    spec: data.spec,
    table: data.table,
    findings: findings(data).map((f) => ({ defense: f.defense, name: f.name, metrics: f.metrics, text: f.text })),
    separability: separabilityData(data),
    ...(data.frontier ? { frontier: data.frontier } : {}),
    calibration: data.calibration,
    suspects: data.suspects,
    metricValues: data.finalValues,
    trajectories: data.trajectories,
    attacks: data.attacks.map((a) => ({
      key: a.key,
      rowId: a.rowId,
      label: a.label,
      attack: a.attack,
      scenario: a.scenario,
      seed: a.seed,
      status: a.status,
      block: a.block,
      result: a.result,
    })),
    environment: data.environment,
  };
}
