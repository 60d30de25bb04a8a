/**
 * The checks the wizard shows before a start (issue 20 item 2): impossible settings block
 * (a DeepJudge block the victim lacks, a calibration that does not fit, an estimate above a
 * week), wasteful ones only warn (workers above cores, an estimate above a few hours, few or
 * weak references). Each names its field.
 */
import { describe, expect, it } from 'vitest';
import { checkSpec, type SpecCheckContext } from '../../src-main/api/spec-check';
import type { AuditStore, CalibrationRecord } from '../../src-main/store/types';
import { DEMO, smoke } from './fake-runner';

const DEMO_HASH = 'd17fc3796ec0b51cf1285113cddad0743ba5f50407b7e65afe76742827836cae';

function context(calibrations: CalibrationRecord[] = [], cores = 2): SpecCheckContext {
  const store = { getCalibration: (id: string) => calibrations.find((c) => c.id === id) } as unknown as AuditStore;
  return { store, home: '/tmp/never-created', baseDir: process.cwd(), cores };
}

function calibration(over: Partial<CalibrationRecord> & { refs?: number[]; block?: number } = {}): CalibrationRecord {
  const refs = over.refs ?? [0.89, 0.9, 0.88, 0.9, 0.89];
  return {
    id: 'c-1',
    createdAt: '2026-12-01T00:00:00Z',
    filePath: '/x/cal.json',
    victimHash: over.victimHash ?? DEMO_HASH,
    runId: null,
    document: {
      victim: { contentHash: over.victimHash ?? DEMO_HASH },
      defenses: [{ id: 'deepjudge', params: { block: over.block ?? 0, seeds: 50 } }],
      references: refs.map((testAccuracy) => ({ testAccuracy })),
    },
  };
}

const check = (spec: unknown, ctx = context(), workers = 1) => checkSpec(spec, workers, 'wasm', ctx);

describe('semantic checks before a start', () => {
  it('the smoke spec has neither problems nor warnings', () => {
    const r = check(smoke());
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it('refuses a DeepJudge block the 3-block demo victim does not have, on its field', () => {
    const spec = { ...smoke(), defenses: [{ id: 'deepjudge', params: { block: 99 } }] };
    const r = check(spec);
    expect(r.estimate).toBeUndefined();
    expect(r.problems).toEqual([
      'defenses[0].params.block: the victim has 3 blocks, so block 99 does not exist: pick 1-3, or 0 for its default block',
    ]);
    expect(check({ ...spec, defenses: [{ id: 'deepjudge', params: { block: 3 } }] }).problems).toEqual([]);
  });

  it('refuses an estimate above a week naming the attack that drives it, and warns above four hours', () => {
    const base = smoke();
    // 1e9 iterations is already out of the schema's range (at most 1e7 per job); 9e6 on five seeds is not.
    expect(check({ ...base, attacks: base.attacks.map((a) => ({ ...a, iterations: 1e9 })) }).problems[0]).toContain(
      'more than the 10000000 any job accepts',
    );
    const huge = {
      ...base,
      attacks: base.attacks.map((a, i) => (i === 1 ? { ...a, iterations: 9e6, seeds: [1, 2, 3, 4, 5] } : a)),
    };
    const r = check(huge);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^attacks\[1\]\.iterations: the audit would take about [\d,]+ days on this machine/);
    expect(r.problems[0]).toContain('above 7 days');
    // Long but not absurd: a warning only, on the same field, and the estimate is still given.
    const long = { ...base, attacks: base.attacks.map((a, i) => (i === 1 ? { ...a, iterations: 200_000 } : a)) };
    const w = check(long);
    expect(w.problems).toEqual([]);
    expect(w.estimate!.wallSeconds).toBeGreaterThan(4 * 3600);
    expect(w.warnings?.[0]).toMatch(/^attacks\[1\]\.iterations: the audit would take about [\d.]+ (h|days)/);
  });

  it('warns about more workers than cores, and not at the core count', () => {
    expect(check(smoke(), context([], 2), 8).warnings).toEqual([
      'workers: 8 workers on 2 cores share the cores and each runs slower: the audit does not finish sooner; 2 is the most that helps',
    ]);
    expect(check(smoke(), context([], 2), 2).warnings).toEqual([]);
  });

  it('a reused calibration must fit: same victim, calibrated defences, the parameters it was made with', () => {
    const reuse = (over: Parameters<typeof calibration>[0], defenses = [{ id: 'deepjudge' }]) =>
      check({ ...smoke(), defenses, calibration: { reuse: 'c-1' } }, context([calibration(over)]));
    expect(reuse({}).problems).toEqual([]);
    expect(reuse({ victimHash: 'f'.repeat(64) }).problems[0]).toMatch(
      /^calibration\.reuse: calibration c-1 was made for another victim/,
    );
    expect(reuse({}, [{ id: 'deepjudge' }, { id: 'zest' }]).problems).toEqual([
      'defenses[1]: calibration c-1 has no thresholds for zest (it calibrated deepjudge): drop the defence or build a new calibration',
    ]);
    const edited = check(
      { ...smoke(), defenses: [{ id: 'deepjudge', params: { block: 2 } }], calibration: { reuse: 'c-1' } },
      context([calibration({})]),
    );
    expect(edited.problems).toEqual([
      'defenses[0].params.block: calibration c-1 was made with block=0, not 2; reuse keeps its fingerprints and thresholds, so set it back to 0 or build a new calibration',
    ]);
  });

  it('warns about a reused calibration on two references that reach 62 % against a 89.8 % victim', () => {
    const r = check(
      { ...smoke(), defenses: [{ id: 'deepjudge' }], calibration: { reuse: 'c-1' } },
      context([calibration({ refs: [0.6, 0.64] })]),
    );
    expect(r.problems).toEqual([]);
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings![0]).toMatch(/^calibration\.reuse: calibration c-1 rests on 2 reference models/);
    expect(r.warnings![1]).toBe(
      "calibration.reuse: its reference models reach 62.0% against the victim's 89.8%: independent models that weak sit far from the victim, so the thresholds claim too much; build a calibration with references trained as long as the victim",
    );
  });

  it('refuses reuse for a victim the audit trains', () => {
    const spec = {
      ...smoke(),
      victim: { train: { arch: 'cnn', data: DEMO.demoData, seed: 1 } },
      defenses: [{ id: 'deepjudge' }],
      calibration: { reuse: 'c-1' },
    };
    expect(check(spec, context([calibration({})])).problems[0]).toMatch(
      /^calibration\.reuse: this audit trains its victim/,
    );
  });
});
