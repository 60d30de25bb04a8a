import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ThresholdRule } from '../../src-main/engine/calibration/rules';
import { demoSpec, smokeSpec } from '../../src-main/runner/presets';
import {
  AuditSpecSchema,
  canonicalSpecJson,
  formatPath,
  parseAuditSpec,
  ThresholdRuleSchema,
  type AuditSpecInput,
  type ThresholdRuleSpec,
} from '../../src-shared/audit/spec';

const paths = { demoModel: '/res/models/demo-victim', demoData: '/res/datasets/fashion-mnist-demo' };

/** A small valid spec as a user would write it (JSON round trip: no shared references). */
function base(): Record<string, unknown> {
  const spec: AuditSpecInput = {
    version: 1,
    victim: { model: 'models/victim' },
    data: { train: 'data/fm' },
    scenarios: [
      { id: 'ltd10', kind: 'ltd', fraction: 0.1 },
      { id: 'lsd', kind: 'lsd', partition: '1/2' },
    ],
    defenses: [{ id: 'deepjudge' }, { id: 'zest', params: { masks: 50 } }],
    calibration: { references: 3 },
    attacks: [
      { name: 'finetune', params: { ratio: 0.5 }, seeds: [1, 2], iterations: 100 },
      { name: 'removalnet', seeds: [1], iterations: 50, scenarios: ['ltd10'] },
      { name: 'negative', seeds: [777], iterations: 100 },
    ],
  };
  return JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
}

function problemsOf(json: unknown): string[] {
  const r = parseAuditSpec(json);
  if (r.ok) throw new Error('expected the spec to be refused');
  return r.problems;
}

function withField(
  mutate: (
    s: Record<string, unknown> & { attacks: Record<string, unknown>[]; scenarios: Record<string, unknown>[] },
  ) => void,
): string[] {
  const s = base() as Record<string, unknown> & {
    attacks: Record<string, unknown>[];
    scenarios: Record<string, unknown>[];
  };
  mutate(s);
  return problemsOf(s);
}

