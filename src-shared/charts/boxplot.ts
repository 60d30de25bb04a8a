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
  /** One box per row, in table order; rows without values are left out. `color`: its attack's. */
  rows: { label: string; sublabel?: string; values: number[]; color?: string }[];
  title?: string;
}

/** The boxes' colour where a row names none. */
const BOX_COLOR = '#4e79a7';

/** A '#rrggbb' colour at 18% opacity (a box's fill; its border keeps the full colour). */
export function translucent(hex: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return hex;
  return `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, 0.18)`;
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

/** Above this many rows the boxes lie on their side: one label per line cannot overlap. */
export const MAX_UPRIGHT_ROWS = 6;
/** The width of an upright panel (two side by side on a report page), and its plot's side margins. */
export const UPRIGHT_PANEL_WIDTH = 335;
const UPRIGHT_LEFT = 46;
/** Room right of an upright plot for the 'tau' label past its line's end. */
const UPRIGHT_RIGHT_TAU = 44;
/** Width of one character of an axis label (9 px font, 0.6 em: generous for Liberation Sans). */
const LABEL_CHAR_PX = 5.4;

/** Upright, long labels break before their parameters: 'FT(ratio=0.5)' -> 'FT' over '(ratio=0.5)'. */
function uprightLabel(r: { label: string; sublabel?: string }): string {
  const wrapped = r.label.length > 10 && r.label.indexOf('(') > 0 ? r.label.replace('(', '\n(') : r.label;
  return r.sublabel ? `${wrapped}\n${r.sublabel}` : wrapped;
}
/** Height per row of a lying box plot (px), and what its frame needs besides. */
export const LYING_ROW_HEIGHT = 17;
export const LYING_FRAME_HEIGHT = 78;

/**
 * Whether a box plot of these rows lies on its side, labels on the y axis one per line: with
 * many rows, or where a label's longest line is wider than its row's share of an upright
 * panel ('KnockoffNets' beside 'RemovalNet' at six rows would run into each other).
 */
export function boxplotLies(data: Pick<MetricBoxplotData, 'rows'>, width = UPRIGHT_PANEL_WIDTH): boolean {
  const rows = data.rows.filter((r) => r.values.some(isFiniteNumber));
  if (rows.length > MAX_UPRIGHT_ROWS) return true;
  const slot = (width - UPRIGHT_LEFT - UPRIGHT_RIGHT_TAU) / Math.max(1, rows.length);
  const longest = Math.max(
    0,
    ...rows.flatMap((r) =>
      uprightLabel(r)
        .split('\n')
        .map((l) => l.length),
    ),
  );
  return longest * LABEL_CHAR_PX > slot - 4;
}

/** The chart height a box plot needs: fixed when upright, one line per row when lying. */
export function boxplotHeight(
  data: Pick<MetricBoxplotData, 'rows'>,
  upright: number,
  lying: boolean = boxplotLies(data),
): number {
  if (!lying) return upright;
  const rows = data.rows.filter((r) => r.values.some(isFiniteNumber)).length;
  return LYING_FRAME_HEIGHT + rows * LYING_ROW_HEIGHT;
}

/** `lying`: the caller's choice for a set of panels drawn alike (default: boxplotLies of these rows). */
export function metricBoxplotOption(data: MetricBoxplotData, lying: boolean = boxplotLies(data)): EChartsOption {
  const rows = data.rows
    .map((r) => ({ ...r, values: r.values.filter(isFiniteNumber) }))
    .filter((r) => r.values.length > 0);
  // Lying, each row has a line of its own: the label and its scenario side by side.
  const categories = rows.map((r) => (lying ? (r.sublabel ? `${r.label} ${r.sublabel}` : r.label) : uprightLabel(r)));
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
  const categoryAxis = {
    type: 'category' as const,
    data: categories,
    axisLabel: { interval: 0, fontSize: 9, lineHeight: 11 },
    axisTick: { alignWithLabel: true },
    // Lying: table order from the top.
    ...(lying ? { inverse: true } : {}),
  };
  const valueAxis = {
    type: 'value' as const,
    min: y.min,
    max: y.max,
    interval: y.interval,
    axisLabel: { fontSize: 10, formatter: (v: number) => compactNumber(v) },
    splitLine: { lineStyle: { color: '#e5e5e5' } },
  };
  // Lying: the left margin fits the longest label (0.6 em per character at 9 px, generous for Liberation Sans).
  const longest = Math.max(0, ...categories.map((c) => c.length));
  return {
    ...baseOption(data.title ?? data.metricLabel, sub),
    grid: lying
      ? { left: Math.min(300, 16 + Math.ceil(longest * 5.4)), right: 20, top: 54, bottom: 24 }
      : { left: UPRIGHT_LEFT, right: tau !== null ? UPRIGHT_RIGHT_TAU : 16, top: 54, bottom: 62 },
    tooltip: { trigger: 'item' },
    xAxis: lying ? valueAxis : categoryAxis,
    yAxis: lying ? categoryAxis : valueAxis,
    series: [
      {
        type: 'boxplot',
        name: data.metricLabel,
        ...(lying ? { layout: 'horizontal' as const } : {}),
        itemStyle: { color: translucent(BOX_COLOR), borderColor: BOX_COLOR, borderWidth: 1.2 },
        boxWidth: lying ? [4, 11] : [8, 36],
        // Each box in its attack's colour (the same as in the app), where the row names one.
        data: rows.map((r) => ({
          value: fiveNumbers(r.values),
          ...(r.color ? { itemStyle: { color: translucent(r.color), borderColor: r.color } } : {}),
        })),
        ...(tau !== null
          ? {
              markLine: {
                silent: true,
                symbol: 'none',
                lineStyle: { color: TAU_COLOR, type: 'dashed', width: 1.5 },
                // Outside the plot, past the line's end: inside it would cover a box.
                label: { formatter: 'tau', color: TAU_COLOR, position: 'end', fontSize: 10 },
                data: [lying ? { xAxis: tau } : { yAxis: tau }],
              },
            }
          : {}),
      },
      {
        type: 'scatter',
        name: 'suspects',
        symbolSize: lying ? 5 : 6,
        itemStyle: { color: '#555', borderColor: '#fff', borderWidth: 0.5 },
        data: rows.flatMap((r, i) =>
          r.values.map((v) => ({
            value: lying ? [v, i] : [i, v],
            ...(r.color ? { itemStyle: { color: r.color } } : {}),
          })),
        ),
      },
    ],
  };
}
