import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  activationPattern,
  argmaxRows,
  argminRows,
  cosineSimilarity,
  firstNonFinite,
  layerActivationDistance,
  layerOutputDistance,
  matchingRate,
  meanPairwiseDistance,
  pairDecisionDistances,
  pairwiseDistances,
  softmaxRows,
} from '../../../src-main/engine/defenses/math';
import { channelMeans } from '../../../src-main/engine/defenses/query';
import { useCpu } from './fixtures';

beforeAll(useCpu);

const f32 = (rows: number[][]): Float32Array => Float32Array.from(rows.flat());

describe('DeepJudge metrics on hand-made channel vectors', () => {
  it('LOD is the mean per-input L2 distance', () => {
    // input 1: ||(0,0) - (3,4)|| = 5; input 2: identical, 0.
    expect(
      layerOutputDistance(
        f32([
          [0, 0],
          [1, 1],
        ]),
        f32([
          [3, 4],
          [1, 1],
        ]),
        2,
      ),
    ).toBeCloseTo(2.5, 6);
    expect(layerOutputDistance(f32([[1, 2, 3]]), f32([[1, 2, 3]]), 3)).toBe(0);
  });

  it('activation pattern: min-max normalised, strictly above 0.5', () => {
    // (v - 1) / (2 + 1e-6): 0, just under 0.5, just under 1.
    expect(Array.from(activationPattern([1, 2, 3]))).toEqual([0, 0, 1]);
    expect(Array.from(activationPattern([0, 10, 10]))).toEqual([0, 1, 1]);
    // A constant vector normalises to all zeros.
    expect(Array.from(activationPattern([4, 4, 4]))).toEqual([0, 0, 0]);
  });

  it('LAD sums the pattern differences over channels and averages over inputs (Eq. 2 form divides by C)', () => {
    const a = f32([
      [1, 2, 3],
      [0, 10, 10],
    ]);
    const b = f32([
      [3, 2, 1],
      [0, 10, 10],
    ]);
    // input 1: [0,0,1] vs [1,0,0] -> 2; input 2: equal -> 0.
    expect(layerActivationDistance(a, b, 3)).toBe(1);
    expect(layerActivationDistance(a, b, 3, true)).toBeCloseTo(2 / 6, 10);
    expect(layerActivationDistance(a, a, 3)).toBe(0);
  });

  it('channel means average over space, per channel (not per width position)', () => {
    // [1, 2, 2, 2] NHWC: channel 0 holds 1,2,3,4; channel 1 holds 10,20,30,40.
    const t = tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    const m = channelMeans(t);
    expect(Array.from(m.dataSync())).toEqual([2.5, 25]);
    tf.dispose([t, m]);
  });

  it('refuses mismatched or empty inputs', () => {
    expect(() => layerOutputDistance(f32([[1, 2]]), f32([[1, 2, 3]]), 2)).toThrow(RangeError);
    expect(() => layerOutputDistance(new Float32Array(0), new Float32Array(0), 2)).toThrow(/empty/);
  });
});

describe('ModelDiff DDV on hand-made outputs', () => {
  it("DDV_k = 1 - cos(F(x_k), F(x_k'))", () => {
    const ddv = pairDecisionDistances(
      f32([
        [1, 0],
        [1, 0],
      ]),
      f32([
        [1, 0],
        [0, 1],
      ]),
      2,
    );
    expect(Array.from(ddv)).toEqual([0, 1]);
  });

  it('similarity is the cosine of the two DDVs', () => {
    const v = pairDecisionDistances(
      f32([
        [1, 0],
        [1, 0],
      ]),
      f32([
        [1, 0],
        [0, 1],
      ]),
      2,
    ); // [0, 1]
    const s = pairDecisionDistances(
      f32([
        [1, 0],
        [0.6, 0.8],
      ]),
      f32([
        [0, 1],
        [0.6, 0.8],
      ]),
      2,
    ); // [1, 0]
    expect(cosineSimilarity(v, s)).toBe(0);
    expect(cosineSimilarity(v, Float32Array.from([0, 2]))).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 1], [1, 0])).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('cosine conventions for zero vectors', () => {
    expect(cosineSimilarity([0, 0], [0, 0])).toBe(1);
    expect(cosineSimilarity([0, 0], [1, 0])).toBe(0);
  });

  it('Eq. 3: pairwise L2 distances in (0,1), (0,2), (1,2) order', () => {
    const d = pairwiseDistances(
      f32([
        [0, 0],
        [3, 4],
        [0, 1],
      ]),
      2,
    );
    expect(d[0]).toBeCloseTo(5, 6);
    expect(d[1]).toBeCloseTo(1, 6);
    expect(d[2]).toBeCloseTo(Math.sqrt(18), 5);
    expect(
      meanPairwiseDistance(
        f32([
          [0, 0],
          [3, 4],
        ]),
        2,
      ),
    ).toBeCloseTo(5, 6);
    expect(meanPairwiseDistance(f32([[0, 0]]), 2)).toBe(0);
  });
});

describe('IPGuard MR and helpers', () => {
  it('MR is the share of matching labels', () => {
    expect(matchingRate([0, 1, 2, 3], Int32Array.from([0, 1, 0, 3]))).toBe(0.75);
    expect(matchingRate(Float32Array.from([2, 2]), [2, 2])).toBe(1);
    expect(() => matchingRate([], [])).toThrow(/empty/);
  });

  it('softmax, argmax (first on ties), argmin, non-finite search', () => {
    const p = softmaxRows([0, Math.log(3), 1000, 1000], 2);
    expect(p[0]).toBeCloseTo(0.25, 6);
    expect(p[1]).toBeCloseTo(0.75, 6);
    expect(p[2]).toBeCloseTo(0.5, 6);
    expect(Array.from(argmaxRows([1, 3, 3, 5, 5, 0], 3))).toEqual([1, 0]);
    expect(Array.from(argminRows([1, 3, 0, 5, 5, 0], 3))).toEqual([2, 2]);
    expect(firstNonFinite([1, 2, NaN, Infinity])).toBe(2);
    expect(firstNonFinite([1, 2])).toBe(-1);
  });
});
