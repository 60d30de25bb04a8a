/**
 * Separability (issue 18): ROC, AUC and its Hanley-McNeil interval, TPR at fixed FPR with
 * the n_neg >= 3/FPR rule, the per-defence score and false claims by leave-one-out, all on
 * cases small enough to check by hand (the arithmetic is in the comments), plus one random
 * case checked against an independent rank-based computation in Python with numpy.
 */
import { describe, expect, it } from 'vitest';
import {
  defenseScore,
  falseClaims,
  hanleyMcNeil,
  hasEnoughNegatives,
  metricMargin,
  minNegatives,
  roc,
  separability,
  trapezoidAuc,
  type MetricThreshold,
} from '../../src-main/engine/verdict/separability';

describe('roc', () => {
  it('gives AUC 1 for perfect separation in either orientation, with a collapsed interval', () => {
    const up = roc([3, 4], [1, 2], 'higher-is-derived');
    expect(up.auc).toBe(1);
    expect(up.ci).toEqual([1, 1]);
    expect(up.tprAtFpr0.tpr).toBe(1);
    const down = roc([1, 2], [3, 4], 'lower-is-derived');
    expect(down.auc).toBe(1);
    expect(down.points.map((p) => [p.fpr, p.tpr, p.threshold])).toEqual([
      [0, 0, null],
      [0, 0.5, 1],
      [0, 1, 2],
      [0.5, 1, 3],
      [1, 1, 4],
    ]);
    // The wrong orientation inverts it.
    expect(roc([1, 2], [3, 4], 'higher-is-derived').auc).toBe(0);
  });

  it('gives AUC 0.5 when positives and negatives are identical', () => {
    const r = roc([1, 1], [1, 1], 'higher-is-derived');
    expect(r.auc).toBe(0.5);
    expect(r.points.map((p) => [p.fpr, p.tpr])).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(r.tprAtFpr0.tpr).toBe(0);
  });

  it('counts ties one half (hand case)', () => {
    // pos [2, 3, 3], neg [1, 3]: 2 beats 1 (1) and loses to 3 (0); each 3 beats 1 (1) and ties 3 (1/2):
    // (1 + 1.5 + 1.5) / 6 = 2/3.
    const r = roc([2, 3, 3], [1, 3], 'higher-is-derived');
    expect(r.auc).toBeCloseTo(2 / 3, 15);
    expect(r.points.map((p) => [p.fpr, p.tpr])).toEqual([
      [0, 0],
      [0.5, 2 / 3],
      [0.5, 1],
      [1, 1],
    ]);
    expect(trapezoidAuc(r.points)).toBeCloseTo(2 / 3, 15);
    // pos [1, 2, 3], neg [2, 4]: only 2 ties 2 (1/2) and 3 beats 2 (1): 1.5 / 6.
    expect(roc([1, 2, 3], [2, 4], 'higher-is-derived').auc).toBe(0.25);
    expect(roc([1, 2, 3], [2, 4], 'lower-is-derived').auc).toBe(0.75);
  });

  it('matches the Hanley-McNeil interval computed by hand', () => {
    // A = 2/3, n1 = 3, n2 = 2: Q1 = (2/3)/(4/3) = 1/2, Q2 = 2(4/9)/(5/3) = 8/15, A^2 = 4/9;
    // SE^2 = [2/9 + 2(1/2 - 4/9) + 1(8/15 - 4/9)] / 6 = (2/9 + 1/9 + 4/45) / 6 = 19/270.
    const se = Math.sqrt(19 / 270);
    const { se: got, ci } = hanleyMcNeil(2 / 3, 3, 2);
    expect(got).toBeCloseTo(se, 14);
    expect(ci[0]).toBeCloseTo(2 / 3 - 1.96 * se, 14); // 0.14673...
    expect(ci[1]).toBe(1); // 2/3 + 0.5199 clamped
    expect(roc([2, 3, 3], [1, 3], 'higher-is-derived').ci?.[0]).toBeCloseTo(0.146729, 5);
  });

  it('agrees with an independent rank-based computation (Python, numpy) on a random case with ties', () => {
    // numpy: rng = default_rng(18); pos = round(normal(1, 1, 23), 1); neg = round(normal(0, 1, 31), 1);
    // AUC = (sum of average ranks of pos - n1(n1+1)/2) / (n1 n2); TPR read by brute force over thresholds.
    const pos = [
      0.6, -0.1, 1.7, -0.1, 3.0, 1.9, 0.6, 1.6, 2.6, 3.8, 0.1, 2.1, 1.5, 0.7, 2.1, 1.5, 2.1, 0.5, 1.0, 1.4, 1.0, 1.0,
      0.2,
    ];
    const neg = [
      0.1, 0.2, -0.1, 0.0, 0.7, -0.7, 0.7, -0.2, 0.1, -0.2, 0.9, 0.8, 0.0, -0.4, 1.9, 0.5, -1.1, 0.0, -0.1, 0.7, -0.2,
      -0.7, 1.3, -2.0, -1.4, -0.5, -0.5, -0.1, 0.0, 1.0, -1.5,
    ];
    const r = roc(pos, neg, 'higher-is-derived');
    expect(r.nPos).toBe(23);
    expect(r.nNeg).toBe(31);
    expect(r.auc).toBeCloseTo(0.8604488078541375, 12);
    expect(r.ci?.[0]).toBeCloseTo(0.7538347983752347, 12);
    expect(r.ci?.[1]).toBeCloseTo(0.9670628173330402, 12);
    expect(trapezoidAuc(r.points)).toBeCloseTo(0.8604488078541375, 12);
    expect(r.tprAtFpr10.tpr).toBeCloseTo(0.6521739130434783, 12);
    expect(r.tprAtFpr0.tpr).toBeCloseTo(0.2608695652173913, 12);
    // Negating the data and the orientation changes nothing.
    const flipped = roc(
      pos.map((v) => -v),
      neg.map((v) => -v),
      'lower-is-derived',
    );
    expect(flipped.auc).toBeCloseTo(r.auc as number, 14);
  });

  it('reads TPR at FPR 0 and 10%, the latter only with n_neg >= 3 / 0.1 = 30', () => {
    const neg30 = Array.from({ length: 30 }, (_, i) => i); // 0..29
    const pos = [25.5, 26.5, 100, 200];
    const r = roc(pos, neg30, 'higher-is-derived');
    // At 100 no negative is above: TPR 2/4. At 26.5 three negatives (27, 28, 29) are: FPR 3/30 = 10%, TPR 3/4.
    expect(r.tprAtFpr0).toEqual({ fpr: 0, tpr: 0.5 });
    expect(r.tprAtFpr10).toEqual({ fpr: 0.1, tpr: 0.75 });
    const r29 = roc(pos, neg30.slice(0, 29), 'higher-is-derived');
    expect(r29.tprAtFpr10).toEqual({ fpr: 0.1, tpr: null, reason: 'needs >= 30 negatives' });
    expect(r29.tprAtFpr0.tpr).toBe(0.5); // FPR 0 is always reported (with nNeg beside it)
    expect(r29.nNeg).toBe(29);
    expect(minNegatives(0.1)).toBe(30);
    expect(minNegatives(0.05)).toBe(60);
    expect(hasEnoughNegatives(30, 0.1)).toBe(true);
    expect(hasEnoughNegatives(29, 0.1)).toBe(false);
  });

  it('leaves out non-finite values and has no AUC without negatives', () => {
    const r = roc([1, Number.NaN], [], 'higher-is-derived');
    expect([r.nPos, r.nNeg, r.auc, r.ci]).toEqual([1, 0, null, null]);
    expect(r.tprAtFpr0.reason).toBe('no negative model');
  });
});

