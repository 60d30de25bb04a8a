import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planJobs, planRows, rowSlug, validateAgainstRegistries, type PlannedJob } from '../../src-main/runner/plan';
import { demoSpec, smokeSpec } from '../../src-main/runner/presets';
import { parseAuditSpec, type AuditSpec, type AuditSpecInput } from '../../src-shared/audit/spec';

const paths = { demoModel: '/res/models/demo-victim', demoData: '/res/datasets/fashion-mnist-demo' };
const ctx = { workDir: '/home/u/runs/r1', runId: 'r1', baseDir: '/specs' };

function parse(input: AuditSpecInput): AuditSpec {
  const r = parseAuditSpec(JSON.parse(JSON.stringify(input)));
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.spec;
}

function spec(overrides: Partial<AuditSpecInput> = {}): AuditSpec {
  return parse({
    version: 1,
    victim: { model: 'models/victim' },
    data: { train: 'data/fm', maxTest: 500 },
    scenarios: [
      { id: 'ltd10', kind: 'ltd', fraction: 0.1 },
      { id: 'lsd', kind: 'lsd', partition: '1/2' },
    ],
    defenses: [{ id: 'deepjudge' }, { id: 'ipguard', params: { fingerprints: 20 } }],
    calibration: { references: 3 },
    attacks: [
      { name: 'finetune', params: { ratio: 0.5 }, seeds: [1, 2], iterations: 100 },
      { name: 'removalnet', seeds: [1], iterations: 50, scenarios: ['ltd10'] },
      { name: 'negative', seeds: [777], iterations: 100 },
    ],
    ...overrides,
  });
}

/** Jobs by key, each payload as a plain record (the tests read fields of every kind). */
const byKey = (jobs: PlannedJob[]) =>
  new Map(jobs.map((j) => [j.key, { ...j, payload: Object.fromEntries(Object.entries(j.payload)) }]));

/** Every dependency exists and the graph has no cycle (a topological order exists). */
function expectValidGraph(jobs: PlannedJob[]): void {
  const keys = new Set(jobs.map((j) => j.key));
  expect(keys.size).toBe(jobs.length);
  for (const j of jobs) for (const d of j.deps) expect(keys.has(d), `${j.key} needs ${d}`).toBe(true);
  const done = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const j of jobs) {
      if (!done.has(j.key) && j.deps.every((d) => done.has(d))) {
        done.add(j.key);
        progress = true;
      }
    }
  }
  expect(done.size).toBe(jobs.length);
}

/** Every string in a payload that looks like a path is absolute. */
function pathFields(payload: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'string' && /(Dir|File|file|reuse)$/.test(k)) out.push([`${prefix}${k}`, v]);
      else if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, `${prefix}${k}.`);
    }
  };
  walk(payload, '');
  return out;
}

