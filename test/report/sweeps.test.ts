/**
 * The report's sweep figures (paper Fig. 6 and 8): which rows join a sweep's line, and the
 * values drawn, on a hand-made spec and results table. Values are hand-computed.
 */
import { describe, expect, it } from 'vitest';
import type { EChartsOption } from 'echarts';
import { parseAuditSpec, type AuditSpec } from '../../src-shared/audit/spec';
import type { ResultRow, ResultsTable } from '../../src-shared/audit/results';
import { sweepCategories, sweepFidelityOption, sweepMetricsOption } from '../../src-shared/charts';
import { planRows } from '../../src-main/runner/plan';
import { sweepChartData } from '../../src-main/report/sweeps';
import { comparableRemovalNet, type AttackRun } from '../../src-main/report/data';

const parsed = parseAuditSpec({
  version: 1,
  name: 'sweeps',
  victim: { model: 'v' },
  data: { train: 'd' },
  scenarios: [
    { id: 'ltd10', kind: 'ltd', fraction: 0.1 },
    { id: 'lsd', kind: 'lsd', partition: '1/2' },
    { id: 'size', kind: 'ltd', fraction: 0.1 },
  ],
  defenses: [{ id: 'deepjudge' }],
  calibration: { references: 2 },
  attacks: [
    { name: 'finetune', label: 'FT', params: { ratio: 0.5 }, seeds: [1], iterations: 10, scenarios: ['ltd10'] },
    {
      name: 'removalnet',
      label: 'RN',
      params: { beta: 1 },
      block: 'block3',
      seeds: [1, 2],
      iterations: 10,
      scenarios: ['ltd10', 'lsd'],
    },
    {
      name: 'removalnet',
      label: 'RN-size',
      params: { beta: 1 },
      block: 'block3',
      seeds: [1],
      iterations: 10,
      scenarios: ['size'],
    },
    { name: 'removalnet', label: 'RN-beta', block: 'block3', seeds: [1], iterations: 10, scenarios: ['ltd10'] },
    {
      name: 'removalnet',
      label: 'RN-alpha',
      params: { beta: 1 },
      block: 'block3',
      seeds: [1],
      iterations: 20,
      scenarios: ['ltd10'],
    },
  ],
  sweeps: [
    { target: 'scenario:size', param: 'fraction', values: [0.2, 0.01] },
    { target: 'attack:RN-beta', param: 'beta', values: [0.5, 2] },
    { target: 'attack:RN-alpha', param: 'alpha', values: [0.05] },
  ],
});
if (!parsed.ok) throw new Error(parsed.problems.join('; '));
const spec: AuditSpec = parsed.spec;

const TAU = 4;
// Row i gets accuracy 0.8 + i/100 and LOD 2 + i, so every drawn value says where it came from.
const rows: ResultRow[] = planRows(spec).map((r, i) => ({
  ...r,
  suspects: r.label === 'RN' ? 2 : 1,
  fidelity: { accuracy: 0.8 + i / 100, drop: 0.1 - i / 100, accuracyStd: 0, agreement: 0.9 },
  metrics: { 'deepjudge.lod': { mean: 2 + i, std: 0, tau: TAU, flagged: 0, n: 1 } },
  ownership: { derived: 0, total: 1, verdict: 'not-derived', label: 'No (0/1)' },
  compute: { seconds: 1, passes: 1, iterations: 10 },
  defenses: { deepjudge: { recognised: 0, ties: 0, judged: 1 } },
}));
const table: ResultsTable = {
  runId: 'r',
  status: 'completed',
  victimAccuracy: 0.9,
  metrics: [{ id: 'deepjudge.lod', kind: 'distance', tau: TAU, degenerate: false }],
  rows,
};
const metrics = {
  'deepjudge.lod': {
    id: 'deepjudge.lod',
    label: 'DeepJudge LOD',
    defense: 'deepjudge',
    defenseName: 'DeepJudge',
    kind: 'distance' as const,
  },
};
const at = (label: string, scenario: string): number =>
  rows.findIndex((r) => r.label === label && r.scenario === scenario);