describe('defence score', () => {
  it('is positive exactly when a strict majority of the metrics flag', () => {
    expect(metricMargin('distance', 4, 5)).toBeCloseTo(0.2, 15);
    expect(metricMargin('similarity', 0.6, 0.5)).toBeCloseTo(0.2, 15);
    expect(metricMargin('distance', 5, 5)).toBe(0); // at tau: not flagged (strict)
    expect(metricMargin('similarity', 0.1, 0)).toBe(0.1); // tau 0 scales by 1
    expect(defenseScore([0.3])).toBe(0.3);
    expect(defenseScore([0.5, -0.1])).toBe(-0.1); // one of two: a tie, no accusation
    expect(defenseScore([0.5, 0.1])).toBe(0.1);
    expect(defenseScore([0.1, 0.2, -0.5])).toBe(0.1); // two of three
    expect(defenseScore([0.1, -0.2, -0.5])).toBe(-0.2);
    expect(defenseScore([])).toBeNull();
  });
});

const A: MetricThreshold = {
  id: 'd.a',
  defense: 'd',
  kind: 'distance',
  tau: 5,
  degenerate: false,
  rule: { name: 'paper' },
  referenceValues: [5, 6, 7],
};
const B: MetricThreshold = {
  id: 'd.b',
  defense: 'd',
  kind: 'similarity',
  tau: 0.5,
  degenerate: false,
  rule: { name: 'paper' },
  referenceValues: [0.2, 0.5, 0.3],
};

