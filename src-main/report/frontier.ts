/**
 * The evasion frontier on the report's first page (issue 18): per grid of the spec's
 * `frontier` block, each defence's recognition rate (y) against the fidelity drop the
 * attacker paid (x), one line per defence through the grid's values in order (final models)
 * and, when the grid walks iterations, its checkpoints as small dots; the ceiling (20% by
 * default) as a dashed line. Under it, one sentence per defence (src-shared/audit/frontier.ts).
 */
import type { EChartsOption } from 'echarts';
import type { FrontierGridResult, FrontierPoint, FrontierResult } from '../../src-shared/audit/frontier';
import { baseOption, colorAt, legendHeight, wrappingLegend } from '../../src-shared/charts/common';
import { chart, FULL_WIDTH, type ChartFigure } from './figures';
import { escapeHtml as e } from './html';

const point = (p: FrontierPoint): [number, number] | null =>
  p.rate === null || p.drop === null ? null : [Math.round(p.drop * 1000) / 10, Math.round(p.rate * 1000) / 10];

export function frontierOption(grid: FrontierGridResult, ceiling: number, width = FULL_WIDTH): EChartsOption {
  const lines = grid.defenses.filter((d) => d.points.some((p) => point(p)));
  const where = grid.scenario !== '-' ? ` (${grid.scenario})` : '';
  return {
    ...baseOption(
      `Evasion frontier: ${grid.attackLabel} over ${grid.param}${where}`,
      'recognition against fidelity drop',
    ),
    grid: { left: 52, right: 16, top: 56, bottom: 56 + legendHeight(lines.length * 2 + 1, width, 28) },
    legend: wrappingLegend(),
    xAxis: {
      type: 'value',
      name: 'fidelity drop (percentage points)',
      nameLocation: 'middle',
      nameGap: 28,
      axisLabel: { fontSize: 10 },
      scale: true,
    },
    yAxis: {
      type: 'value',
      name: 'recognised (%)',
      nameLocation: 'middle',
      nameGap: 36,
      min: 0,
      max: 100,
      interval: 20,
      axisLabel: { fontSize: 10 },
    },
    series: [
      ...lines.flatMap((d, i) => [
        {
          type: 'line' as const,
          name: d.name,
          color: colorAt(i),
          symbol: 'circle',
          symbolSize: 6,
          lineStyle: { width: 1.5 },
          // Grid order, so the line shows how recognition falls as the attacker pays more.
          data: d.points.map(point).filter((p): p is [number, number] => p !== null),
        },
        ...(d.iterations.length
          ? [
              {
                type: 'scatter' as const,
                name: `${d.name} (checkpoints)`,
                color: colorAt(i),
                symbolSize: 3,
                itemStyle: { opacity: 0.45 },
                data: d.iterations.map(point).filter((p): p is [number, number] => p !== null),
              },
            ]
          : []),
      ]),
      {
        type: 'line' as const,
        name: `ceiling ${Math.round(ceiling * 100)}%`,
        color: '#999',
        symbol: 'none',
        lineStyle: { width: 1, type: 'dashed' as const },
        data: (() => {
          const xs = lines.flatMap((d) => [...d.points, ...d.iterations].map(point).filter((p) => p !== null));
          const lo = Math.min(0, ...xs.map((p) => (p as [number, number])[0]));
          const hi = Math.max(1, ...xs.map((p) => (p as [number, number])[0]));
          return [
            [lo, ceiling * 100],
            [hi, ceiling * 100],
          ];
        })(),
      },
    ],
  };
}

/** One figure per grid and scenario of the frontier. */
export function frontierFigures(frontier: FrontierResult): ChartFigure[] {
  return frontier.grids.map((g, i) => ({
    kind: 'charts',
    id: `frontier-${i + 1}`,
    title: `Evasion frontier of ${g.attackLabel} over ${g.param}${g.scenario !== '-' ? ` (${g.scenario})` : ''}.`,
    caption:
      `Each line is one defence: the share of the grid's surrogates it recognises on its own (y; a tie is not recognition) against their mean fidelity drop (x), through the values of ${g.param} in the spec's order (final models)` +
      `${g.defenses.some((d) => d.iterations.length) ? '; dots are the same at the checkpoints along the iterations' : ''}. ` +
      `Below the dashed line (${Math.round(frontier.ceiling * 100)}%) the defence no longer proves ownership; a point needs at least ${frontier.minSeeds} judged seeds.`,
    columns: 1,
    charts: [chart(frontierOption(g, frontier.ceiling), FULL_WIDTH, 340)],
  }));
}

/** The sentences under the figure, one per defence. */
export function frontierSentencesHtml(frontier: FrontierResult): string {
  return frontier.sentences.map((s) => `<p class="finding"><b>${e(s.name)}.</b> ${e(s.text)}</p>`).join('\n');
}
