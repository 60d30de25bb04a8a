/**
 * The values of one metric per attack row as box plots against tau: the
 * box spans the quartiles of the row's suspects, whiskers the extremes, and every suspect
 * is also drawn as a dot (audits often have one to five suspects per row, too few for a
 * box to mean much on its own). The dashed line is tau: below it a distance flags the
 * suspect as derived, above it a similarity does.
 */
import type { EChartsOption } from 'echarts';
import { TAU_COLOR, baseOption, compactNumber, isFiniteNumber, niceRange } from './common';
import type { MetricKind } from '../domain/metrics';

export interface MetricBoxplotData {
  metricId: string;
  metricLabel: string;
  kind: MetricKind | null;
  tau: number | null;
  degenerate?: boolean;
  /** One box per row, in table order; rows without values are left out. */
  rows: { label: string; sublabel?: string; values: number[] }[];
  title?: string;
}

/** Quantile q of sorted values, linear interpolation between order statistics. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** [min, Q1, median, Q3, max], as echarts' boxplot series expects. */
export function fiveNumbers(values: readonly number[]): [number, number, number, number, number] {
  const s = values.filter(isFiniteNumber).sort((a, b) => a - b);
  return [s[0], quantileSorted(s, 0.25), quantileSorted(s, 0.5), quantileSorted(s, 0.75), s[s.length - 1]];
}

export function metricBoxplotOption(data: MetricBoxplotData): EChartsOption {
  const rows = data.rows
    .map((r) => ({ ...r, values: r.values.filter(isFiniteNumber) }))
    .filter((r) => r.values.length > 0);
  // Long labels break before their parameters: 'FT(ratio=0.5)' -> 'FT' over '(ratio=0.5)'.
  const wrap = (s: string): string => (s.length > 10 && s.indexOf('(') > 0 ? s.replace('(', '\n(') : s);
  const categories = rows.map((r) => (r.sublabel ? `${wrap(r.label)}\n${r.sublabel}` : wrap(r.label)));
  const tau = isFiniteNumber(data.tau) ? data.tau : null;
  const all = [...rows.flatMap((r) => r.values), ...(tau !== null ? [tau] : [])];
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  // Round bounds that include tau (values of every defence's metrics are >= 0).
  const y = niceRange(lo, hi, { floor: 0 });
  const sub = [
    data.kind === 'distance' ? 'distance: lower flags' : data.kind === 'similarity' ? 'similarity: higher flags' : '',
    tau !== null ? `tau ${compactNumber(tau)}` : 'no tau',
    data.degenerate ? 'degenerate: does not vote' : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    ...baseOption(data.title ?? data.metricLabel, sub),
    grid: { left: 46, right: tau !== null ? 44 : 16, top: 54, bottom: 62 },
    tooltip: { trigger: 'item' },
    xAxis: {
      type: 'category',
      data: categories,
      axisLabel: { interval: 0, fontSize: 9, lineHeight: 11 },
      axisTick: { alignWithLabel: true },
    },
    yAxis: {
      type: 'value',
      min: y.min,
      max: y.max,
      interval: y.interval,
      axisLabel: { fontSize: 10, formatter: (v: number) => compactNumber(v) },
      splitLine: { lineStyle: { color: '#e5e5e5' } },
    },
    series: [
      {
        type: 'boxplot',
        name: data.metricLabel,
        itemStyle: { color: 'rgba(78, 121, 167, 0.18)', borderColor: '#4e79a7', borderWidth: 1.2 },
        boxWidth: [8, 36],
        data: rows.map((r) => fiveNumbers(r.values)),
        ...(tau !== null
          ? {
              markLine: {
                silent: true,
                symbol: 'none',
                lineStyle: { color: TAU_COLOR, type: 'dashed', width: 1.5 },
                // Outside the plot, right of the line's end: inside it would cover a box.
                label: { formatter: 'tau', color: TAU_COLOR, position: 'end', fontSize: 10 },
                data: [{ yAxis: tau }],
              },
            }
          : {}),
      },
      {
        type: 'scatter',
        name: 'suspects',
        symbolSize: 6,
        itemStyle: { color: '#f28e2b', borderColor: '#fff', borderWidth: 0.5 },
        data: rows.flatMap((r, i) => r.values.map((v) => [i, v])),
      },
    ],
  };
}