describe('parseAuditSpec', () => {
  it('accepts the presets and a hand-written spec, filling in defaults', () => {
    for (const spec of [demoSpec(paths), smokeSpec(paths)]) {
      const r = parseAuditSpec(JSON.parse(JSON.stringify(spec)));
      expect(r.ok ? [] : r.problems).toEqual([]);
    }
    const r = parseAuditSpec(base());
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.spec.name).toBe('audit');
      expect(r.spec.scenarios[1]).toEqual({ id: 'lsd', kind: 'lsd', partition: '1/2' });
    }
  });

  it('accepts a trained victim, a reused calibration, checkpoints and sweeps', () => {
    const s = base();
    s.victim = { train: { arch: 'cnn', data: 'data/fm', seed: 1, epochs: 2, partition: '0/2' } };
    s.calibration = { reuse: 'cal-1' };
    s.checkpoints = { every: 10, metrics: ['deepjudge.lod'] };
    s.sweeps = [
      { target: 'attack:removalnet', param: 'alpha', values: [0.2, 0.4] },
      { target: 'scenario:ltd10', param: 'fraction', values: [0.05, 0.1] },
    ];
    expect(parseAuditSpec(s)).toMatchObject({ ok: true });
  });

  it('names the field of each kind of shape error', () => {
    expect(problemsOf({ ...base(), version: 2 })).toEqual(['version: must be 1, got number 2']);
    expect(withField((s) => (s.attacks[1].seeds = []))).toEqual(['attacks[1].seeds: must contain at least 1 item']);
    expect(withField((s) => (s.attacks[0].iterations = 0))).toEqual(['attacks[0].iterations: must be >= 1, got 0']);
    expect(withField((s) => (s.attacks[0].iterations = 1.5))).toEqual([
      'attacks[0].iterations: must be an integer, got number 1.5',
    ]);
    expect(withField((s) => delete s.attacks[2].iterations)).toEqual(['attacks[2].iterations: required']);
    // The shared schema checks an id's form; which ids exist is the registries' word (main side).
    expect(withField((s) => (s.attacks[0].name = 'Fine Tune'))).toEqual([
      expect.stringMatching(/^attacks\[0\]\.name: must be an attack or defence id/),
    ]);
    expect(withField((s) => (s.attacks[0].seed = 3))).toEqual(['attacks[0]: unknown field "seed"']);
    expect(withField((s) => (s.scenarios[0].fraction = 1.5))).toEqual(['scenarios[0].fraction: must be <= 1, got 1.5']);
    expect(withField((s) => (s.scenarios[0].fraction = 0))).toEqual(['scenarios[0].fraction: must be > 0, got 0']);
    expect(withField((s) => (s.scenarios[1].kind = 'xyz'))).toEqual([
      'scenarios[1].kind: unknown kind "xyz" (must be "ltd" or "lsd")',
    ]);
    expect(withField((s) => (s.scenarios[1].partition = '2/2'))).toEqual([
      'scenarios[1].partition: must look like "k/n" with 0 <= k < n, e.g. "1/2"',
    ]);
    expect(withField((s) => (s.scenarios[1].id = 'a b'))).toEqual([
      expect.stringMatching(/^scenarios\[1\]\.id: must be 1-64 letters/),
    ]);
    expect(withField((s) => (s.defenses = []))).toEqual(['defenses: must contain at least 1 item']);
    expect(withField((s) => (s.attacks[0].params = { ratio: null }))).toEqual([
      'attacks[0].params.ratio: expected number, boolean or string, got null',
    ]);
    expect(withField((s) => (s.calibration = { references: 1 }))).toEqual([
      'calibration.references: must be >= 2, got 1',
    ]);
    expect(withField((s) => (s.calibration = { references: 3, rule: { name: 'normal', parameter: 2 } }))).toEqual([
      'calibration.rule.parameter: must be in (0, 1) for the normal rule, got 2',
    ]);
    expect(withField((s) => (s.checkpoints = { every: 0 }))).toEqual(['checkpoints.every: must be >= 1, got 0']);
    expect(withField((s) => (s.victim = { train: { arch: 'cnn', data: 'd' } }))).toEqual([
      'victim.train.seed: required',
    ]);
    expect(withField((s) => (s.victim = {}))[0]).toMatch(
      /^victim: matches none of the allowed forms: \{ model: required \} or \{ train: required \}/,
    );
    expect(problemsOf(42)).toEqual(['(spec): expected object, got number 42']);
  });

  it('reports every problem at once', () => {
    const problems = withField((s) => {
      s.attacks[0].seeds = [];
      s.attacks[1].iterations = -1;
      s.data = {};
    });
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        'data.train: required',
        'attacks[0].seeds: must contain at least 1 item',
        'attacks[1].iterations: must be >= 1, got -1',
      ]),
    );
  });

  it('checks fields against each other', () => {
    expect(withField((s) => (s.scenarios[1].id = 'ltd10'))).toEqual([
      'scenarios[1].id: duplicate scenario id "ltd10" (also scenarios[0])',
    ]);
    expect(withField((s) => (s.attacks[1].scenarios = ['ltd10', 'nope']))).toEqual([
      'attacks[1].scenarios[1]: unknown scenario "nope" (scenarios: ltd10, lsd)',
    ]);
    expect(withField((s) => (s.defenses = [{ id: 'zest' }, { id: 'ipguard' }, { id: 'zest' }]))).toEqual([
      'defenses[2].id: duplicate defence "zest" (also defenses[0])',
    ]);
    expect(withField((s) => (s.attacks[0].seeds = [1, 2, 1]))).toEqual(['attacks[0].seeds[2]: duplicate seed 1']);
    expect(withField((s) => (s.sweeps = [{ target: 'attack:distill', param: 'featureWeight', values: [1] }]))).toEqual([
      expect.stringMatching(/^sweeps\[0\]\.target: no attack labelled or named "distill"/),
    ]);
    expect(withField((s) => (s.sweeps = [{ target: 'scenario:nope', param: 'fraction', values: [0.1] }]))).toEqual([
      expect.stringMatching(/^sweeps\[0\]\.target: unknown scenario "nope"/),
    ]);
    expect(withField((s) => (s.sweeps = [{ target: 'removalnet', param: 'alpha', values: [1] }]))).toEqual([
      expect.stringMatching(/^sweeps\[0\]\.target: must be "attack:<label or name>" or "scenario:<id>"/),
    ]);
    expect(withField((s) => (s.sweeps = [{ target: 'scenario:ltd10', param: 'fraction', values: [0.1, 2] }]))).toEqual([
      'sweeps[0].values[1]: fraction must be a number in (0, 1], got 2',
    ]);
    expect(withField((s) => (s.sweeps = [{ target: 'scenario:lsd', param: 'fraction', values: [0.1] }]))).toEqual([
      'sweeps[0].param: a lsd scenario sweeps partition or data, not "fraction"',
    ]);
    expect(
      withField((s) => (s.sweeps = [{ target: 'attack:finetune', param: 'iterations', values: [10, 0] }])),
    ).toEqual(['sweeps[0].values[1]: iterations must be a positive integer, got 0']);
    expect(withField((s) => (s.sweeps = [{ target: 'attack:finetune', param: 'ratio', values: [0.5, 0.5] }]))).toEqual([
      'sweeps[0].values[1]: duplicate value 0.5',
    ]);
    // S_LSD on the victim's own half of the same data.
    expect(
      withField((s) => {
        s.victim = { train: { arch: 'cnn', data: 'data/fm', seed: 1, partition: '1/2' } };
      }),
    ).toEqual(['scenarios[1].partition: the victim trains on part 1/2 of the same data; S_LSD needs another part']);
  });

  it('the schema itself carries the cross-field checks', () => {
    const s = base() as { scenarios: { id: string }[] };
    s.scenarios[1].id = 'ltd10';
    const r = AuditSpecSchema.safeParse(s);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path)).toEqual([['scenarios', 1, 'id']]);
  });
});

