/**
 * Shared pieces of the chart builders: one palette, one text style and a title block, so
 * the app's live charts and the report's figures (the same options, rendered to SVG by
 * echarts' server-side renderer) look alike. Pure: no DOM, no Node.
 *
 * Every builder turns off animation: the report renders each option once, and the app's
 * charts update in place while a run streams progress.
 */
import type { EChartsOption } from 'echarts';

/** Ten distinguishable colours (the Tableau 10 set), enough for one per class of CIFAR-10 / Fashion-MNIST. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
] as const;

/** A colour for series i: the palette first, then evenly spaced hues (for CIFAR-100 and the like). */
export function colorAt(i: number): string {
  if (i < PALETTE.length) return PALETTE[i];
  const hue = Math.round(((i - PALETTE.length) * 137.508) % 360);
  return `hsl(${hue}, 55%, 50%)`;
}

/** The colour of the threshold (tau) marks in every chart. */
export const TAU_COLOR = '#c0392b';

/**
 * Arial-metric fonts first: echarts' server-side renderer has no canvas to measure text and
 * estimates widths with Helvetica/Arial metrics, so a wider font (DejaVu Sans) would make
 * legend entries run into each other in the report's SVGs.
 */
export const FONT_FAMILY = "'Liberation Sans', Arial, Helvetica, sans-serif";

/** The option skeleton: title, text style, no animation. */
export function baseOption(title: string, subtitle?: string): EChartsOption {
  return {
    animation: false,
    color: [...PALETTE],
    textStyle: { fontFamily: FONT_FAMILY, fontSize: 11 },
    title: {
      text: title,
      ...(subtitle ? { subtext: subtitle } : {}),
      left: 'center',
      top: 4,
      textStyle: { fontSize: 13, fontWeight: 'bold' },
      subtextStyle: { fontSize: 10, color: '#555' },
    },
  };
}

/** Compact axis numbers: 1.5k, 2.3M, 0.012. */
export function compactNumber(x: number): string {
  if (!Number.isFinite(x)) return '';
  const a = Math.abs(x);
  if (a >= 1e9) return `${trim(x / 1e9)}G`;
  if (a >= 1e6) return `${trim(x / 1e6)}M`;
  if (a >= 1e3) return `${trim(x / 1e3)}k`;
  return trim(x);
}

function trim(x: number): string {
  return String(Number(x.toPrecision(3)));
}

/** Finite numbers only (NaN and null values are dropped, never drawn as zero). */
export function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** A round step near `span / ticks`: 1, 2, 2.5 or 5 times a power of ten. */
export function niceStep(span: number, ticks = 5): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
}

/**
 * Axis bounds on round numbers around [lo, hi] (echarts leaves mark lines out of its own
 * extent, so charts that draw tau or a reference line pass them in here). `floor` keeps the
 * minimum from going below it (0 for values that cannot be negative).
 */
export function niceRange(
  lo: number,
  hi: number,
  opts: { ticks?: number; floor?: number; ceil?: number } = {},
): { min: number; max: number; interval: number } {
  let a = lo;
  let b = hi;
  if (!(b > a)) {
    const d = Math.abs(a) * 0.1 || 0.1;
    a -= d;
    b += d;
  }
  const step = niceStep(b - a, opts.ticks ?? 5);
  // A little room around the data so points and lines do not sit on the frame.
  let min = Math.floor((a - (b - a) * 0.04) / step) * step;
  let max = Math.ceil((b + (b - a) * 0.04) / step) * step;
  if (opts.floor !== undefined && min < opts.floor && lo >= opts.floor) min = opts.floor;
  if (opts.ceil !== undefined && max > opts.ceil && hi <= opts.ceil) max = opts.ceil;
  const round = (x: number): number => Number(x.toPrecision(12));
  return { min: round(min), max: round(max), interval: step };
}

/** Space under the plot for a wrapping legend of `items` entries of about `chars` characters in `width` px. */
export function legendHeight(items: number, width: number, chars = 24): number {
  if (items === 0) return 0;
  const perRow = Math.max(1, Math.floor((width - 40) / (chars * 6 + 30)));
  return Math.ceil(items / perRow) * 18;
}

/** A legend that wraps onto more lines instead of paging (a printed chart cannot page). */
export function wrappingLegend(): Record<string, unknown> {
  return {
    type: 'plain',
    bottom: 4,
    left: 'center',
    width: '92%',
    itemWidth: 14,
    itemHeight: 8,
    itemGap: 12,
    textStyle: { fontSize: 10 },
  };
}
