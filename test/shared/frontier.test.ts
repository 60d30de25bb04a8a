import { describe, expect, it } from 'vitest';
import {
  computeFrontier,
  dropPoints,
  formatFrontier,
  type FrontierInput,
  type FrontierPlan,
} from '../../src-shared/audit/frontier';
import type { DefenseRecognition, MetricColumn, ResultRow, Trajectory } from '../../src-shared/audit/results';

// Two DeepJudge metrics (distances, tau 1) and one ModelDiff metric (similarity, tau 0.5);
// ZEST's only metric is degenerate and never votes.
const metrics: MetricColumn[] = [
  { id: 'deepjudge.lod', kind: 'distance', tau: 1, degenerate: false },
  { id: 'deepjudge.lad', kind: 'distance', tau: 1, degenerate: false },
  { id: 'zest.l2', kind: 'distance', tau: 2, degenerate: true },
  { id: 'modeldiff.ddv', kind: 'similarity', tau: 0.5, degenerate: false },
];
const names = { deepjudge: 'DeepJudge', modeldiff: 'ModelDiff', zest: 'ZEST' };

const rowId = (beta: number): string => `frontier-removalnet-beta-${beta}`;

function plan(values: number[] = [0.5, 1, 2], iterations = false): FrontierPlan {
  return {
    ceiling: 0.2,
    iterations,
    grids: [
      {
        grid: 0,
        target: 'attack:RemovalNet',
        attack: 'removalnet',
        attackLabel: 'RemovalNet',
        param: 'beta',
        seeds: [1, 2, 3],
        scenarios: ['ltd10'],
        values: values.map((v) => ({ value: v, rowId: rowId(v), label: `frontier:RemovalNet(beta=${v})` })),
      },
    ],
  };
}

const rec = (recognised: number, judged: number, ties = 0): DefenseRecognition => ({ recognised, ties, judged });

function row(beta: number, drop: number, defenses: Record<string, DefenseRecognition>): ResultRow {
  return {
    rowId: rowId(beta),
    attack: 'removalnet',
    label: `frontier:RemovalNet(beta=${beta})`,
    scenario: 'ltd10',
    suspects: 3,
    fidelity: { accuracy: 0.9 - drop, drop, accuracyStd: 0, agreement: 0.9 },
    metrics: {},
    ownership: { derived: 3, total: 3, verdict: 'derived', label: 'Yes (3/3)' },
    defenses,
    compute: { seconds: 1, passes: 1, iterations: 1000 },
  };
}

/** One suspect's checkpoints: [iteration, fidelity, lod, lad, ddv]. */
function trajectory(beta: number, seed: number, points: [number, number, number, number, number][]): Trajectory {
  return {
    suspectKey: `attack:${rowId(beta)}:ltd10:${seed}`,
    rowId: rowId(beta),
    points: points.map(([iteration, fidelity, lod, lad, ddv]) => ({
      iteration,
      fidelity,
      metrics: {
        'deepjudge.lod': { value: lod, normalized: lod },
        'deepjudge.lad': { value: lad, normalized: lad },
        'zest.l2': { value: 0, normalized: 0 },
        'modeldiff.ddv': { value: ddv, normalized: ddv / 0.5 },
      },
    })),
  };
}

function input(rows: ResultRow[], over: Partial<FrontierInput> = {}): FrontierInput {
  return { plan: plan(), table: { rows, metrics, victimAccuracy: 0.9 }, trajectories: [], names, ...over };
}

const grid = (r: ReturnType<typeof computeFrontier>, defense: string) =>
  r.grids[0].defenses.find((d) => d.defense === defense);

