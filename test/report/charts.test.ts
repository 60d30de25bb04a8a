/**
 * The shared chart builders (pure) and the findings' counting rule, on small hand-made
 * inputs; the report test covers them again on a whole run.
 */
import { describe, expect, it } from 'vitest';
import type { EChartsOption } from 'echarts';
import {
  efficiencyOption,
  fiveNumbers,
  lossesOption,
  metricBoxplotOption,
  niceRange,
  trajectoryOption,
  tsneOption,
} from '../../src-shared/charts';
import { className, hasClassNames } from '../../src-shared/charts/class-names';
import { findings, points, type ReportData } from '../../src-main/report';

const seriesOf = (o: EChartsOption): { data?: unknown[]; markLine?: { data?: unknown[] } }[] =>
  (Array.isArray(o.series) ? o.series : [o.series]) as never;
const titleOf = (o: EChartsOption): string => {
  const t = Array.isArray(o.title) ? o.title[0] : o.title;
  return String((t as { text?: string }).text);
};

describe('chart builders', () => {
  it('five-number summaries and round axis ranges', () => {
    expect(fiveNumbers([3, 1, 2, 4, Number.NaN])).toEqual([1, 1.75, 2.5, 3.25, 4]);
    expect(fiveNumbers([2])).toEqual([2, 2, 2, 2, 2]);
    expect(niceRange(0.129, 5.09, { floor: 0 })).toEqual({ min: 0, max: 6, interval: 1 });
    const r = niceRange(31.2, 45.6, { floor: 0 });
    expect(r.min).toBeLessThanOrEqual(31.2);
    expect(r.max).toBeGreaterThanOrEqual(45.6);
    expect((r.max - r.min) / r.interval).toBeLessThanOrEqual(10);
  });

  it('every builder titles its chart, turns animation off and drops non-finite points', () => {
    const options: EChartsOption[] = [
      trajectoryOption({
        metricId: 'deepjudge.lod',
        metricLabel: 'DeepJudge LOD',
        kind: 'distance',
        series: [
          {
            name: 'a',
            points: [
              { iteration: 100, fidelity: 0.8, normalized: 0.5 },
              { iteration: 200, fidelity: Number.NaN, normalized: 0.7 },
            ],
          },
        ],
      }),
      metricBoxplotOption({
        metricId: 'zest.l2',
        metricLabel: 'ZEST L2',
        kind: 'distance',
        tau: 43.1,
        rows: [
          { label: 'FT(ratio=0.5)', sublabel: 'ltd10', values: [32, 33, Number.NaN] },
          { label: 'empty', values: [] },
        ],
      }),
      efficiencyOption({
        curves: [
          {
            name: 'k',
            points: [
              { passes: 0, fidelity: 0.1 },
              { passes: 1000, fidelity: 0.8 },
            ],
          },
        ],
        marks: [{ name: 'r', passes: 4000, fidelity: 0.88 }],
        victimAccuracy: 0.9,
      }),
      tsneOption({
        points: [
          { x: 0, y: 0, cls: 0, model: 'victim' },
          { x: 1, y: 1, cls: 0, model: 'surrogate' },
          { x: Number.NaN, y: 0, cls: 1, model: 'victim' },
        ],
        classNames: ['a', 'b'],
      }),
      lossesOption({
        series: [
          {
            name: 'loss',
            points: [
              [0, 2.3],
              [10, 1.2],
              [20, Number.POSITIVE_INFINITY],
            ],
          },
        ],
      }),
    ];
    for (const o of options) {
      expect(o.animation).toBe(false);
      expect(titleOf(o).length).toBeGreaterThan(0);
      for (const s of seriesOf(o)) expect(s.data?.length).toBeGreaterThan(0);
    }
    expect(seriesOf(options[0])[0].data).toHaveLength(1);
    expect(seriesOf(options[0])[0].markLine?.data).toEqual([{ xAxis: 1 }]);
    expect((options[1].xAxis as { data: string[] }).data).toEqual(['FT\n(ratio=0.5)\nltd10']);
    expect(seriesOf(options[1])[0].markLine?.data).toEqual([{ yAxis: 43.1 }]);
    expect(seriesOf(options[4])[0].data).toHaveLength(2);
  });
});

describe('efficiency axis', () => {
  it('goes logarithmic when costs span more than two decades, dropping the zero-cost point it cannot place', () => {
    const knockoff = {
      name: 'KnockoffNets',
      points: [0, 1280, 12_800, 128_000, 1_280_000].map((passes, i) => ({ passes, fidelity: 0.2 + i * 0.15 })),
    };
    const o = efficiencyOption({ curves: [knockoff], marks: [{ name: 'r', passes: 40_000, fidelity: 0.85 }] });
    expect((o.xAxis as { type: string }).type).toBe('log');
    expect(seriesOf(o)[0].data).toHaveLength(4);
    const linear = efficiencyOption({ curves: [{ ...knockoff, points: knockoff.points.slice(0, 3) }], marks: [] });
    expect((linear.xAxis as { type: string }).type).toBe('value');
  });
});

