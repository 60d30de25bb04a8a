import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageSet } from '../../../src-main/engine/datasets/types';
import { deserializeFingerprints, serializeFingerprints } from '../../../src-main/engine/defenses/fingerprint-file';
import { MIN_MISTAKES, mistakesDefense as mis } from '../../../src-main/engine/defenses/mistakes';
import type { ResponseMap } from '../../../src-main/engine/defenses/responses';
import { metricCombined, metricVotes, type Fingerprints } from '../../../src-main/engine/defenses/types';
import { judge } from '../../../src-main/engine/calibration/score-answers';
import type { LoadedModel } from '../../../src-main/engine/models/io';
import { decide, defenseVerdicts, type MetricScore } from '../../../src-main/engine/verdict/verdict';
import { ctx, SIDE, tensorsLeftBy, tiny, useCpu, zoo, type Zoo } from './fixtures';

let z: Zoo;
/** An untrained model as the victim: it errs on most of the test split, so there are mistakes to share. */
let weak: LoadedModel;
let fp: Fingerprints;

/** The model's labels on the data, straight from TF.js (not through the defence's query path). */
function labelsOn(m: LoadedModel, data: ImageSet): Int32Array {
  const n = data.count;
  return tf.tidy(() => {
    const x = tf.tensor4d(data.images.subarray(0, n * SIDE * SIDE), [n, SIDE, SIDE, 1]);
    return Int32Array.from((m.model.predict(x) as tf.Tensor2D).argMax(1).dataSync());
  });
}

/** The test split with the first `n` images only. */
function prefix(data: ImageSet, n: number): ImageSet {
  return { ...data, count: n, images: data.images.slice(0, n * SIDE * SIDE), labels: data.labels.slice(0, n) };
}

beforeAll(async () => {
  await useCpu();
  z = await zoo();
  weak = tiny({ seed: 31, name: 'weak-victim' });
  fp = await mis.extract(ctx(), weak, z.test, { samples: 0 });
});

describe('mistakes (shared-mistakes baseline)', () => {
  it('is a black-box, opt-in defence with one similarity metric that votes but not in the combined verdict', () => {
    expect(mis.access).toBe('black-box');
    expect(mis.optIn).toBe(true);
    expect(mis.metrics.map((m) => [m.id, m.kind, m.identity])).toEqual([['mistakes.agreement', 'similarity', 1]]);
    expect(metricVotes(mis.metrics[0])).toBe(true);
    expect(metricCombined(mis.metrics[0])).toBe(false);
  });

  it("stores every input the victim gets wrong, with the victim's wrong label and the true label", () => {
    const pred = labelsOn(weak, z.test);
    const wrong = [...pred.keys()].filter((i) => pred[i] !== z.test.labels[i]);
    expect(wrong.length).toBeGreaterThanOrEqual(MIN_MISTAKES);
    expect(fp.arrays.inputs.shape).toEqual([wrong.length, SIDE, SIDE, 1]);
    expect(Array.from(fp.arrays.victimLabels.data)).toEqual(wrong.map((i) => pred[i]));
    expect(Array.from(fp.arrays.labels.data)).toEqual(wrong.map((i) => z.test.labels[i]));
    expect(fp.info).toMatchObject({ mistakes: wrong.length, samples: wrong.length, tested: z.test.count });
    expect(fp.queries).toBe(z.test.count);
  });

  it('keeps a seeded sample of `samples` mistakes: the same for the same seed', async () => {
    const a = await mis.extract(ctx(7), weak, z.test, { samples: 5 });
    const b = await mis.extract(ctx(7), weak, z.test, { samples: 5 });
    expect(a.arrays.inputs.shape[0]).toBe(5);
    expect(a.arrays.inputs.data).toEqual(b.arrays.inputs.data);
    for (let i = 0; i < 5; i++) expect(a.arrays.victimLabels.data[i]).not.toBe(a.arrays.labels.data[i]);
  });

  it('the victim against itself gives 1', async () => {
    expect(await mis.score(ctx(), weak, weak, fp)).toEqual({ 'mistakes.agreement': 1 });
  });

  it('scores answers by hand: 3 of 5 wrong labels repeated = 0.6, correct answers do not count', () => {
    const hand: Fingerprints = {
      defense: 'mistakes',
      params: { samples: 0 },
      victimHash: 'h',
      arrays: {
        inputs: { shape: [5, 1, 1, 1], data: new Float32Array(5) },
        victimLabels: { shape: [5], data: Float32Array.from([1, 2, 0, 3, 1]) },
        labels: { shape: [5], data: Float32Array.from([0, 0, 1, 2, 3]) },
      },
      info: {},
      queries: 5,
    };
    const answers = (labels: number[]): ResponseMap => ({
      mistakes: { output: 'labels', data: { shape: [5], data: Float32Array.from(labels) } },
    });
    // Same wrong label on rows 0, 1, 3; row 2 answered correctly (1), row 4 another wrong label (0).
    expect(mis.scoreResponses!(hand, answers([1, 2, 1, 3, 0]))).toEqual({ 'mistakes.agreement': 0.6 });
    // A suspect that is right wherever the victim is wrong shares none of its mistakes.
    expect(mis.scoreResponses!(hand, answers([0, 0, 1, 2, 3]))).toEqual({ 'mistakes.agreement': 0 });
    // Logits are turned into labels: argmax of row i is the victim's wrong label on rows 0 and 1 only.
    const logits = new Float32Array(20);
    [1, 2, 1, 2, 0].forEach((c, i) => (logits[i * 4 + c] = 5));
    expect(
      mis.scoreResponses!(hand, { mistakes: { output: 'logits', data: { shape: [5, 4], data: logits } } }),
    ).toEqual({ 'mistakes.agreement': 0.4 });
  });

  it('a suspect with other mistakes: the share of the victim mistakes it repeats, counted by hand', async () => {
    const v = labelsOn(weak, z.test);
    for (const suspect of [z.victim, z.independent, tiny({ seed: 32, name: 'other-untrained' })]) {
      const s = labelsOn(suspect, z.test);
      let wrong = 0;
      let same = 0;
      for (let i = 0; i < z.test.count; i++) {
        if (v[i] === z.test.labels[i]) continue;
        wrong++;
        if (s[i] === v[i]) same++;
      }
      const r = await mis.score(ctx(), weak, suspect, fp);
      expect(r['mistakes.agreement']).toBe(same / wrong);
      expect(r['mistakes.agreement']).toBeLessThan(1);
    }
  });

  it('refuses a victim with fewer than MIN_MISTAKES mistakes, saying why and what to do', async () => {
    const v = labelsOn(z.victim, z.test);
    // A prefix of the test split on which the trained victim errs fewer than MIN_MISTAKES times.
    let n = z.test.count;
    const errors = (k: number): number => [...v.subarray(0, k)].filter((p, i) => p !== z.test.labels[i]).length;
    while (errors(n) >= MIN_MISTAKES) n--;
    const err = await mis.extract(ctx(), z.victim, prefix(z.test, n), {}).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(
        new RegExp(`Mistakes found no fingerprint inputs: the victim misclassifies ${errors(n)} of the ${n} given`),
      ),
      hint: expect.stringMatching(/no mistakes to share.*leave this defence out/),
    });
  });

  it('round trip through the file format; refuses another class count and input shape', async () => {
    const back = deserializeFingerprints(serializeFingerprints(fp));
    expect(await mis.score(ctx(), weak, z.independent, back)).toEqual(await mis.score(ctx(), weak, z.independent, fp));
    expect(mis.applicability(weak, tiny({ seed: 3, classes: 3, name: 'three' }), fp).applicable).toBe(false);
    expect(mis.applicability(z.victim, z.independent, fp)).toMatchObject({ applicable: false });
  });

  it('leaves no tensors behind', async () => {
    expect(await tensorsLeftBy(() => mis.score(ctx(), weak, z.independent, fp))).toBe(0);
    expect(await tensorsLeftBy(() => mis.extract(ctx(), weak, z.test, { samples: 10 }))).toBe(0);
  });
});