describe('computeFrontier', () => {
  it('finds the lowest grid value at which a defence falls to the ceiling, with its drop', () => {
    const r = computeFrontier(
      input([
        row(0.5, 0.01, { deepjudge: rec(3, 3), modeldiff: rec(3, 3) }),
        row(1, 0.023, { deepjudge: rec(0, 3), modeldiff: rec(3, 3) }),
        row(2, 0.037, { deepjudge: rec(0, 3), modeldiff: rec(2, 3) }),
      ]),
    );
    const dj = grid(r, 'deepjudge');
    expect(dj?.points.map((p) => p.rate)).toEqual([1, 0, 0]);
    expect(dj?.frontier).toMatchObject({ value: 1, iteration: null, rate: 0, judged: 3 });
    expect(dj?.finalFrontier).toBe(dj?.frontier);
    expect(dj?.frontier?.drop).toBeCloseTo(0.023);
    const md = grid(r, 'modeldiff');
    expect(md?.frontier).toBeNull();
    expect(md?.recognisedUpTo).toBeCloseTo(0.037);
    expect(r.sentences.map((s) => s.text)).toEqual([
      'DeepJudge stops recognising RemovalNet surrogates at a 2.3-point drop (beta 1).',
      'ZEST has too few judged RemovalNet surrogates for a frontier (3 seeds per point needed).',
      'ModelDiff still recognises RemovalNet surrogates at every point of the beta grid, up to a 3.7-point drop.',
    ]);
    expect(formatFrontier(r)[0]).toBe('evasion frontier (recognition at or below 20% over at least 3 judged seeds):');
    expect(r).toMatchObject({ ceiling: 0.2, minSeeds: 3, iterations: false });
    expect(r.grids[0]).toMatchObject({ grid: 0, attack: 'removalnet', param: 'beta', scenario: 'ltd10' });
  });

  it('counts the ceiling itself as evaded (20% of five suspects)', () => {
    const r = computeFrontier(input([row(0.5, 0.01, { deepjudge: rec(1, 5) })]));
    expect(grid(r, 'deepjudge')?.frontier).toMatchObject({ value: 0.5, rate: 0.2 });
  });

  it('never makes a frontier point of fewer than three judged seeds', () => {
    const r = computeFrontier(
      input([
        row(0.5, 0.01, { deepjudge: rec(0, 2) }),
        row(1, 0.02, { deepjudge: rec(3, 3) }),
        row(2, 0.03, { deepjudge: rec(0, 3) }),
      ]),
    );
    expect(grid(r, 'deepjudge')?.frontier).toMatchObject({ value: 2, judged: 3 });
    const thin = computeFrontier(
      input([row(0.5, 0.01, { deepjudge: rec(0, 2) }), row(1, 0.02, { deepjudge: rec(0, 1) })]),
    );
    expect(grid(thin, 'deepjudge')?.frontier).toBeNull();
    expect(grid(thin, 'deepjudge')?.clause).toBe(
      'has too few judged RemovalNet surrogates for a frontier (3 seeds per point needed)',
    );
  });

  it('counts ties as not recognised (final models)', () => {
    // Three judged, one recognised, two ties: a rate of 1/3, above the ceiling; with three ties, 0.
    const r = computeFrontier(
      input([row(0.5, 0.01, { deepjudge: rec(1, 3, 2) }), row(1, 0.02, { deepjudge: rec(0, 3, 3) })], {
        plan: plan([0.5, 1]),
      }),
    );
    expect(grid(r, 'deepjudge')?.points.map((p) => [p.rate, p.ties])).toEqual([
      [1 / 3, 2],
      [0, 3],
    ]);
    expect(grid(r, 'deepjudge')?.frontier).toMatchObject({ value: 1 });
  });

  it('walks the checkpoints: reached only along the iterations, pooled over the seeds, ties not recognised', () => {
    // Every final model is recognised; at iteration 200 of beta 0.5 DeepJudge's two metrics
    // split on every seed (lod flags, lad does not: ties), at 100 they both flag.
    const rows = [
      row(0.5, 0.015, { deepjudge: rec(3, 3), modeldiff: rec(3, 3) }),
      row(1, 0.02, { deepjudge: rec(3, 3), modeldiff: rec(3, 3) }),
    ];
    const trajectories = [1, 2, 3].map((seed) =>
      trajectory(0.5, seed, [
        [100, 0.89, 0.1, 0.1, 0.9],
        [200, 0.86 + seed * 0.01, 0.5, 1.5, 0.9],
      ]),
    );
    const r = computeFrontier(input(rows, { plan: plan([0.5, 1], true), trajectories }));
    const dj = grid(r, 'deepjudge');
    expect(dj?.points.every((p) => p.rate === 1)).toBe(true);
    expect(dj?.iterations.map((p) => [p.value, p.iteration, p.recognised, p.ties, p.judged])).toEqual([
      [0.5, 100, 3, 0, 3],
      [0.5, 200, 0, 3, 3],
    ]);
    expect(dj?.frontier).toMatchObject({ value: 0.5, iteration: 200, rate: 0 });
    expect(dj?.finalFrontier).toBeNull();
    // victim 0.9, accuracies 0.87, 0.88, 0.89: a 2-point drop.
    expect(dj?.frontier?.drop).toBeCloseTo(0.02);
    // The degenerate ZEST metric never judges; ModelDiff (similarity 0.9 > tau 0.5) recognises throughout.
    expect(grid(r, 'zest')?.iterations.every((p) => p.judged === 0)).toBe(true);
    expect(grid(r, 'modeldiff')?.frontier).toBeNull();
    expect(r.sentences[0].text).toBe(
      'DeepJudge stops recognising RemovalNet surrogates at a 2.0-point drop (beta 0.5, iteration 200).',
    );
  });

  it('ignores checkpoints when the grid does not walk iterations, and other rows and scenarios always', () => {
    const rows = [row(0.5, 0.01, { deepjudge: rec(3, 3) })];
    const evading = [1, 2, 3].map((seed) => trajectory(0.5, seed, [[100, 0.88, 5, 5, 0.9]]));
    const off = computeFrontier(input(rows, { trajectories: evading }));
    expect(grid(off, 'deepjudge')?.iterations).toEqual([]);
    expect(grid(off, 'deepjudge')?.frontier).toBeNull();
    const elsewhere = evading.map((t) => ({ ...t, suspectKey: t.suspectKey.replace(':ltd10:', ':lsd:') }));
    const other = computeFrontier(input(rows, { plan: plan([0.5], true), trajectories: elsewhere }));
    expect(grid(other, 'deepjudge')?.frontier).toBeNull();
    // The suspects' own scenarios win over the key.
    const named = computeFrontier(
      input(rows, {
        plan: plan([0.5], true),
        trajectories: elsewhere,
        suspects: elsewhere.map((t) => ({ key: t.suspectKey, scenario: 'ltd10' })),
      }),
    );
    expect(grid(named, 'deepjudge')?.frontier).toMatchObject({ iteration: 100 });
  });

  it('one entry per scenario of the grid, named in the sentence; rows not yet run judge nothing', () => {
    const p = plan([0.5]);
    p.grids[0].scenarios = ['ltd10', 'lsd'];
    const r = computeFrontier(input([row(0.5, 0.01, { deepjudge: rec(0, 3) })], { plan: p }));
    expect(r.grids.map((g) => g.scenario)).toEqual(['ltd10', 'lsd']);
    expect(r.grids[1].defenses[0].points[0]).toMatchObject({ judged: 0, rate: null, drop: null });
    expect(r.sentences[0].text).toBe(
      'DeepJudge stops recognising RemovalNet surrogates (ltd10) at a 1.0-point drop (beta 0.5); has too few judged RemovalNet surrogates (lsd) for a frontier (3 seeds per point needed).',
    );
  });

  it('formats drops in points with one decimal', () => {
    expect(dropPoints(0.0372)).toBe('3.7');
    expect(dropPoints(-0.0001)).toBe('0.0');
    expect(dropPoints(0.01)).toBe('1.0');
  });
});
