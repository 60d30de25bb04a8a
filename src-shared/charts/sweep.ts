/**
 * A swept setting against its effect (paper Fig. 6, substitute data size, and Fig. 8, the
 * alpha and beta ablation): two panels per sweep, with the swept values on a category axis
 * in order. The left panel is the surrogates' mean test accuracy, the right one each
 * metric's mean value / tau, with the dashed line at 1 where the metric's verdict flips (a
 * distance flags below it, a similarity above it; similarities are drawn dashed). The axis
 * turns logarithmic when the ratios span more than tenfold.
 *
 * The values are row means, so a point may average a different number of suspects than its
 * neighbour (a sweep of one seed beside a main row of five): `n` goes into the tooltip and
 * the caller's caption says so.
 */
import type { EChartsOption } from 'echarts';
import { TAU_COLOR, baseOption, colorAt, isFiniteNumber, legendHeight, niceRange, wrappingLegend } from './common';
import { niceCeil } from './trajectory';
import type { MetricKind } from '../domain/metrics';

export interface SweepPoint {
  /** The swept value, e.g. 0.05 or 'block2'. */
  x: number | string;
  /** Mean test accuracy of the row's suspects (fraction). */
  fidelity: number;
  /** Suspects averaged. */
  n: number;
  /** Mean value / tau per metric id; null where the metric has no value or no tau. */
  normalized: Record<string, number | null>;
}

export interface SweepChartData {
  /** e.g. 'alpha of RemovalNet-alpha'. */
  title: string;
  /** The swept parameter, the x axis' name. */
  param: string;
  metrics: { id: string; label: string; kind: MetricKind | null }[];
  /** One line per group of rows that differ only in the swept value (usually one). */
  series: { name: string; points: SweepPoint[] }[];
  victimAccuracy?: number | null;
}

/** The swept values of every series, in order: numbers ascending, then strings as met. */
export function sweepCategories(data: Pick<SweepChartData, 'series'>): string[] {
  const xs = data.series.flatMap((s) => s.points.map((p) => p.x));
  const numbers = [...new Set(xs.filter((x): x is number => typeof x === 'number'))].sort((a, b) => a - b);
  const strings = [...new Set(xs.filter((x): x is string => typeof x === 'string'))];
  return [...numbers.map(String), ...strings];
}

const xAxisFor = (data: SweepChartData, categories: string[]): Record<string, unknown> => ({
  type: 'category',
  data: categories,
  name: data.param,
  nameLocation: 'middle',
  nameGap: 26,
  boundaryGap: true,
  axisLabel: { fontSize: 10 },
});

/** Left panel: mean test accuracy against the swept value, the victim's as a dotted line. */
export function sweepFidelityOption(data: SweepChartData, width = 335): EChartsOption {
  const categories = sweepCategories(data);
  const victim = isFiniteNumber(data.victimAccuracy) ? data.victimAccuracy : null;
  const ys = [
    ...data.series.flatMap((s) => s.points.map((p) => p.fidelity * 100)).filter(isFiniteNumber),
    ...(victim !== null ? [victim * 100] : []),
  ];
  const y = ys.length
    ? niceRange(Math.min(...ys), Math.max(...ys), { floor: 0, ceil: 100 })
    : { min: 0, max: 100, interval: 20 };
  const option: EChartsOption = {
    ...baseOption(`Fidelity against ${data.param}`, data.title),
    grid: { left: 52, right: 16, top: 56, bottom: 52 + legendHeight(data.series.length, width, 24) },
    legend: wrappingLegend(),
    tooltip: { trigger: 'item' },
    xAxis: xAxisFor(data, categories),
    yAxis: {
      type: 'value',
      name: 'test accuracy %',
      nameLocation: 'middle',
      nameGap: 36,
      min: y.min,
      max: y.max,
      interval: y.interval,
      axisLabel: { fontSize: 10 },
    },
    series: data.series.map((s, i) => ({
      type: 'line' as const,
      name: s.name,
      color: colorAt(i),
      symbol: 'circle',
      symbolSize: 6,
      lineStyle: { width: 1.5 },
      connectNulls: true,
      data: categories.map((c) => {
        const p = s.points.find((q) => String(q.x) === c);
        return p && isFiniteNumber(p.fidelity) ? { value: p.fidelity * 100, n: p.n } : null;
      }),
      ...(i === 0 && victim !== null
        ? {
            markLine: {
              silent: true,
              symbol: 'none',
              data: [
                {
                  yAxis: victim * 100,
                  lineStyle: { color: '#888', type: 'dotted', width: 1 },
                  label: { formatter: 'victim', color: '#666', position: 'insideEndTop', fontSize: 10 },
                },
              ],
            },
          }
        : {}),
    })),
  };
  return option;
}

