/**
 * Live loss curves of a running job (training, an attack's losses), x = iteration. The
 * app redraws it from progress events; log scale when the losses span decades.
 */
import type { EChartsOption } from 'echarts';
import { baseOption, colorAt, isFiniteNumber, legendHeight, wrappingLegend } from './common';

export interface LossesChartData {
  title?: string;
  /**
   * `color`: the series' own (an attack's colour); the palette by position otherwise.
   * `lineType`: tells apart series of one colour (the same attack in compared runs).
   */
  series: {
    name: string;
    color?: string;
    lineType?: 'solid' | 'dashed' | 'dotted';
    points: [iteration: number, value: number][];
  }[];
  /** Logarithmic y axis (only positive values are drawn then). */
  logY?: boolean;
  yName?: string;
}

export function lossesOption(data: LossesChartData): EChartsOption {
  const keep = (v: number): boolean => isFiniteNumber(v) && (!data.logY || v > 0);
  return {
    ...baseOption(data.title ?? 'Losses'),
    grid: { left: 56, right: 20, top: 40, bottom: 44 + legendHeight(data.series.length, 600, 16) },
    legend: wrappingLegend(),
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'value', name: 'iteration', nameLocation: 'middle', nameGap: 24, min: 0 },
    yAxis: {
      type: data.logY ? 'log' : 'value',
      name: data.yName ?? 'loss',
      nameLocation: 'middle',
      nameGap: 40,
      scale: !data.logY,
    },
    series: data.series.map((s, i) => ({
      type: 'line' as const,
      name: s.name,
      color: s.color ?? colorAt(i),
      showSymbol: false,
      lineStyle: { width: 1.5, type: s.lineType ?? 'solid' },
      data: s.points.filter(([it, v]) => isFiniteNumber(it) && keep(v)).map(([it, v]) => [it, v]),
    })),
  };
}