describe('false claims', () => {
  it('judges Negative models at tau and each reference by the tau of the other references', () => {
    // a (distance, tau = min = 5): ref 5 vs min(6, 7) = 6 -> accused; 6 vs 5 and 7 vs 5 -> not.
    // Negatives 4.9 (accused) and 8 (not).
    const a = falseClaims([A], [{ 'd.a': 4.9 }, { 'd.a': 8 }]);
    expect(a.negativeModels).toEqual({ accused: 1, of: 2 });
    expect(a.references).toEqual({ accused: 1, of: 3, notJudged: 0 });
    expect(a.pooled).toEqual({ accused: 2, of: 5 });
    expect(a.rate).toBeCloseTo(0.4, 15);
    // b (similarity, tau = max = 0.5): 0.2 vs 0.5 no; 0.5 vs max(0.2, 0.3) = 0.3 yes; 0.3 vs 0.5 no.
    expect(falseClaims([B], []).references).toEqual({ accused: 1, of: 3, notJudged: 0 });
  });

  it('accuses as a defence only on a strict majority of its metrics', () => {
    // References: ref 0 flags a only, ref 1 flags b only (ties), ref 2 neither -> 0 of 3.
    // Negatives: both flag -> accused; a tie -> not; only b has a value and flags -> accused (1 of 1).
    const d = falseClaims(
      [A, B],
      [{ 'd.a': 4.9, 'd.b': 0.6 }, { 'd.a': 4.9, 'd.b': 0.1 }, { 'd.a': null, 'd.b': 0.9 }, { 'd.a': null }],
    );
    expect(d.references).toEqual({ accused: 0, of: 3, notJudged: 0 });
    expect(d.negativeModels).toEqual({ accused: 2, of: 3 }); // the last has no value: not judged
    expect(d.pooled).toEqual({ accused: 2, of: 6 });
  });

  it('does not judge references whose leave-one-out threshold is degenerate (two references leave one)', () => {
    const two = { ...A, referenceValues: [5, 6] };
    expect(falseClaims([two], []).references).toEqual({ accused: 0, of: 0, notJudged: 2 });
    expect(falseClaims([two], []).rate).toBeNull();
    // A degenerate calibrated tau does not vote for the Negative models either.
    expect(falseClaims([{ ...A, degenerate: true }], [{ 'd.a': 1 }]).negativeModels).toEqual({ accused: 0, of: 0 });
  });

  it('uses the metric rule for leave-one-out (quantile)', () => {
    // quantile q = 0.25 on a distance: tau = 25th percentile of the others (linear interpolation).
    const q: MetricThreshold = { ...A, rule: { name: 'quantile', parameter: 0.25 }, referenceValues: [1, 2, 3, 4, 5] };
    // ref 1 (value 1): others [2, 3, 4, 5] -> pos 0.75 -> 2.75: 1 < 2.75 accused; ref 2: [1,3,4,5] -> 1 + 0.75*2 = 2.5: 2 < 2.5 accused;
    // ref 3: [1,2,4,5] -> 1.75: no; ref 4: [1,2,3,5] -> 1.75: no; ref 5: [1,2,3,4] -> 1.75: no.
    expect(falseClaims([q], []).references).toEqual({ accused: 2, of: 5, notJudged: 0 });
  });
});

describe('separability', () => {
  it('compares each row with the references and Negative models, per metric and per defence', () => {
    const s = separability({
      metrics: [A, B],
      negatives: [{ 'd.a': 8, 'd.b': 0.1 }],
      rows: [
        {
          rowId: 'r',
          scenario: '-',
          label: 'r',
          attack: 'removalnet',
          positives: [
            { 'd.a': 1, 'd.b': 0.9 },
            { 'd.a': 5.5, 'd.b': 0.8 },
          ],
        },
      ],
    });
    expect(s.negatives).toEqual({ references: 3, negativeModels: 1 });
    const row = s.rows[0];
    // a: positives [1, 5.5] vs negatives [5, 6, 7, 8] (lower is derived): 1 beats 4, 5.5 beats 3 -> 7/8.
    expect(row.metrics[0].roc.auc).toBe(7 / 8);
    expect([row.metrics[0].roc.nPos, row.metrics[0].roc.nNeg]).toEqual([2, 4]);
    // b: positives [0.9, 0.8] vs [0.2, 0.5, 0.3, 0.1] -> 1.
    expect(row.metrics[1].roc.auc).toBe(1);
    // Defence: min of the margins. Positives: min(0.8, 0.8) = 0.8; min(-0.1, 0.6) = -0.1.
    // Negatives: refs min(0, -0.6) = -0.6, min(-0.2, 0) = -0.2, min(-0.4, -0.4) = -0.4; Negative min(-0.6, -0.8) = -0.8.
    // -0.1 beats all four, 0.8 too -> AUC 1; at threshold 0 (the calibrated decision) TPR 1/2, FPR 0.
    const d = row.defenses[0];
    expect(d.metrics).toEqual(['d.a', 'd.b']);
    expect(d.roc?.auc).toBe(1);
    expect(d.roc?.tprAtFpr0.tpr).toBe(1);
    expect(s.falseClaims.defenses[0].counts?.pooled).toEqual({ accused: 0, of: 4 });
    expect(s.falseClaims.metrics.map((m) => m.counts?.pooled)).toEqual([
      { accused: 1, of: 4 },
      { accused: 1, of: 4 },
    ]);
  });

  it('has no defence ROC and no false claims without a calibration', () => {
    const s = separability({
      metrics: [{ ...A, tau: null, rule: null, referenceValues: [] }],
      negatives: [{ 'd.a': 8 }],
      rows: [{ rowId: 'r', scenario: '-', label: 'r', attack: 'x', positives: [{ 'd.a': 1 }] }],
    });
    expect(s.rows[0].metrics[0].roc.auc).toBe(1);
    expect(s.rows[0].defenses[0].roc).toBeNull();
    expect(s.falseClaims.metrics[0].counts).toBeNull();
    expect(s.falseClaims.defenses[0].counts).toBeNull();
  });
});