describe('canonicalSpecJson', () => {
  it('does not depend on key order, but does on values and array order', () => {
    const a = {
      version: 1,
      victim: { model: 'm' },
      data: { train: 't', maxTest: 5 },
      attacks: [{ name: 'x', seeds: [1, 2] }],
    };
    const b = {
      attacks: [{ seeds: [1, 2], name: 'x' }],
      data: { maxTest: 5, train: 't' },
      victim: { model: 'm' },
      version: 1,
    };
    expect(canonicalSpecJson(a)).toBe(canonicalSpecJson(b));
    expect(canonicalSpecJson(a)).toBe(
      '{"attacks":[{"name":"x","seeds":[1,2]}],"data":{"maxTest":5,"train":"t"},"version":1,"victim":{"model":"m"}}',
    );
    expect(canonicalSpecJson({ ...b, attacks: [{ seeds: [2, 1], name: 'x' }] })).not.toBe(canonicalSpecJson(a));
    expect(canonicalSpecJson({ ...a, extra: undefined })).toBe(canonicalSpecJson(a));
  });

  it('a parsed spec hashes the same whether or not defaults were written out', () => {
    const s = base();
    const withName = { ...s, name: 'audit' };
    const p1 = parseAuditSpec(s);
    const p2 = parseAuditSpec(withName);
    expect(p1.ok && p2.ok && canonicalSpecJson(p1.spec) === canonicalSpecJson(p2.spec)).toBe(true);
  });
});

describe('ThresholdRuleSchema', () => {
  it('has the shape of the engine type', () => {
    expectTypeOf<ThresholdRuleSpec>().toEqualTypeOf<ThresholdRule>();
    const rule: ThresholdRule = { name: 'quantile', parameter: 0.1 };
    expect(ThresholdRuleSchema.parse(rule)).toEqual(rule);
    expect(ThresholdRuleSchema.safeParse({ name: 'median' }).success).toBe(false);
    expect(ThresholdRuleSchema.safeParse({ name: 'paper', parameter: 1 }).success).toBe(false);
  });
});

describe('formatPath', () => {
  it('writes array indices and quotes keys that are not identifiers', () => {
    expect(formatPath(['attacks', 1, 'seeds'])).toBe('attacks[1].seeds');
    expect(formatPath(['calibration', 'metricRules', 'deepjudge.lod'])).toBe(
      'calibration.metricRules["deepjudge.lod"]',
    );
    expect(formatPath([])).toBe('(spec)');
  });
});
