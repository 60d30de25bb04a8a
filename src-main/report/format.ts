/**
 * How the report writes numbers, shared by the HTML table and the tests that read the
 * PDF's text back: accuracies in percent with two decimals, drops in percentage points,
 * metric cells as mean ± std (three significant digits, as the CLI's table), tau likewise.
 */
import type { ResultRow } from '../../src-shared/audit/results';
import { formatMetricCell, formatNumber, formatTau, percent } from '../../src-shared/format';
import type { ThresholdRule } from '../engine/calibration/rules';

export { formatMetricCell, formatNumber, formatTau, percent };

/** The row's accuracy and drop cells. */
export function formatFidelity(r: Pick<ResultRow, 'fidelity'>): { accuracy: string; drop: string } {
  return r.fidelity
    ? { accuracy: percent(r.fidelity.accuracy), drop: percent(r.fidelity.drop) }
    : { accuracy: '-', drop: '-' };
}

export function ruleText(rule: ThresholdRule | undefined): string {
  if (!rule) return '-';
  switch (rule.name) {
    case 'paper':
      return 'paper: the closest reference (lowest distance / highest similarity)';
    case 'normal':
      return `normal fit, p = ${rule.parameter ?? 0.05}`;
    case 'confidence':
      return `prediction bound, confidence ${rule.parameter ?? 0.99}`;
    case 'quantile':
      return `empirical quantile q = ${rule.parameter ?? 0.05}`;
    case 'reference-ratio':
      return `ratio ${rule.parameter ?? 1} x mean reference value`;
    default:
      return String((rule as { name: string }).name);
  }
}

export function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '-';
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** '7 December 2026, 06:07:22 UTC'; the string itself when it is not a date. */
export function readableUtc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC`;
}