/** Right panel: every metric's mean value / tau against the swept value, tau at 1. */
export function sweepMetricsOption(data: SweepChartData, width = 335): EChartsOption {
  const categories = sweepCategories(data);
  const lines = data.series.flatMap((s) =>
    data.metrics.map((m) => ({
      name: data.series.length > 1 ? `${m.label} · ${s.name}` : m.label,
      kind: m.kind,
      values: categories.map((c) => {
        const v = s.points.find((q) => String(q.x) === c)?.normalized[m.id];
        return isFiniteNumber(v) ? v : null;
      }),
    })),
  );
  const drawn0 = lines.filter((l) => l.values.some((v) => v !== null));
  const ys = drawn0.flatMap((l) => l.values.filter(isFiniteNumber));
  const positive = ys.filter((v) => v > 0);
  // A log axis once the ratios span more than 10x (IPGuard's matching rate over a tau of
  // 0.02 reads 15, the distances near 1): on a linear axis everything else would sit on the
  // floor. A log axis cannot draw 0, so a zero value is left out there and the subtitle says so.
  const log = positive.length > 0 && Math.max(1, ...positive) / Math.min(1, ...positive) > 10;
  const zeros = log && ys.some((v) => v <= 0);
  const drawn = log
    ? drawn0.map((l) => ({ ...l, values: l.values.map((v) => (v !== null && v > 0 ? v : null)) }))
    : drawn0;
  const yMax = log
    ? 10 ** Math.ceil(Math.log10(Math.max(1.2, ...positive) * 1.05))
    : niceCeil(Math.max(1.2, ...ys) * 1.05);
  const yMin = log ? 10 ** Math.floor(Math.log10(Math.min(1, ...positive))) : 0;
  const option: EChartsOption = {
    ...baseOption(
      'Metric / tau',
      `distance flags below 1, similarity (dashed) above${log ? '; log axis' : ''}${zeros ? ', zeros not drawn' : ''}`,
    ),
    grid: { left: 44, right: 16, top: 56, bottom: 52 + legendHeight(drawn.length, width, 14) },
    legend: wrappingLegend(),
    tooltip: { trigger: 'item' },
    xAxis: xAxisFor(data, categories),
    yAxis: {
      type: log ? 'log' : 'value',
      ...(log ? { logBase: 10 } : {}),
      name: 'value / tau',
      nameLocation: 'middle',
      nameGap: 30,
      min: yMin,
      max: yMax,
      axisLabel: { fontSize: 10 },
    },
    series: drawn.map((l, i) => ({
      type: 'line' as const,
      name: l.name,
      color: colorAt(i),
      symbol: l.kind === 'similarity' ? 'triangle' : 'circle',
      symbolSize: 6,
      lineStyle: { width: 1.5, type: l.kind === 'similarity' ? ('dashed' as const) : ('solid' as const) },
      connectNulls: true,
      data: l.values,
      ...(i === 0
        ? {
            markLine: {
              silent: true,
              symbol: 'none',
              lineStyle: { color: TAU_COLOR, type: 'dashed', width: 1.5 },
              label: { formatter: 'tau', color: TAU_COLOR, position: 'end' },
              data: [{ yAxis: 1 }],
            },
          }
        : {}),
    })),
  };
  return option;
}