describe('planJobs', () => {
  it('expands attacks x scenarios x seeds, with negative models outside the scenarios', () => {
    const jobs = planJobs(spec(), ctx);
    expect(jobs.map((j) => j.key)).toEqual([
      'reference:0',
      'reference:1',
      'reference:2',
      'calibrate',
      'attack:finetune-ratio-0.5:ltd10:1',
      'score:finetune-ratio-0.5:ltd10:1',
      'attack:finetune-ratio-0.5:ltd10:2',
      'score:finetune-ratio-0.5:ltd10:2',
      'attack:finetune-ratio-0.5:lsd:1',
      'score:finetune-ratio-0.5:lsd:1',
      'attack:finetune-ratio-0.5:lsd:2',
      'score:finetune-ratio-0.5:lsd:2',
      'attack:removalnet:ltd10:1',
      'score:removalnet:ltd10:1',
      'attack:negative:-:777',
      'score:negative:-:777',
    ]);
    expectValidGraph(jobs);
    const j = byKey(jobs);
    expect(j.get('calibrate')!.deps).toEqual(['reference:0', 'reference:1', 'reference:2']);
    expect(j.get('reference:1')!.deps).toEqual([]);
    expect(j.get('attack:removalnet:ltd10:1')!.deps).toEqual([]);
    expect(j.get('score:removalnet:ltd10:1')!.deps).toEqual(['attack:removalnet:ltd10:1', 'calibrate']);
    expect(jobs.every((x) => x.weight > 0 && x.label.length > 0)).toBe(true);
  });

  it('payloads: absolute paths and everything the executors need', () => {
    const jobs = planJobs(spec(), ctx);
    for (const job of jobs)
      for (const [field, value] of pathFields(Object.fromEntries(Object.entries(job.payload))))
        expect(isAbsolute(value), `${job.key} ${field}=${value}`).toBe(true);
    const j = byKey(jobs);
    const W = '/home/u/runs/r1';
    const ft = j.get('attack:finetune-ratio-0.5:ltd10:2')!.payload;
    expect(ft).toEqual({
      attack: 'finetune',
      victimDir: '/specs/models/victim',
      substituteDir: '/specs/data/fm',
      fraction: 0.1,
      testDir: '/specs/data/fm',
      params: { ratio: 0.5 },
      iterations: 100,
      outDir: join(W, 'suspects', 'finetune-ratio-0.5-ltd10-s2'),
      checkpointEvery: 50,
      keepTrajectory: false,
      resume: true,
      maxTest: 500,
      seed: 2,
      rowId: 'finetune-ratio-0.5',
      scenario: 'ltd10',
      label: 'finetune(ratio=0.5)',
      suspectKey: 'attack:finetune-ratio-0.5:ltd10:2',
    });
    const lsd = j.get('attack:finetune-ratio-0.5:lsd:1')!.payload;
    expect(lsd).toMatchObject({ substituteDir: '/specs/data/fm', partition: '1/2', partitionSeed: 0 });
    expect(lsd.fraction).toBeUndefined();
    const neg = j.get('attack:negative:-:777')!.payload;
    expect(neg).toMatchObject({
      attack: 'negative',
      substituteDir: '/specs/data/fm',
      params: { seed: 777 },
      seed: 777,
      scenario: '-',
    });
    expect(neg.fraction).toBeUndefined();
    expect(neg.partition).toBeUndefined();

    const score = j.get('score:finetune-ratio-0.5:lsd:1')!.payload;
    expect(score).toEqual({
      suspectKey: 'attack:finetune-ratio-0.5:lsd:1',
      victimDir: '/specs/models/victim',
      suspectDir: join(W, 'suspects', 'finetune-ratio-0.5-lsd-s1'),
      dataDir: '/specs/data/fm',
      calibrationFile: join(W, 'calibration', 'calibration.json'),
      rule: 'majority',
      maxTest: 500,
      checkpointMetrics: null,
      rowId: 'finetune-ratio-0.5',
      scenario: 'lsd',
      seed: 1,
      label: 'finetune(ratio=0.5)',
      attack: 'finetune',
    });

    const cal = j.get('calibrate')!.payload;
    expect(cal).toEqual({
      victimDir: '/specs/models/victim',
      dataDir: '/specs/data/fm',
      outFile: join(W, 'calibration', 'calibration.json'),
      references: 3,
      defenses: ['deepjudge', 'ipguard'],
      defenseParams: { deepjudge: {}, ipguard: { fingerprints: 20 } },
      maxTest: 500,
    });
    expect(j.get('reference:2')!.payload).toEqual({ index: 2, calibrate: cal });
  });

  it('trains the victim first when the spec says so, and every later job uses it', () => {
    const s = spec({ victim: { train: { arch: 'cnn', data: 'data/fm', seed: 3, iterations: 200, partition: '0/2' } } });
    const jobs = planJobs(s, ctx);
    expectValidGraph(jobs);
    const j = byKey(jobs);
    const W = '/home/u/runs/r1';
    expect(j.get('victim')).toMatchObject({
      kind: 'train-victim',
      deps: [],
      payload: {
        arch: 'cnn',
        dataDir: '/specs/data/fm',
        partition: '0/2',
        partitionSeed: 0,
        outDir: join(W, 'victim'),
        seed: 3,
        iterations: 200,
        maxTest: 500,
      },
    });
    for (const job of jobs) {
      if (job.key === 'victim') continue;
      if (job.kind !== 'score') expect(job.deps).toContain('victim');
      const payload = Object.fromEntries(
        Object.entries(job.kind === 'reference' ? job.payload.calibrate : job.payload),
      );
      expect(payload.victimDir).toBe(join(W, 'victim'));
    }
    expect(j.get('calibrate')!.deps).toEqual(['victim', 'reference:0', 'reference:1', 'reference:2']);
    // S_LTD draws from the victim's own half; S_LSD gets the other half of the same split.
    expect(j.get('attack:removalnet:ltd10:1')!.payload).toMatchObject({
      fraction: 0.1,
      partition: '0/2',
      partitionSeed: 0,
    });
    expect(j.get('attack:finetune-ratio-0.5:lsd:1')!.payload).toMatchObject({ partition: '1/2', partitionSeed: 0 });
    // Reference weights follow the victim's recipe.
    expect(j.get('reference:0')!.weight).toBe(j.get('victim')!.weight);
  });

  it('reuses a stored calibration: no references, one calibrate job with its file', () => {
    const s = spec({ calibration: { reuse: 'cal-7' } });
    expect(() => planJobs(s, ctx)).toThrow(/reuses calibration cal-7/);
    const jobs = planJobs(s, { ...ctx, calibration: { filePath: '/store/cal-7/calibration.json' } });
    expectValidGraph(jobs);
    expect(jobs.filter((j) => j.kind === 'reference')).toEqual([]);
    const cal = byKey(jobs).get('calibrate')!;
    expect(cal.payload).toEqual({ reuse: '/store/cal-7/calibration.json', victimDir: '/specs/models/victim' });
    for (const job of jobs.filter((x) => x.kind === 'score'))
      expect(job.payload.calibrationFile).toBe('/store/cal-7/calibration.json');
  });

  it('checkpoints: every attack keeps a trajectory, scores name the metrics', () => {
    const jobs = planJobs(spec({ checkpoints: { every: 10 } }), ctx);
    const j = byKey(jobs);
    expect(j.get('attack:removalnet:ltd10:1')!.payload).toMatchObject({ checkpointEvery: 10, keepTrajectory: true });
    expect(j.get('score:removalnet:ltd10:1')!.payload.checkpointMetrics).toEqual([
      'deepjudge.lod',
      'deepjudge.lad',
      'ipguard.mr',
    ]);
    // 5 checkpoints of 50 iterations cost more to score than none.
    expect(j.get('score:removalnet:ltd10:1')!.weight).toBeGreaterThan(
      planJobs(spec(), ctx).find((x) => x.key === 'score:removalnet:ltd10:1')!.weight,
    );
    const only = byKey(planJobs(spec({ checkpoints: { every: 10, metrics: ['ipguard.mr'] } }), ctx));
    expect(only.get('score:negative:-:777')!.payload.checkpointMetrics).toEqual(['ipguard.mr']);
  });

  it("checkpoints of one attack: only its rows keep a trajectory, its own interval and metrics over the spec's", () => {
    const s = spec({
      checkpoints: { every: 25 },
      attacks: [
        { name: 'finetune', params: { ratio: 0.5 }, seeds: [1], iterations: 100 },
        {
          name: 'removalnet',
          seeds: [1],
          iterations: 50,
          scenarios: ['ltd10'],
          checkpoints: { every: 10, metrics: ['deepjudge.lod'] },
        },
      ],
    });
    const j = byKey(planJobs(s, ctx));
    expect(j.get('attack:removalnet:ltd10:1')!.payload).toMatchObject({ checkpointEvery: 10, keepTrajectory: true });
    expect(j.get('score:removalnet:ltd10:1')!.payload.checkpointMetrics).toEqual(['deepjudge.lod']);
    // The other row keeps the spec's.
    expect(j.get('attack:finetune-ratio-0.5:ltd10:1')!.payload).toMatchObject({ checkpointEvery: 25 });
    // Without the spec's, only the attack with its own keeps any.
    const alone = byKey(planJobs(spec({ attacks: s.attacks }), ctx));
    expect(alone.get('attack:finetune-ratio-0.5:ltd10:1')!.payload.keepTrajectory).toBeFalsy();
    expect(alone.get('score:finetune-ratio-0.5:ltd10:1')!.payload.checkpointMetrics ?? null).toBeNull();
    expect(alone.get('attack:removalnet:ltd10:1')!.payload.checkpointEvery).toBe(10);
    // An unknown metric in an attack's checkpoints names its field.
    const bad = spec({
      attacks: [{ name: 'removalnet', seeds: [1], iterations: 5, checkpoints: { every: 5, metrics: ['zest.l2'] } }],
    });
    expect(validateAgainstRegistries(bad)).toEqual([
      expect.stringMatching(/^attacks\[0\]\.checkpoints\.metrics\[0\]: unknown metric "zest.l2"/),
    ]);
  });

  it('sweeps: each attack value is a row, each scenario value a scenario', () => {
    const s = spec({
      sweeps: [
        { target: 'attack:removalnet', param: 'alpha', values: [0.2, 0.4] },
        { target: 'scenario:ltd10', param: 'fraction', values: [0.05, 0.1] },
      ],
    });
    expect(planRows(s)).toEqual([
      {
        rowId: 'finetune-ratio-0.5',
        attack: 'finetune',
        label: 'finetune(ratio=0.5)',
        scenario: 'ltd10@fraction=0.05',
      },
      { rowId: 'finetune-ratio-0.5', attack: 'finetune', label: 'finetune(ratio=0.5)', scenario: 'ltd10@fraction=0.1' },
      { rowId: 'finetune-ratio-0.5', attack: 'finetune', label: 'finetune(ratio=0.5)', scenario: 'lsd' },
      {
        rowId: 'removalnet-alpha-0.2',
        attack: 'removalnet',
        label: 'removalnet(alpha=0.2)',
        scenario: 'ltd10@fraction=0.05',
      },
      {
        rowId: 'removalnet-alpha-0.2',
        attack: 'removalnet',
        label: 'removalnet(alpha=0.2)',
        scenario: 'ltd10@fraction=0.1',
      },
      {
        rowId: 'removalnet-alpha-0.4',
        attack: 'removalnet',
        label: 'removalnet(alpha=0.4)',
        scenario: 'ltd10@fraction=0.05',
      },
      {
        rowId: 'removalnet-alpha-0.4',
        attack: 'removalnet',
        label: 'removalnet(alpha=0.4)',
        scenario: 'ltd10@fraction=0.1',
      },
      { rowId: 'negative', attack: 'negative', label: 'negative', scenario: '-' },
    ]);
    const jobs = planJobs(s, ctx);
    expectValidGraph(jobs);
    const rn = byKey(jobs).get('attack:removalnet-alpha-0.4:ltd10@fraction=0.05:1')!;
    expect(rn.payload).toMatchObject({ params: { alpha: 0.4 }, fraction: 0.05, label: 'removalnet(alpha=0.4)' });
    expect(jobs.filter((j) => j.kind === 'attack')).toHaveLength(2 * 3 + 2 * 2 + 1);
  });

  it('sweeps of a labelled attack, of iterations and of an S_LSD partition', () => {
    const s = spec({
      attacks: [{ name: 'removalnet', label: 'RN', seeds: [1], iterations: 50, scenarios: ['lsd'] }],
      sweeps: [
        { target: 'attack:RN', param: 'iterations', values: [10, 20] },
        { target: 'scenario:lsd', param: 'partition', values: ['1/2', '2/3'] },
      ],
    });
    const rows = planRows(s);
    expect(rows.map((r) => `${r.rowId} ${r.label} ${r.scenario}`)).toEqual([
      'rn-iterations-10 RN(iterations=10) lsd@partition=1_2',
      'rn-iterations-10 RN(iterations=10) lsd@partition=2_3',
      'rn-iterations-20 RN(iterations=20) lsd@partition=1_2',
      'rn-iterations-20 RN(iterations=20) lsd@partition=2_3',
    ]);
    const job = byKey(planJobs(s, ctx)).get('attack:rn-iterations-20:lsd@partition=2_3:1')!;
    expect(job.payload).toMatchObject({ iterations: 20, partition: '2/3' });
    expect(job.payload.outDir).toBe(join('/home/u/runs/r1', 'suspects', 'rn-iterations-20-lsd@partition=2_3-s1'));
  });

  it('is stable: the same spec (in any key order) plans the same jobs', () => {
    const a = spec({ attacks: [{ name: 'removalnet', params: { beta: 1, alpha: 0.3 }, seeds: [1], iterations: 5 }] });
    const b = spec({ attacks: [{ iterations: 5, seeds: [1], params: { alpha: 0.3, beta: 1 }, name: 'removalnet' }] });
    const ja = planJobs(a, ctx);
    expect(JSON.stringify(planJobs(b, ctx))).toBe(JSON.stringify(ja));
    expect(ja.map((j) => j.key)).toContain('attack:removalnet-alpha-0.3-beta-1:ltd10:1');
  });

  it('plans the presets', () => {
    for (const s of [demoSpec(paths), smokeSpec(paths)]) {
      const jobs = planJobs(s, ctx);
      expectValidGraph(jobs);
      expect(jobs.filter((j) => j.kind === 'score')).toHaveLength(jobs.filter((j) => j.kind === 'attack').length);
    }
    // The demo is sized for about 10 minutes on 2 workers (587 s measured 2026-12-07). The
    // weights over-estimate: RemovalNet's rate is the block2 one (0.35 s/it), and the demo
    // attacks at block3 (0.21 s/it measured).
    const total = planJobs(demoSpec(paths), ctx).reduce((a, j) => a + j.weight, 0);
    expect(total / 2).toBeGreaterThan(8 * 60);
    expect(total / 2).toBeLessThan(14 * 60);
  });

  it('refuses a spec the registries reject', () => {
    expect(() =>
      planJobs(spec({ attacks: [{ name: 'finetune', params: { nope: 1 }, seeds: [1], iterations: 1 }] }), ctx),
    ).toThrow(/attacks\[0\]\.params\.nope/);
  });
});