describe('trajectory groups', () => {
  it('lines of one attack row share a colour and a legend name; each point keeps its suspect', () => {
    const pts = [
      { iteration: 0, fidelity: 0.9, normalized: 0.1 },
      { iteration: 100, fidelity: 0.88, normalized: 1.5 },
    ];
    const o = trajectoryOption({
      metricId: 'deepjudge.lod',
      metricLabel: 'LOD',
      kind: 'distance',
      series: [
        { name: 'RN ltd10 seed 1', group: 'RN ltd10', points: pts },
        { name: 'RN ltd10 seed 2', group: 'RN ltd10', points: pts },
        { name: 'FT ltd10 seed 1', group: 'FT ltd10', points: pts },
      ],
    });
    const series = o.series as { name: string; color: string; data: { name: string }[] }[];
    expect(series.map((s) => s.name)).toEqual(['RN ltd10', 'RN ltd10', 'FT ltd10']);
    expect(series[0].color).toBe(series[1].color);
    expect(series[2].color).not.toBe(series[0].color);
    expect(series[1].data[0].name).toBe('RN ltd10 seed 2');
  });
});

describe('findings', () => {
  const row = (rowId: string, attack: string, drop: number) => ({
    rowId,
    attack,
    label: attack,
    scenario: attack === 'negative' ? '-' : 'ltd10',
    suspects: 2,
    fidelity: { accuracy: 0.9 - drop, drop, accuracyStd: 0, agreement: 0.9 },
    metrics: {},
    ownership: { derived: 0, total: 2, label: 'No (0/2)' },
    compute: { seconds: 1, passes: 1, iterations: 1 },
  });
  const suspect = (key: string, rowId: string, attack: string) => ({
    key,
    rowId,
    attack,
    scenario: attack === 'negative' ? '-' : 'ltd10',
  });
  const value = (suspectKey: string, metricId: string, flagged: boolean) => ({
    runId: 'r',
    suspectKey,
    iteration: null,
    metricId,
    value: 1,
    tau: 1,
    flagged,
    normalized: 1,
  });

  it('a defence recognises a suspect when a strict majority of its voting metrics flag it; degenerate metrics do not vote', () => {
    const data = {
      calibration: null,
      table: {
        metrics: [
          { id: 'deepjudge.lod', kind: 'distance', tau: 1, degenerate: false },
          { id: 'deepjudge.lad', kind: 'distance', tau: 1, degenerate: false },
          { id: 'ipguard.mr', kind: 'similarity', tau: 0, degenerate: true },
        ],
        rows: [row('removalnet', 'removalnet', 0.0349), row('negative', 'negative', 0.001)],
      },
      metrics: {},
      suspects: [
        suspect('a', 'removalnet', 'removalnet'),
        suspect('b', 'removalnet', 'removalnet'),
        suspect('n1', 'negative', 'negative'),
        suspect('n2', 'negative', 'negative'),
      ],
      finalValues: [
        // a: both flag -> recognised; b: one of two -> not (a tie is no majority).
        value('a', 'deepjudge.lod', true),
        value('a', 'deepjudge.lad', true),
        value('b', 'deepjudge.lod', true),
        value('b', 'deepjudge.lad', false),
        value('n1', 'deepjudge.lod', true),
        value('n1', 'deepjudge.lad', true),
        value('n2', 'deepjudge.lod', false),
        value('n2', 'deepjudge.lad', false),
        value('a', 'ipguard.mr', true),
      ],
    } as unknown as ReportData;
    const f = findings(data);
    expect(f.map((x) => x.name)).toEqual(['DeepJudge', 'IPGuard']);
    expect(f[0].sentences).toEqual([
      'DeepJudge still recognises 1 of 2 RemovalNet surrogates (ltd10) at a 3.5-point fidelity drop.',
      'DeepJudge flags 1 of 2 independently trained negative models as derived (false positives).',
      'RemovalNet defeats its ownership verification in this run (1 of 2 surrogates recognised).',
    ]);
    expect(f[1].metrics).toEqual([]);
    expect(f[1].text).toMatch(
      /^IPGuard cannot recognise any suspect in this run: the threshold of every metric \(ipguard\.mr\) is degenerate/,
    );
    expect(points(0.8992 - 0.8782)).toBe('2.1');
    expect(points(-0.00001)).toBe('0.0');
  });
});

describe('class names in figures', () => {
  it('names classes where the data set does, and writes "class 9" where it only numbers them', () => {
    expect(className(['T-shirt', 'Trouser'], 1)).toBe('Trouser');
    expect(hasClassNames(['0', '1', '2'])).toBe(false);
    expect(className(['0', '1', '2'], 2)).toBe('class 2');
    expect(className([], 4)).toBe('class 4');
  });
});