describe('mistakes.agreement in the verdicts (combined: false)', () => {
  const m = (id: string, value: number, tau: number, extra: Partial<MetricScore> = {}): MetricScore => ({
    id,
    kind: 'similarity',
    value,
    tau,
    applicable: true,
    votes: true,
    ...extra,
  });
  const mistakes = (value: number): MetricScore => m('mistakes.agreement', value, 0.5, { combined: false });

  it('has its own per-defence verdict but no say in the combined one', () => {
    const scores = [m('modeldiff.ddv', 0.9, 0.5), m('ipguard.mr', 0.1, 0.5)];
    // One of two: a tie, not derived, with or without a flagging mistakes metric.
    expect(decide([...scores, mistakes(0.9)])).toEqual(decide(scores));
    expect(decide([...scores, mistakes(0.9)])).toEqual({ derived: false, votes: 1, of: 2, rule: 'majority' });
    expect(defenseVerdicts([...scores, mistakes(0.9)]).find((d) => d.id === 'mistakes')).toEqual({
      id: 'mistakes',
      status: 'recognised',
      votes: 1,
      of: 1,
    });
    expect(defenseVerdicts([mistakes(0.2)])).toEqual([{ id: 'mistakes', status: 'not-recognised', votes: 0, of: 1 }]);
  });

  it('its tau does not count towards the two a calibration needs for a verdict', () => {
    const taus = new Map([
      ['ipguard.mr', { tau: 0.5, degenerate: false }],
      ['mistakes.agreement', { tau: 0.5, degenerate: false }],
    ]);
    const bare = (id: string, value: number, extra: Partial<MetricScore> = {}): MetricScore => ({
      id,
      kind: 'similarity',
      value,
      applicable: true,
      votes: true,
      ...extra,
    });
    // ipguard alone votes: one combined tau, so one vote suffices (as without mistakes).
    const r = judge([bare('ipguard.mr', 0.9), bare('mistakes.agreement', 0.1, { combined: false })], taus, 'majority');
    expect(r.verdict).toEqual({ derived: true, votes: 1, of: 1, rule: 'majority', insufficientEvidence: false });
    const alone = judge([bare('ipguard.mr', 0.9)], new Map([['ipguard.mr', taus.get('ipguard.mr')!]]), 'majority');
    expect(alone.verdict).toEqual(r.verdict);
  });
});
