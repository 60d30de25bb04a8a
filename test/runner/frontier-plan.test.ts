import { describe, expect, it } from 'vitest';
import {
  frontierPlan,
  planJobs,
  planRows,
  validateAgainstRegistries,
  type PlannedJob,
} from '../../src-main/runner/plan';
import { specMetricIds } from '../../src-main/runner/validate-spec';
import { canonicalSpecJson, parseAuditSpec, type AuditSpec, type AuditSpecInput } from '../../src-shared/audit/spec';

const ctx = { workDir: '/home/u/runs/r1', runId: 'r1', baseDir: '/specs' };

/** A planned job's payload as a plain record (the tests read fields of every kind). */
function payloadOf(jobs: PlannedJob[], key: string): Record<string, unknown> {
  const job = jobs.find((j) => j.key === key);
  if (!job) throw new Error(`no job ${key}`);
  return { ...job.payload };
}

function base(): AuditSpecInput {
  return {
    version: 1,
    victim: { model: 'models/victim' },
    data: { train: 'data/fm', maxTest: 500 },
    scenarios: [
      { id: 'ltd10', kind: 'ltd', fraction: 0.1 },
      { id: 'lsd', kind: 'lsd', partition: '1/2' },
    ],
    defenses: [{ id: 'deepjudge' }, { id: 'zest' }, { id: 'modeldiff' }, { id: 'ipguard' }],
    calibration: { references: 3 },
    attacks: [
      { name: 'finetune', label: 'FT', params: { ratio: 0.5 }, seeds: [1, 2], iterations: 100, scenarios: ['ltd10'] },
      {
        name: 'removalnet',
        label: 'RemovalNet',
        params: { beta: 1 },
        block: 'block2',
        seeds: [1],
        iterations: 250,
        scenarios: ['ltd10'],
      },
      { name: 'negative', seeds: [777], iterations: 100 },
    ],
  };
}

const frontier = {
  grids: [
    { target: 'attack:RemovalNet', param: 'beta', values: [0.5, 2], seeds: [1, 2, 3] },
    { target: 'attack:FT', param: 'ratio', values: [0.2, 0.8], seeds: [4, 5, 6] },
  ],
  iterations: true,
};

function parse(input: unknown): { ok: true; spec: AuditSpec } | { ok: false; problems: string[] } {
  return parseAuditSpec(JSON.parse(JSON.stringify(input)));
}

function spec(input: unknown): AuditSpec {
  const r = parse(input);
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.spec;
}

/** Every problem of a spec: the schema's, else the registries'. */
function problems(over: Record<string, unknown>): string[] {
  const r = parse({ ...base(), ...over });
  return r.ok ? validateAgainstRegistries(r.spec) : r.problems;
}

