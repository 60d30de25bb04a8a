import { describe, expect, it } from 'vitest';
import {
  computeThreshold,
  empiricalQuantile,
  isDegenerate,
  normalQuantile,
  studentTQuantile,
} from '../../../src-main/engine/calibration/rules';
import {
  applyThresholds,
  decide,
  defenseVerdicts,
  groupVerdict,
  type MetricScore,
} from '../../../src-main/engine/verdict/verdict';

describe('threshold rules', () => {
  const refs = [2.0, 3.0, 4.0, 5.0];
  it('paper rule: lowest distance, highest similarity any reference reaches', () => {
    expect(computeThreshold('distance', refs).tau).toBe(2);
    expect(computeThreshold('similarity', [0.2, 0.45, 0.3]).tau).toBe(0.45);
  });
  it('normal rule at p = 0.05: mean -/+ 1.6449 sample std', () => {
    // mean 3.5, sample std sqrt(5/3) = 1.290994
    expect(computeThreshold('distance', refs, { name: 'normal' }).tau).toBeCloseTo(3.5 - 1.644854 * 1.290994, 5);
    expect(computeThreshold('similarity', refs, { name: 'normal', parameter: 0.05 }).tau).toBeCloseTo(
      3.5 + 1.644854 * 1.290994,
      5,
    );
  });
  it('confidence rule: a one-sided prediction bound with the t quantile', () => {
    // t_{0.99, 3} = 4.541; spread = 4.541 * 1.290994 * sqrt(1.25)
    expect(computeThreshold('distance', refs, { name: 'confidence', parameter: 0.99 }).tau).toBeCloseTo(
      3.5 - 4.541 * 1.290994 * Math.sqrt(1.25),
      0,
    );
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228, 2);
    expect(studentTQuantile(0.99, 30)).toBeCloseTo(2.457, 2);
  });
  it('quantile and reference-ratio rules', () => {
    expect(computeThreshold('distance', refs, { name: 'quantile', parameter: 0.25 }).tau).toBeCloseTo(2.75, 12);
    expect(computeThreshold('similarity', refs, { name: 'quantile', parameter: 0.25 }).tau).toBeCloseTo(4.25, 12);
    expect(computeThreshold('distance', refs, { name: 'reference-ratio' }).tau).toBe(3.5);
    expect(empiricalQuantile([1, 2, 3], 0.5)).toBe(2);
  });
  it('marks a tau no reference differs from as degenerate', () => {
    const mr = computeThreshold('similarity', [0, 0, 0, 0, 0]);
    expect(mr).toMatchObject({ tau: 0, degenerate: true });
    expect(computeThreshold('similarity', [0, 0.01, 0]).degenerate).toBe(false);
    expect(isDegenerate([])).toBe(true);
  });
  it('normal quantile matches tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 6);
  });
});

describe('verdict', () => {
  const m = (
    id: string,
    kind: 'distance' | 'similarity',
    value: number | null,
    tau: number,
    extra: Partial<MetricScore> = {},
  ): MetricScore => ({
    id,
    kind,
    value,
    tau,
    applicable: value !== null,
    votes: true,
    ...extra,
  });
  it('flags strictly: a value equal to tau is not evidence', () => {
    const [a, b, c, d] = applyThresholds([
      m('a', 'distance', 1.99, 2),
      m('b', 'distance', 2, 2),
      m('c', 'similarity', 0.9, 0.9),
      m('d', 'similarity', 0.91, 0.9),
    ]);
    expect([a.flagged, b.flagged, c.flagged, d.flagged]).toEqual([true, false, false, true]);
    expect(a.normalized).toBeCloseTo(0.995, 12);
  });
  it('takes a strict majority of applicable, non-degenerate, voting metrics; a tie is not derived', () => {
    const scores = [
      m('lod', 'distance', 1, 2), // flagged
      m('lad', 'distance', 3, 2), // not
      m('ddv', 'similarity', 0.99, 0.9), // flagged
      m('mr', 'similarity', 0.5, 0, { degenerate: true }), // excluded
      m('wb', 'distance', null, 2, { applicable: false }), // excluded
      m('acc', 'similarity', 0.9, 0.1, { votes: false }), // reported only
    ];
    expect(decide(scores)).toEqual({ derived: true, votes: 2, of: 3, rule: 'majority' });
    const tie = [m('a', 'distance', 1, 2), m('b', 'distance', 3, 2)];
    expect(decide(tie).derived).toBe(false);
    expect(decide(tie, 'any').derived).toBe(true);
    expect(decide(tie, 'all').derived).toBe(false);
    expect(decide([], 'majority')).toMatchObject({ derived: false, of: 0 });
  });
  it('gives each defence its own verdict: a strict majority of its metrics, a tie named, none voting = not applicable', () => {
    const verdicts = defenseVerdicts([
      m('deepjudge.lod', 'distance', 1, 2), // flagged
      m('deepjudge.lad', 'distance', 3, 2), // not: DeepJudge ties
      m('zest.l2', 'distance', 1, 2), // flagged
      m('zest.cosine', 'distance', 0.1, 0.2), // flagged
      m('modeldiff.ddv', 'similarity', 0.5, 0.9), // not
      m('ipguard.mr', 'similarity', 0.9, 0.5, { degenerate: true }), // cannot vote
      m('fidelity.accuracy', 'similarity', 0.9, 0.1, { votes: false }), // reported only
    ]);
    expect(verdicts).toEqual([
      { id: 'deepjudge', status: 'tie', votes: 1, of: 2 },
      { id: 'zest', status: 'recognised', votes: 2, of: 2 },
      { id: 'modeldiff', status: 'not-recognised', votes: 0, of: 1 },
      { id: 'ipguard', status: 'not-applicable', votes: 0, of: 0 },
    ]);
  });
  it('summarises a group as the paper does', () => {
    const yes = { derived: true, votes: 3, of: 5, rule: 'majority' as const };
    const no = { ...yes, derived: false };
    expect(groupVerdict([yes, yes, no]).label).toBe('Yes (2/3)');
    expect(groupVerdict([no, no, yes]).label).toBe('No (1/3)');
  });
});
