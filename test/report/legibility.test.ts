/**
 * Report legibility (issue 20 item 6): at 20 attack rows the box plots' axis labels do not
 * overlap in the rendered SVG. Each label's box is estimated from its text, font size and
 * anchor (0.6 em per character, generous for Liberation Sans), and every pair is checked.
 * The upright layout of the same 20 rows is checked too and does overlap: the check can fail.
 */
import { describe, expect, it } from 'vitest';
import { boxplotHeight, boxplotLies, metricBoxplotOption, type MetricBoxplotData } from '../../src-shared/charts';
import { renderSvg } from '../../src-main/report/svg';

interface LabelBox {
  text: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Boxes of the SVG's <text> elements whose text passes `keep`. */
function labelBoxes(svg: string, keep: (text: string) => boolean): LabelBox[] {
  const out: LabelBox[] = [];
  const re = /<text([^>]*)>([^<]*)<\/text>/g;
  for (let m = re.exec(svg); m; m = re.exec(svg)) {
    const [, attrs, text] = m;
    if (!keep(text)) continue;
    const size = Number(/font-size:(\d+(?:\.\d+)?)px/.exec(attrs)?.[1] ?? 12);
    const [x, y] = (/translate\(([-\d.]+) ([-\d.]+)\)/.exec(attrs) ?? ['', '0', '0']).slice(1).map(Number);
    const anchor = /text-anchor="(\w+)"/.exec(attrs)?.[1] ?? 'start';
    const width = text.length * size * 0.6;
    const left = anchor === 'end' ? x - width : anchor === 'middle' ? x - width / 2 : x;
    out.push({ text, left, right: left + width, top: y - size / 2, bottom: y + size / 2 });
  }
  return out;
}

function overlaps(boxes: LabelBox[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) pairs.push([a.text, b.text]);
    }
  return pairs;
}

const NAMES = ['KnockoffNets', 'RemovalNet', 'Negative', 'FT', 'WP', 'Distill'];
const data: MetricBoxplotData = {
  metricId: 'deepjudge.lod',
  metricLabel: 'DeepJudge LOD',
  kind: 'distance',
  tau: 3.5,
  rows: Array.from({ length: 20 }, (_, i) => ({
    label: `${NAMES[i % NAMES.length]}(param=${(i / 10).toFixed(1)})`,
    sublabel: i % 2 ? 'ltd10' : 'lsd',
    values: [1 + i / 5, 2 + i / 5, 1.5 + i / 5],
  })),
};
const isRowLabel = (t: string): boolean => NAMES.some((n) => t.startsWith(n));

describe('report legibility at 20 rows', () => {
  it('box plots lie on their side with one label per line: no two axis labels overlap, none leaves the chart', () => {
    const width = 680;
    const svg = renderSvg(metricBoxplotOption(data), width, boxplotHeight(data, 250));
    const boxes = labelBoxes(svg, isRowLabel);
    expect(boxes).toHaveLength(20);
    expect(overlaps(boxes)).toEqual([]);
    for (const b of boxes) expect(b.left, b.text).toBeGreaterThanOrEqual(0);
  });

  it('the upright layout of the same rows does overlap (what the check catches)', () => {
    const upright = { ...data, rows: data.rows.slice(0, 6) };
    const option = metricBoxplotOption(upright, false);
    // Force the upright layout on 20 rows by building it from six and swapping the categories in.
    const xAxis = option.xAxis as { data: string[] };
    xAxis.data = data.rows.map((r) => `${r.label.replace('(', '\n(')}\n${r.sublabel}`);
    const svg = renderSvg(option, 335, 250);
    expect(overlaps(labelBoxes(svg, isRowLabel)).length).toBeGreaterThan(0);
  });
});

describe("report legibility at the demo's six rows", () => {
  // The demo's rows as the report labels them: upright at half width, 'KnockoffNets' ran into 'RemovalNet'.
  const demo: MetricBoxplotData = {
    ...data,
    rows: ['FT(ratio=0.5)', 'WP(ratio=0.5)', 'Distill', 'KnockoffNets', 'RemovalNet(beta=1)', 'Negative'].map(
      (label, i) => ({ label, ...(label === 'Negative' ? {} : { sublabel: 'ltd10' }), values: [1 + i, 1.5 + i] }),
    ),
  };
  const isDemoLabel = (t: string): boolean => /^(FT|WP|Distill|KnockoffNets|RemovalNet|Negative)/.test(t);

  it('upright at half width they overlap (what the check catches) ...', () => {
    const svg = renderSvg(metricBoxplotOption(demo, false), 335, 250);
    expect(overlaps(labelBoxes(svg, isDemoLabel)).length).toBeGreaterThan(0);
  });

  it('... so they lie on their side, where no two overlap; short labels stay upright without overlapping', () => {
    expect(boxplotLies(demo, 335)).toBe(true);
    const svg = renderSvg(metricBoxplotOption(demo, true), 680, boxplotHeight(demo, 250, true));
    const boxes = labelBoxes(svg, isDemoLabel);
    expect(boxes).toHaveLength(6);
    expect(overlaps(boxes)).toEqual([]);
    const short = { ...demo, rows: demo.rows.filter((r) => /^(FT|WP|Distill)/.test(r.label)) };
    expect(boxplotLies(short, 335)).toBe(false);
    expect(overlaps(labelBoxes(renderSvg(metricBoxplotOption(short), 335, 250), isDemoLabel))).toEqual([]);
  });
});