describe('sweep chart data', () => {
  const data = sweepChartData(spec, table, metrics as never);

  it('a scenario sweep joins the main row on an equal scenario (10%), not the lsd row or other attacks', () => {
    const size = data[0];
    expect(size.param).toBe('fraction');
    expect(size.series).toHaveLength(1);
    const pts = size.series[0].points;
    const byX = Object.fromEntries(pts.map((p) => [String(p.x), p]));
    expect(Object.keys(byX).sort()).toEqual(['0.01', '0.1', '0.2']);
    const main = at('RN', 'ltd10');
    expect(byX['0.1'].fidelity).toBeCloseTo(0.8 + main / 100, 12);
    expect(byX['0.1'].n).toBe(2);
    expect(byX['0.1'].normalized['deepjudge.lod']).toBeCloseTo((2 + main) / TAU, 12);
    const s001 = at('RN-size', 'size@fraction=0.01');
    expect(byX['0.01'].normalized['deepjudge.lod']).toBeCloseTo((2 + s001) / TAU, 12);
    expect(sweepCategories(size)).toEqual(['0.01', '0.1', '0.2']);
  });

  it('an attack sweep joins the row whose parameters differ only in the swept one (beta 1); iterations must match too', () => {
    const beta = data[1];
    expect(beta.series).toHaveLength(1);
    expect(beta.series[0].name).toBe('RN-beta ltd10');
    expect(beta.series[0].points.map((p) => p.x).sort()).toEqual([0.5, 1, 2]);
    expect(beta.series[0].points.find((p) => p.x === 1)?.fidelity).toBeCloseTo(0.8 + at('RN', 'ltd10') / 100, 12);
    // RN-alpha runs 20 iterations, so the main row (10) is not its alpha = 0.2 point.
    const alpha = data[2];
    expect(alpha.series[0].points.map((p) => p.x)).toEqual([0.05]);
  });

  it('the chart options draw every category in order with tau at 1', () => {
    const fid = sweepFidelityOption(data[0]);
    const met = sweepMetricsOption(data[0]);
    expect((fid.xAxis as { data: string[] }).data).toEqual(['0.01', '0.1', '0.2']);
    const series = (o: EChartsOption) => o.series as { data: unknown[]; markLine?: { data: unknown[] } }[];
    expect(series(fid)[0].data).toHaveLength(3);
    const lod = series(met)[0];
    expect(lod.markLine?.data).toEqual([{ yAxis: 1 }]);
    expect(lod.data).toEqual(
      [0.01, 0.1, 0.2].map(
        (x) =>
          (2 +
            rows.findIndex((r) =>
              x === 0.1 ? r.label === 'RN' && r.scenario === 'ltd10' : r.scenario === `size@fraction=${x}`,
            )) /
          TAU,
      ),
    );
  });

  it('the metric panel turns logarithmic past a tenfold spread and leaves zeros out there', () => {
    expect((sweepMetricsOption(data[0]).yAxis as { type: string }).type).toBe('value');
    const wide = sweepMetricsOption({
      title: 't',
      param: 'alpha',
      metrics: [
        { id: 'lod', label: 'LOD', kind: 'distance' },
        { id: 'mr', label: 'MR', kind: 'similarity' },
      ],
      series: [
        {
          name: 's',
          points: [
            { x: 0.1, fidelity: 0.9, n: 1, normalized: { lod: 0.5, mr: 16 } },
            { x: 0.8, fidelity: 0.85, n: 1, normalized: { lod: 2, mr: 0 } },
          ],
        },
      ],
    });
    const y = wide.yAxis as { type: string; min: number; max: number };
    expect([y.type, y.min, y.max]).toEqual(['log', 0.1, 100]);
    expect((wide.series as { data: unknown[] }[]).map((s) => s.data)).toEqual([
      [0.5, 2],
      [16, null],
    ]);
  });

  it('a sweep with no scored row has no series', () => {
    const empty = sweepChartData(
      spec,
      { ...table, rows: rows.map((r) => ({ ...r, fidelity: null, suspects: 0 })) },
      metrics as never,
    );
    expect(empty.every((s) => s.series.length === 0)).toBe(true);
  });
});

describe('efficiency marks', () => {
  const run = (rowId: string, scenario: string, attack = 'removalnet'): AttackRun => ({
    key: `${rowId}/${scenario}`,
    rowId,
    label: rowId,
    attack,
    scenario,
    seed: 1,
    status: 'done',
    block: null,
    result: {} as never,
  });
  const spec2 = {
    ...spec,
    attacks: [
      ...spec.attacks,
      { name: 'knockoff' as const, label: 'KO', seeds: [1], iterations: 10, scenarios: ['ltd10'] },
    ],
  };

  it("marks the main RemovalNet row on KnockoffNets' scenario, not sweep variants or other scenarios", () => {
    const rowOf = (label: string): string => planRows(spec2).find((r) => r.label === label)?.rowId as string;
    const attacks = [
      run(rowOf('KO'), 'ltd10', 'knockoff'),
      run(rowOf('RN'), 'ltd10'),
      run(rowOf('RN'), 'lsd'),
      run(rowOf('RN-size'), 'size@fraction=0.2'),
      run(rowOf('RN-beta(beta=2)'), 'ltd10'),
      { ...run(rowOf('RN'), 'ltd10'), key: 'unfinished', result: null },
    ];
    expect(comparableRemovalNet(spec2, attacks).map((a) => a.key)).toEqual([`${rowOf('RN')}/ltd10`]);
    // Without a KnockoffNets attack on a RemovalNet scenario, every finished RemovalNet surrogate.
    expect(comparableRemovalNet(spec2, attacks.slice(1))).toHaveLength(4);
  });
});