describe('validateAgainstRegistries', () => {
  it('accepts the presets', () => {
    expect(validateAgainstRegistries(demoSpec(paths))).toEqual([]);
    expect(validateAgainstRegistries(smokeSpec(paths))).toEqual([]);
  });

  it('refuses iteration counts no job accepts before anything starts (issue 16: sizes)', () => {
    const base = smokeSpec(paths);
    const s: AuditSpec = {
      ...base,
      calibration: { references: 2, referenceIterations: 1e12 },
      attacks: [{ ...base.attacks[0], iterations: 1e12 }, ...base.attacks.slice(1)],
      sweeps: [{ target: `attack:${base.attacks[0].name}`, param: 'iterations', values: [10, 2e7] }],
    };
    expect(validateAgainstRegistries(s).filter((p) => p.includes('iterations is more than'))).toEqual([
      'calibration.referenceIterations: 1000000000000 iterations is more than the 10000000 any job accepts',
      'attacks[0].iterations: 1000000000000 iterations is more than the 10000000 any job accepts',
      'sweeps[0].values[1]: 20000000 iterations is more than the 10000000 any job accepts',
    ]);
  });

  it('names unknown and bad parameters of attacks and defences', () => {
    const s = spec({
      defenses: [{ id: 'deepjudge', params: { seeds: 0, colour: 'red' } }],
      attacks: [
        { name: 'finetune', params: { ratio: 2 }, seeds: [1], iterations: 1 },
        { name: 'removalnet', params: { loss: 'mse', latentSteps: 1.5 }, seeds: [1], iterations: 1 },
      ],
    });
    expect(validateAgainstRegistries(s)).toEqual([
      'defenses[0].params.seeds: must be within [1, 10000], got 0',
      expect.stringMatching(/^defenses\[0\]\.params\.colour: unknown parameter \(known: block, seeds, /),
      'attacks[0].params.ratio: must be within [0, 1], got 2',
      'attacks[1].params.loss: must be one of code, paper, got "mse"',
      'attacks[1].params.latentSteps: must be an integer, got "1.5"',
    ]);
  });

  it('negative models: initialisation seeds outside the references', () => {
    const s = spec({ attacks: [{ name: 'negative', seeds: [9999, 10000, 10999, 11000], iterations: 1 }] });
    expect(validateAgainstRegistries(s)).toEqual([
      expect.stringMatching(
        /^attacks\[0\]\.seeds\[1\]: seed 10000 lies in the calibration references' seed range \[10000, 11000\)/,
      ),
      expect.stringMatching(/^attacks\[0\]\.seeds\[2\]: seed 10999 /),
    ]);
    // An explicit params.seed is the initialisation seed of every suspect: it is the one checked.
    expect(
      validateAgainstRegistries(
        spec({ attacks: [{ name: 'negative', params: { seed: 10001 }, seeds: [1], iterations: 1 }] }),
      ),
    ).toEqual([expect.stringMatching(/^attacks\[0\]\.params\.seed: seed 10001 lies in/)]);
    expect(
      validateAgainstRegistries(
        spec({ attacks: [{ name: 'negative', params: { seed: 5 }, seeds: [10001], iterations: 1 }] }),
      ),
    ).toEqual([]);
    const sweep = spec({
      attacks: [{ name: 'negative', seeds: [1], iterations: 1 }],
      sweeps: [{ target: 'attack:negative', param: 'seed', values: [3, 10002] }],
    });
    expect(validateAgainstRegistries(sweep)).toEqual([
      expect.stringMatching(/^sweeps\[0\]\.values\[1\]: seed 10002 lies in/),
    ]);
    // The payload: the suspect seed initialises unless params.seed is given.
    const jobs = byKey(
      planJobs(
        spec({
          attacks: [
            { name: 'negative', seeds: [1, 2], iterations: 1 },
            { name: 'negative', label: 'neg-fixed', params: { seed: 777 }, seeds: [1], iterations: 1 },
          ],
        }),
        ctx,
      ),
    );
    expect(jobs.get('attack:negative:-:2')!.payload.params).toEqual({ seed: 2 });
    expect(jobs.get('attack:neg-fixed:-:1')!.payload.params).toEqual({ seed: 777 });
  });

  it('metric ids of checkpoints and metric rules, swept parameters, colliding rows', () => {
    const s = spec({
      checkpoints: { every: 5, metrics: ['deepjudge.lod', 'zest.l2'] },
      calibration: {
        references: 2,
        metricRules: { 'ipguard.mr': { name: 'quantile' }, 'deepjudge.xyz': { name: 'paper' } },
      },
      attacks: [
        { name: 'removalnet', seeds: [1], iterations: 5 },
        { name: 'removalnet', seeds: [2], iterations: 5, scenarios: ['lsd'] },
        { name: 'finetune', seeds: [1], iterations: 5 },
      ],
      sweeps: [
        { target: 'attack:finetune', param: 'ratio', values: [0.5, 1.5] },
        { target: 'attack:finetune', param: 'gamma', values: [1] },
      ],
    });
    expect(validateAgainstRegistries(s)).toEqual([
      'sweeps[0].values[1]: ratio must be within [0, 1], got 1.5',
      expect.stringMatching(/^sweeps\[1\]\.param: unknown parameter "gamma" of finetune \(known: ratio, /),
      'checkpoints.metrics[1]: unknown metric "zest.l2" (metrics of the spec\'s defences: deepjudge.lod, deepjudge.lad, ipguard.mr)',
      expect.stringMatching(/^calibration\.metricRules\["deepjudge\.xyz"\]: unknown metric/),
      'attacks[1]: makes the same row as attacks[0] ("removalnet", scenario lsd); give one of them a distinct label',
    ]);
  });
});

describe('rowSlug', () => {
  it('is filesystem-safe, short and stable', () => {
    expect(rowSlug('removalnet(alpha=0.4)')).toBe('removalnet-alpha-0.4');
    expect(rowSlug('FT (0.5) / S_LTD')).toBe('ft-0.5-s_ltd');
    expect(rowSlug('...')).toBe('row');
    const long = rowSlug(`removalnet(${'x'.repeat(100)})`);
    expect(long.length).toBeLessThanOrEqual(60);
    expect(long).toMatch(/^[a-z0-9._-]+$/);
    expect(rowSlug(`removalnet(${'x'.repeat(100)})`)).toBe(long);
    expect(rowSlug(`removalnet(${'x'.repeat(99)}y)`)).not.toBe(long);
  });
});
