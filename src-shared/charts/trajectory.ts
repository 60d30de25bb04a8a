/**
 * Fidelity against normalised distance over an attack's checkpoints (paper Fig. 4-5): each
 * suspect is a line through its checkpoints in iteration order, x = metric value / tau,
 * y = test accuracy. The vertical line at x = 1 is tau: a distance metric flags a suspect
 * left of it (a similarity metric right of it), and the shaded band marks that side. A
 * removal attack that works walks out of the band while keeping its accuracy.
 */
import type { EChartsOption } from 'echarts';
import { TAU_COLOR, baseOption, colorAt, isFiniteNumber, legendHeight, niceRange, wrappingLegend } from './common';
import type { MetricKind } from '../domain/metrics';

export interface TrajectoryPoint {
  iteration: number;
  /** Test accuracy as a fraction (drawn in percent). */
  fidelity: number;
  /** Metric value / tau. */
  normalized: number;
}

export interface TrajectoryChartData {
  metricId: string;
  /** e.g. 'DeepJudge LOD'. */
  metricLabel: string;
  kind: MetricKind | null;
  /** One line per suspect; lines of one `group` (an attack row) share a colour and a legend entry. */
  /** `color`: the line's own (an attack's colour, shared by its group); the palette by group otherwise. */
  series: { name: string; group?: string; color?: string; points: TrajectoryPoint[] }[];
  /** Suspects left out of the chart (the caller's caption explains). */
  omittedVariants?: number;
  /** Overrides the default title. */
  title?: string;
}

/** A round upper bound a little above x (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 times a power of ten). */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  const m = x / p;
  const step = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((s) => s >= m - 1e-9) ?? 10;
  return step * p;
}

export function trajectoryOption(data: TrajectoryChartData): EChartsOption {
  const series = data.series
    .map((s) => ({
      name: s.name,
      group: s.group,
      color: s.color,
      points: [...s.points]
        .filter((p) => isFiniteNumber(p.normalized) && isFiniteNumber(p.fidelity))
        .sort((a, b) => a.iteration - b.iteration),
    }))
    .filter((s) => s.points.length > 0);
  const xs = series.flatMap((s) => s.points.map((p) => p.normalized));
  const ys = series.flatMap((s) => s.points.map((p) => p.fidelity * 100));
  const y = ys.length
    ? niceRange(Math.min(...ys), Math.max(...ys), { floor: 0, ceil: 100 })
    : { min: 0, max: 100, interval: 20 };
  const xMax = niceCeil(Math.max(1.2, ...xs) * 1.05);
  const xMin = Math.min(0, ...xs);
  // With groups, one legend entry and colour per group; the suspect's own name stays in the tooltip.
  const groups = [...new Set(series.map((s) => s.group ?? s.name))];
  const colorOf = (s: { name: string; group?: string; color?: string }): string =>
    s.color ?? colorAt(groups.indexOf(s.group ?? s.name));
  const flaggedBand = data.kind === 'similarity' ? [1, xMax] : data.kind === 'distance' ? [xMin, 1] : null;
  const option: EChartsOption = {
    ...baseOption(
      data.title ?? `Fidelity against ${data.metricLabel} / tau over the attack`,
      data.kind ? `${data.kind}: flagged ${data.kind === 'distance' ? 'left' : 'right'} of tau (shaded)` : undefined,
    ),
    grid: { left: 56, right: 24, top: 56, bottom: 56 + legendHeight(groups.length, 680, 28) },
    legend: wrappingLegend(),
    tooltip: { trigger: 'item' },
    xAxis: {
      type: 'value',
      name: `${data.metricLabel} / tau`,
      nameLocation: 'middle',
      nameGap: 26,
      min: xMin,
      max: xMax,
      axisLabel: { fontSize: 10 },
    },
    yAxis: {
      type: 'value',
      name: 'test accuracy %',
      nameLocation: 'middle',
      nameGap: 38,
      min: y.min,
      max: y.max,
      interval: y.interval,
      axisLabel: { fontSize: 10 },
    },
    series: series.map((s, i) => ({
      type: 'line' as const,
      name: s.group ?? s.name,
      color: colorOf(s),
      symbol: 'circle',
      symbolSize: 5,
      lineStyle: { width: 1.5 },
      data: s.points.map((p) => ({ value: [p.normalized, p.fidelity * 100, p.iteration], name: s.name })),
      encode: { x: 0, y: 1 },
      ...(i === 0
        ? {
            markLine: {
              silent: true,
              symbol: 'none',
              lineStyle: { color: TAU_COLOR, type: 'dashed', width: 1.5 },
              label: { formatter: 'tau', color: TAU_COLOR, position: 'end' },
              data: [{ xAxis: 1 }],
            },
            ...(flaggedBand
              ? {
                  markArea: {
                    silent: true,
                    itemStyle: { color: 'rgba(192, 57, 43, 0.07)' },
                    data: [[{ xAxis: flaggedBand[0] }, { xAxis: flaggedBand[1] }]],
                  },
                }
              : {}),
          }
        : {}),
    })),
  };
  return option;
}
