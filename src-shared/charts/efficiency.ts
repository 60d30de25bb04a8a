/**
 * Attack cost against fidelity (paper Fig. 7): KnockoffNets' learning curve (test accuracy
 * of the surrogate over its training, x = forward + backward passes spent so far) with
 * RemovalNet's surrogates as points at their final accuracy and total cost. The dashed
 * lines through the RemovalNet point show how far the stealing attack must go to match it;
 * the grey line is the victim's accuracy.
 *
 * Passes count per example (a batch of 128 through a network is 128), as the engine's
 * AttackCompute does; a curve point's cost is the run's cost prorated by iteration (every
 * iteration of one attack costs the same number of passes).
 */
import type { EChartsOption } from 'echarts';
import {
  TAU_COLOR,
  baseOption,
  colorAt,
  compactNumber,
  isFiniteNumber,
  legendHeight,
  niceRange,
  wrappingLegend,
} from './common';

export interface EfficiencyChartData {
  /** Learning curves (KnockoffNets), accuracy as fractions; `color`: the attack's (the palette otherwise). */
  curves: { name: string; color?: string; points: { passes: number; fidelity: number }[] }[];
  /** Final accuracy and total cost of each RemovalNet surrogate. */
  marks: { name: string; passes: number; fidelity: number }[];
  /** The marked attack's colour (the threshold red otherwise). */
  markColor?: string;
  victimAccuracy?: number | null;
  title?: string;
  /** Name of the marked attack in the legend (default 'RemovalNet'). */
  markLabel?: string;
}

export function efficiencyOption(data: EfficiencyChartData): EChartsOption {
  const curves = data.curves
    .map((c) => ({
      name: c.name,
      color: c.color,
      points: c.points
        .filter((p) => isFiniteNumber(p.passes) && isFiniteNumber(p.fidelity))
        .sort((a, b) => a.passes - b.passes),
    }))
    .filter((c) => c.points.length > 0);
  const marks = data.marks.filter((m) => isFiniteNumber(m.passes) && isFiniteNumber(m.fidelity));
  const markLabel = data.markLabel ?? 'RemovalNet';
  const markColor = data.markColor ?? TAU_COLOR;
  const meanMark = marks.length
    ? {
        passes: marks.reduce((a, m) => a + m.passes, 0) / marks.length,
        fidelity: marks.reduce((a, m) => a + m.fidelity, 0) / marks.length,
      }
    : null;
  const victim = isFiniteNumber(data.victimAccuracy) ? data.victimAccuracy : null;
  // Explicit y range: echarts leaves mark lines out of the axis extent, and the victim line must show.
  const ys = [
    ...curves.flatMap((c) => c.points.map((p) => p.fidelity * 100)),
    ...marks.map((m) => m.fidelity * 100),
    ...(victim !== null ? [victim * 100] : []),
  ];
  const y = ys.length
    ? niceRange(Math.min(...ys), Math.max(...ys), { floor: 0, ceil: 100 })
    : { min: 0, max: 100, interval: 20 };
  const legendItems = curves.length + (marks.length ? 1 : 0);
  // Costs that span more than two decades (KnockoffNets' first points against its last, or a
  // cheap RemovalNet point) go on a log axis: on a linear one they squash against zero.
  const xs = [...curves.flatMap((c) => c.points.map((p) => p.passes)), ...marks.map((m) => m.passes)].filter(
    (v) => v > 0,
  );
  const logX = xs.length > 1 && Math.max(...xs) / Math.min(...xs) > 100;
  const option: EChartsOption = {
    ...baseOption(data.title ?? `Attack cost against fidelity: KnockoffNets' learning curve and ${markLabel}`),
    grid: { left: 56, right: 28, top: 44, bottom: 56 + legendHeight(legendItems, 680, 28) },
    legend: wrappingLegend(),
    tooltip: { trigger: 'item' },
    xAxis: {
      type: logX ? 'log' : 'value',
      name: `forward + backward passes (per example${logX ? ', log scale' : ''})`,
      nameLocation: 'middle',
      nameGap: 26,
      ...(logX ? {} : { min: 0 }),
      axisLabel: { fontSize: 10, formatter: (v: number) => compactNumber(v) },
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
    series: [
      ...curves.map((c, i) => ({
        type: 'line' as const,
        name: c.name,
        color: c.color ?? colorAt(i),
        symbol: 'circle',
        symbolSize: 4,
        lineStyle: { width: 1.5 },
        // A log axis cannot place a zero cost (the untrained first point).
        data: c.points.filter((p) => !logX || p.passes > 0).map((p) => [p.passes, p.fidelity * 100]),
      })),
      ...(marks.length
        ? [
            {
              type: 'scatter' as const,
              name: markLabel,
              color: markColor,
              symbol: 'diamond',
              symbolSize: 11,
              data: marks.filter((m) => !logX || m.passes > 0).map((m) => [m.passes, m.fidelity * 100]),
            },
          ]
        : []),
    ],
  };
  // Reference lines ride on the first series: the victim's accuracy, and the mean RemovalNet point's level and cost.
  const first = (option.series as Record<string, unknown>[])[0];
  const lines: Record<string, unknown>[] = [];
  if (victim !== null)
    lines.push({
      yAxis: victim * 100,
      lineStyle: { color: '#888', type: 'dotted', width: 1 },
      label: { formatter: 'victim', color: '#666', position: 'insideEndTop', fontSize: 10 },
    });
  if (meanMark) {
    lines.push({
      yAxis: meanMark.fidelity * 100,
      lineStyle: { color: markColor, type: 'dashed', width: 1 },
      label: { formatter: markLabel, color: markColor, position: 'insideEndBottom', fontSize: 10 },
    });
    lines.push({
      xAxis: meanMark.passes,
      lineStyle: { color: markColor, type: 'dashed', width: 1 },
      label: { show: false },
    });
  }
  if (first && lines.length) first.markLine = { silent: true, symbol: 'none', data: lines };
  return option;
}
