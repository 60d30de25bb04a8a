/**
 * How numbers are written wherever results are shown (the CLI's table, the workbench, the
 * report): metric values to three significant digits, accuracies and drops in percent with
 * two decimals, a metric cell as "mean ± std" once a row has two suspects.
 */

/** Three significant digits, without exponent notation for ordinary magnitudes. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1000 || a < 1e-3) return x.toExponential(2);
  return String(Number(x.toPrecision(3)));
}

/** A fraction in percent with two decimals: 0.8931 -> '89.31'. */
export const percent = (x: number): string => (x * 100).toFixed(2);

/** 'mean ± std' with at least two values, else the mean alone. */
export function formatMetricCell(m: { mean: number; std: number; n: number }): string {
  return m.n >= 2 ? `${formatNumber(m.mean)} ± ${formatNumber(m.std)}` : formatNumber(m.mean);
}

/** A threshold, '-' when there is none. */
export function formatTau(tau: number | null): string {
  return tau === null ? '-' : formatNumber(tau);
}