describe('spec frontier block', () => {
  it('fills the defaults (ceiling 0.2, no iterations) and enters the spec hash', () => {
    const s = spec({ ...base(), frontier: { grids: frontier.grids } });
    expect(s.frontier).toMatchObject({ ceiling: 0.2, iterations: false });
    expect(validateAgainstRegistries(s)).toEqual([]);
    const other = spec({ ...base(), frontier: { grids: frontier.grids, ceiling: 0.1 } });
    expect(canonicalSpecJson(other)).not.toBe(canonicalSpecJson(s));
    expect(canonicalSpecJson(spec(base()))).not.toContain('frontier');
  });

  it('refuses too few seeds, duplicates, a bad ceiling and targets that are not one attack, naming the field', () => {
    const grid = frontier.grids[0];
    expect(problems({ frontier: { grids: [{ ...grid, seeds: [1, 2] }] } })).toEqual([
      'frontier.grids[0].seeds: must contain at least 3 items',
    ]);
    expect(problems({ frontier: { grids: [{ ...grid, seeds: [1, 2, 2], values: [1, 1] }] } })).toEqual([
      'frontier.grids[0].values[1]: duplicate value 1',
      'frontier.grids[0].seeds[2]: duplicate seed 2',
    ]);
    expect(problems({ frontier: { grids: [grid, grid] } })).toEqual([
      'frontier.grids[1]: frontier.grids[0] already walks beta of attack:RemovalNet',
    ]);
    expect(problems({ frontier: { grids: [grid], ceiling: 0 } })[0]).toMatch(/^frontier\.ceiling: must be > 0/);
    expect(problems({ frontier: { grids: [grid], ceiling: 1.5 } })[0]).toMatch(/^frontier\.ceiling: /);
    expect(problems({ frontier: { grids: [] } })).toEqual(['frontier.grids: must contain at least 1 item']);
    expect(problems({ frontier: { grids: [{ ...grid, target: 'attack:Nope' }] } })).toEqual([
      'frontier.grids[0].target: no attack labelled or named "Nope" (attacks: FT, RemovalNet, negative)',
    ]);
    expect(problems({ frontier: { grids: [{ ...grid, target: 'scenario:ltd10' }] } })).toEqual([
      'frontier.grids[0].target: must be "attack:<label or name>", got "scenario:ltd10"',
    ]);
    const twice = {
      ...base(),
      attacks: [...(base().attacks as object[]), { name: 'finetune', seeds: [1], iterations: 9 }],
    };
    expect(
      problems({ ...twice, frontier: { grids: [{ ...grid, target: 'attack:finetune', param: 'ratio' }] } }),
    ).toEqual([
      'frontier.grids[0].target: "finetune" names 2 attacks (attacks[0], attacks[3]); give the one to walk a label and target it',
    ]);
  });

  it('refuses parameters the target attack does not have, bad values, and independent targets (registry)', () => {
    const grid = frontier.grids[0];
    const unknown = problems({ frontier: { grids: [{ ...grid, param: 'iterations' }] } });
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatch(
      /^frontier\.grids\[0\]\.param: unknown parameter "iterations" of removalnet \(known: .*beta/,
    );
    expect(problems({ frontier: { grids: [{ ...grid, values: [0.5, 'x'] }] } })).toEqual([
      expect.stringMatching(/^frontier\.grids\[0\]\.values\[1\]: /),
    ]);
    expect(
      problems({
        frontier: { grids: [{ target: 'attack:negative', param: 'jitter', values: [0.1], seeds: [1, 2, 3] }] },
      }),
    ).toEqual([
      'frontier.grids[0].target: negative trains an independent model; a frontier walks a removal or stealing attack',
    ]);
  });
});

describe('frontier planning', () => {
  it("plans one row per value after the spec's own rows, which keep their ids", () => {
    const without = planRows(spec(base()));
    const rows = planRows(spec({ ...base(), frontier }));
    expect(rows.slice(0, without.length)).toEqual(without);
    expect(rows.slice(without.length)).toEqual([
      {
        rowId: 'frontier-removalnet-beta-0.5',
        attack: 'removalnet',
        label: 'frontier:RemovalNet(beta=0.5)',
        scenario: 'ltd10',
      },
      {
        rowId: 'frontier-removalnet-beta-2',
        attack: 'removalnet',
        label: 'frontier:RemovalNet(beta=2)',
        scenario: 'ltd10',
      },
      { rowId: 'frontier-ft-ratio-0.2', attack: 'finetune', label: 'frontier:FT(ratio=0.2)', scenario: 'ltd10' },
      { rowId: 'frontier-ft-ratio-0.8', attack: 'finetune', label: 'frontier:FT(ratio=0.8)', scenario: 'ltd10' },
    ]);
  });

  it("gives each row the grid's seeds, the value, and checkpoints scored with every voting metric", () => {
    const s = spec({ ...base(), frontier });
    const jobs = planJobs(s, ctx);
    const withoutFrontier = planJobs(spec(base()), ctx);
    // The spec's own jobs are planned as without the frontier.
    expect(jobs.slice(0, withoutFrontier.length)).toEqual(withoutFrontier);
    const attacks = jobs.filter((j) => j.kind === 'attack' && j.key.startsWith('attack:frontier-removalnet-beta-0.5:'));
    expect(attacks.map((j) => j.key)).toEqual([
      'attack:frontier-removalnet-beta-0.5:ltd10:1',
      'attack:frontier-removalnet-beta-0.5:ltd10:2',
      'attack:frontier-removalnet-beta-0.5:ltd10:3',
    ]);
    const payload = payloadOf(attacks, attacks[0].key);
    expect(payload).toMatchObject({
      attack: 'removalnet',
      params: { beta: 0.5 },
      block: 'block2',
      iterations: 250,
      checkpointEvery: 100,
      keepTrajectory: true,
      label: 'frontier:RemovalNet(beta=0.5)',
    });
    const metrics = payloadOf(jobs, 'score:frontier-removalnet-beta-0.5:ltd10:1').checkpointMetrics as string[];
    expect(metrics).toEqual(specMetricIds(s));
    expect(metrics.length).toBeGreaterThanOrEqual(6);
    // The spec's own rows keep no trajectory (the spec has no checkpoints block).
    const own = payloadOf(jobs, 'attack:removalnet:ltd10:1');
    expect(own.keepTrajectory).toBe(false);
  });

  it("uses the spec's checkpoint spacing, and keeps none when the frontier does not walk iterations", () => {
    const every = planJobs(spec({ ...base(), checkpoints: { every: 50, metrics: ['deepjudge.lod'] }, frontier }), ctx);
    const a = payloadOf(every, 'attack:frontier-ft-ratio-0.2:ltd10:4');
    expect(a.checkpointEvery).toBe(50);
    const sc = payloadOf(every, 'score:frontier-ft-ratio-0.2:ltd10:4');
    expect((sc.checkpointMetrics as string[]).length).toBeGreaterThan(1);
    // The spec's own rows keep the spec's metric list.
    const own = payloadOf(every, 'score:ft:ltd10:1');
    expect(own.checkpointMetrics).toEqual(['deepjudge.lod']);

    const plain = planJobs(spec({ ...base(), frontier: { grids: frontier.grids } }), ctx);
    const p = payloadOf(plain, 'attack:frontier-ft-ratio-0.2:ltd10:4');
    expect(p.keepTrajectory).toBe(false);
    const ps = payloadOf(plain, 'score:frontier-ft-ratio-0.2:ltd10:4');
    expect(ps.checkpointMetrics).toBeNull();
  });

  it('frontierPlan names the rows of each grid, in grid order', () => {
    expect(frontierPlan(spec(base()))).toBeNull();
    expect(frontierPlan(spec({ ...base(), frontier }))).toEqual({
      ceiling: 0.2,
      iterations: true,
      grids: [
        {
          grid: 0,
          target: 'attack:RemovalNet',
          attack: 'removalnet',
          attackLabel: 'RemovalNet',
          param: 'beta',
          seeds: [1, 2, 3],
          scenarios: ['ltd10'],
          values: [
            { value: 0.5, rowId: 'frontier-removalnet-beta-0.5', label: 'frontier:RemovalNet(beta=0.5)' },
            { value: 2, rowId: 'frontier-removalnet-beta-2', label: 'frontier:RemovalNet(beta=2)' },
          ],
        },
        {
          grid: 1,
          target: 'attack:FT',
          attack: 'finetune',
          attackLabel: 'FT',
          param: 'ratio',
          seeds: [4, 5, 6],
          scenarios: ['ltd10'],
          values: [
            { value: 0.2, rowId: 'frontier-ft-ratio-0.2', label: 'frontier:FT(ratio=0.2)' },
            { value: 0.8, rowId: 'frontier-ft-ratio-0.8', label: 'frontier:FT(ratio=0.8)' },
          ],
        },
      ],
    });
  });

  it("refuses a frontier row that collides with one of the spec's rows", () => {
    const clash = {
      ...base(),
      attacks: [
        ...(base().attacks as object[]),
        { name: 'finetune', label: 'frontier FT(ratio=0.2)', seeds: [1], iterations: 9, scenarios: ['ltd10'] },
      ],
      frontier,
    };
    expect(validateAgainstRegistries(spec(clash))).toEqual([
      'frontier.grids[1]: makes the same row as attacks[3] ("frontier:FT(ratio=0.2)", scenario ltd10); give one of them a distinct label',
    ]);
  });
});
