/**
 * A t-SNE map of output probabilities (paper Fig. 10): victim and surrogate are embedded
 * together (one t-SNE over both models' softmax outputs on the same test images, so the
 * two panels share coordinates) and drawn side by side, coloured by the images' true
 * class. A surrogate that imitates the victim reproduces its clusters.
 */
import type { EChartsOption, ScatterSeriesOption } from 'echarts';
import { className } from './class-names';
import { baseOption, colorAt, isFiniteNumber, legendHeight, wrappingLegend } from './common';

export interface TsnePoint {
  x: number;
  y: number;
  /** Class index (true label of the test image). */
  cls: number;
  /** Which model's output this point embeds. */
  model: 'victim' | 'surrogate';
}

export interface TsneChartData {
  points: TsnePoint[];
  classNames: string[];
  /** Panel titles, e.g. { victim: 'victim', surrogate: 'RemovalNet surrogate' }. */
  panels?: { victim: string; surrogate: string };
  title?: string;
  subtitle?: string;
}

/** Classes get their own legend entry up to this many; beyond, one series per panel. */
const MAX_LEGEND_CLASSES = 20;

export function tsneOption(data: TsneChartData): EChartsOption {
  const points = data.points.filter((p) => isFiniteNumber(p.x) && isFiniteNumber(p.y));
  const panels = data.panels ?? { victim: 'victim', surrogate: 'surrogate' };
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const pad = (lo: number, hi: number): [number, number] => {
    const d = (hi - lo) * 0.05 || 1;
    return [lo - d, hi + d];
  };
  const [x0, x1] = xs.length ? pad(Math.min(...xs), Math.max(...xs)) : [-1, 1];
  const [y0, y1] = ys.length ? pad(Math.min(...ys), Math.max(...ys)) : [-1, 1];
  // t-SNE coordinates have no units: no labels, ticks or zero lines, only a frame per panel.
  const axis = (gridIndex: number, min: number, max: number) => ({
    type: 'value' as const,
    gridIndex,
    min,
    max,
    axisLine: { show: false },
    axisLabel: { show: false },
    axisTick: { show: false },
    splitLine: { show: false },
  });
  const classes = [...new Set(points.map((p) => p.cls))].sort((a, b) => a - b);
  const byClass = classes.length <= MAX_LEGEND_CLASSES;
  const name = (c: number): string => className(data.classNames, c);
  const sides = ['victim', 'surrogate'] as const;
  const series = sides.flatMap((side, gi): ScatterSeriesOption[] => {
    const mine = points.filter((p) => p.model === side);
    if (byClass) {
      return classes.map((c) => ({
        type: 'scatter' as const,
        name: name(c),
        xAxisIndex: gi,
        yAxisIndex: gi,
        symbolSize: 5,
        color: colorAt(c),
        itemStyle: { opacity: 0.85 },
        data: mine.filter((p) => p.cls === c).map((p) => [p.x, p.y]),
      }));
    }
    return [
      {
        type: 'scatter' as const,
        name: panels[side],
        xAxisIndex: gi,
        yAxisIndex: gi,
        symbolSize: 4,
        data: mine.map((p) => ({ value: [p.x, p.y], itemStyle: { color: colorAt(p.cls) } })),
      },
    ];
  });
  const base = baseOption(data.title ?? 't-SNE of output probabilities on test images', data.subtitle);
  const panelTitle = (text: string, left: string) => ({
    text,
    left,
    top: data.subtitle ? 46 : 30,
    textAlign: 'center' as const,
    textStyle: { fontSize: 11, fontWeight: 'bold' as const },
  });
  return {
    ...base,
    title: [base.title as object, panelTitle(panels.victim, '25.5%'), panelTitle(panels.surrogate, '74.5%')],
    ...(byClass ? { legend: { ...wrappingLegend(), itemWidth: 10, itemHeight: 10, data: classes.map(name) } } : {}),
    grid: [
      {
        left: '4%',
        width: '43%',
        top: data.subtitle ? 70 : 54,
        bottom: 16 + legendHeight(byClass ? classes.length : 0, 680, 12),
        show: true,
        borderColor: '#ccc',
      },
      {
        left: '53%',
        width: '43%',
        top: data.subtitle ? 70 : 54,
        bottom: 16 + legendHeight(byClass ? classes.length : 0, 680, 12),
        show: true,
        borderColor: '#ccc',
      },
    ],
    xAxis: [axis(0, x0, x1), axis(1, x0, x1)],
    yAxis: [axis(0, y0, y1), axis(1, y0, y1)],
    series,
  };
}
