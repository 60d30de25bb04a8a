import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelMeta } from '../../../src-shared/domain/model';
import { paramDefaults, resolveParams, type ParamValues } from '../../../src-shared/params';
import type { RunContext } from '../../../src-main/engine/context';
import type { ImageSet } from '../../../src-main/engine/datasets/types';
import { isAuditError } from '../../../src-main/engine/errors';
import { deserializeFingerprints, serializeFingerprints } from '../../../src-main/engine/defenses/fingerprint-file';
import type { Fingerprints } from '../../../src-main/engine/defenses/types';
import {
  cosineDistance,
  distinctProbes,
  greedyAlign,
  gridSegments,
  l2Distance,
  normalizeByReference,
  zestDefense,
  zestDistances,
  type ZestProbes,
} from '../../../src-main/engine/defenses/zest';
import type { LoadedModel } from '../../../src-main/engine/models/io';
import { buildModel } from '../../../src-main/engine/models/zoo';
import { train } from '../../../src-main/engine/training/train';
import { bandImages } from '../../helpers/synthetic';

const SIDE = 8;
const CLASSES = 3;

function meta(name: string, inputShape: [number, number, number] = [SIDE, SIDE, 1], numClasses = CLASSES): ModelMeta {
  return {
    formatVersion: 1,
    arch: 'cnn',
    archConfig: {},
    inputShape,
    numClasses,
    blocks: ['block1', 'block2'],
    defaultAttackBlock: 'block1',
    defaultDeepJudgeBlock: 'block2',
    lineage: name,
    contentHash: createHash('sha256').update(name).digest('hex'),
    createdAt: '2024-01-01T00:00:00.000Z',
  };
}

function tinyCnn(seed: number, name: string): LoadedModel {
  const built = buildModel('cnn', {
    inputShape: [SIDE, SIDE, 1],
    numClasses: CLASSES,
    seed,
    blocks: 2,
    width: 4,
    hidden: 8,
  });
  return { model: built.model, meta: meta(name) };
}

/** logits = x . a per class, no bias: the LIME fit of such a model is exact. */
function linearModel(weights: Float32Array, name: string): LoadedModel {
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [SIDE, SIDE, 1] }),
      tf.layers.dense({ units: CLASSES, useBias: false, kernelInitializer: 'zeros' }),
    ],
  });
  model.layers[1].setWeights([tf.tensor2d(weights, [SIDE * SIDE, CLASSES])]);
  return { model, meta: meta(name) };
}

const ctx = (seed = 3, extra: Partial<RunContext> = {}): RunContext => ({ seed, ...extra });

function params(over: Record<string, unknown>): ParamValues {
  const r = resolveParams(zestDefense.params, over);
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.values;
}

/** Small, fast settings: 4 segments per image (2x2 grid), 24 masks. */
const GRID = { references: 6, masks: 24, segmentation: 'grid', gridSize: 2 };

let trainSet: ImageSet;
let data: ImageSet;
let victim: LoadedModel;
let finetuned: LoadedModel;
let independent: LoadedModel;

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  trainSet = bandImages(128, { side: SIDE, classes: CLASSES, seed: 11 });
  // normalised data, as loaders produce it
  const raw = bandImages(48, { side: SIDE, classes: CLASSES, seed: 12 });
  data = { ...raw, images: raw.images.map((v) => (v - 0.3) / 0.5), normalization: { mean: [0.3], std: [0.5] } };
  victim = tinyCnn(1, 'victim');
  await train(victim.model, trainSet, { iterations: 25, batchSize: 16, learningRate: 0.05, seed: 1 });
  independent = tinyCnn(2, 'independent');
  await train(independent.model, trainSet, { iterations: 25, batchSize: 16, learningRate: 0.05, seed: 2 });
  finetuned = tinyCnn(1, 'finetuned');
  finetuned.model.setWeights(victim.model.getWeights());
  await train(finetuned.model, bandImages(64, { side: SIDE, classes: CLASSES, seed: 13 }), {
    iterations: 3,
    batchSize: 16,
    learningRate: 0.005,
    seed: 3,
  });
});

describe('ZEST pure helpers', () => {
  it('computes L2 and 1 - cosine by hand', () => {
    expect(l2Distance([0, 0], [3, 4])).toBe(5);
    expect(l2Distance([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(cosineDistance([1, 0], [0, 1])).toBeCloseTo(1, 15);
    expect(cosineDistance([1, 1], [2, 2])).toBeCloseTo(0, 15);
    expect(cosineDistance([1, 0], [-1, 0])).toBeCloseTo(2, 15);
    expect(cosineDistance([1, 2], [2, 1])).toBeCloseTo(1 - 4 / 5, 15);
    expect(cosineDistance([0, 0], [0, 0])).toBe(0);
    expect(cosineDistance([0, 0], [1, 0])).toBe(1);
    expect(() => l2Distance([1], [1, 2])).toThrow(RangeError);
  });

  it('aligns classes greedily as ZEST does', () => {
    // rows x classes, row-major. Suspect = victim with classes 0 and 1 swapped.
    const v = [1, 0, 5, 0, 2, 0, 3, 3, 1];
    const s = [0, 1, 5, 2, 0, 0, 3, 3, 1];
    const al = greedyAlign(v, 3, s, 3, 3, 'l2');
    expect(Array.from(al.pairs)).toEqual([1, 0, 2]);
    expect(l2Distance(al.a, al.b)).toBe(0);
    expect(zestDistances(v, 3, s, 3, 3).l2).toBe(0);
    expect(zestDistances(v, 3, s, 3, 3).cosine).toBeCloseTo(0, 12);
    // without alignment the swap shows
    expect(zestDistances(v, 3, s, 3, 3, 'none').l2).toBeCloseTo(Math.sqrt(1 + 1 + 4 + 4), 12);
    // a diagonal-dominant match stays the identity
    const near = v.map((x, i) => x + (i % 3) * 0.01);
    expect(Array.from(greedyAlign(v, 3, near, 3, 3, 'l2').pairs)).toEqual([0, 1, 2]);
    expect(Array.from(greedyAlign(v, 3, near, 3, 3, 'cosine').pairs)).toEqual([0, 1, 2]);
  });

  it('aligns models with different class counts (the smaller keeps its order)', () => {
    // victim 2 classes, suspect 3: suspect class 2 equals victim class 0, suspect class 0 equals victim 1
    const v = [1, 4, 2, 5];
    const s = [4, 9, 1, 5, 9, 2];
    const al = greedyAlign(v, 2, s, 3, 2, 'l2');
    expect(al.victimFirst).toBe(true);
    expect(Array.from(al.pairs)).toEqual([2, 0]);
    expect(zestDistances(v, 2, s, 3, 2).l2).toBe(0);
    // the other way round: the suspect has fewer classes and keeps its order
    const back = greedyAlign(s, 3, v, 2, 2, 'l2');
    expect(back.victimFirst).toBe(false);
    expect(Array.from(back.pairs)).toEqual([2, 0]);
  });

  it('computes hand-checked distances without alignment', () => {
    const d = zestDistances([1, 0, 0, 1], 2, [1, 0, 0, 2], 2, 2, 'none');
    expect(d.l2).toBeCloseTo(1, 15);
    expect(d.cosine).toBeCloseTo(1 - 3 / (Math.SQRT2 * Math.sqrt(5)), 15);
  });

  it('normalises by the reference distance', () => {
    expect(normalizeByReference(2, 4)).toBe(0.5);
    expect(() => normalizeByReference(1, 0)).toThrow(/positive/);
  });

  it('builds grid segments', () => {
    const g = gridSegments(4, 4, 2);
    expect(g.count).toBe(4);
    expect(Array.from(g.labels)).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]);
    expect(gridSegments(2, 2, 4).count).toBe(4);
  });

  it('queries each distinct masked image once', () => {
    const probes: ZestProbes = {
      images: new Float32Array(2 * 4),
      count: 2,
      height: 2,
      width: 2,
      channels: 1,
      segments: Int32Array.from([0, 0, 0, 0, 0, 1, 0, 1]),
      segmentCounts: Int32Array.from([1, 2]),
      offsets: Int32Array.from([0, 1]),
      totalSegments: 3,
      numMasks: 4,
      // rows: image 0 column 0, image 1 columns 1-2
      masks: Float32Array.from([1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0]),
    };
    const { rowToQuery, queries } = distinctProbes(probes);
    // image 0: [1],[0],[1],[0] -> full, zero; image 1: [1,1],[0,1],[1,0],[0,0] -> 3 new + shared zero
    expect(queries.length).toBe(5);
    expect(Array.from(rowToQuery)).toEqual([0, 1, 0, 1, 2, 3, 4, 1]);
  });
});

describe('ZEST defence', () => {
  it('declares itself', () => {
    expect(zestDefense.id).toBe('zest');
    expect(zestDefense.access).toBe('black-box');
    expect(zestDefense.metrics.map((m) => [m.id, m.kind, m.identity])).toEqual([
      ['zest.l2', 'distance', 0],
      ['zest.cosine', 'distance', 0],
    ]);
    expect(paramDefaults(zestDefense.params)).toMatchObject({
      references: 32,
      masks: 200,
      kernelSize: 4,
      ratio: 0.2,
      maxDist: 200,
      segmentation: 'auto',
    });
  });

  it('fits a linear model exactly: masked segments are 0 after normalisation, no intercept', async () => {
    const a = new Float32Array(SIDE * SIDE * CLASSES).map((_, i) => Math.sin(i) * 0.5);
    const lin = linearModel(a, 'linear');
    const fp = await zestDefense.extract(ctx(), lin, data, params(GRID));
    const w = fp.arrays.victimWeights;
    const seg = fp.arrays.segments.data;
    const imgs = fp.arrays.images.data;
    expect(w.shape).toEqual([6 * 4, CLASSES]);
    // W[i, j, c] = sum over pixels p of segment j of image i of a[p, c] * x_i[p]
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 4; j++)
        for (let c = 0; c < CLASSES; c++) {
          let expected = 0;
          for (let p = 0; p < SIDE * SIDE; p++)
            if (seg[i * SIDE * SIDE + p] === j) expected += a[p * CLASSES + c] * imgs[i * SIDE * SIDE + p];
          expect(w.data[(i * 4 + j) * CLASSES + c]).toBeCloseTo(expected, 4);
        }
    lin.model.dispose();
  });

  it('scores a model against itself as identical (both distances 0)', async () => {
    for (const p of [GRID, { references: 4, masks: 16 }]) {
      const fp = await zestDefense.extract(ctx(), victim, data, params(p));
      const s = await zestDefense.score(ctx(), victim, victim, fp);
      expect(s['zest.l2']).toBeLessThan(1e-6);
      expect(s['zest.cosine']).toBeLessThan(1e-6);
    }
  });

  it('puts a lightly fine-tuned copy closer than an independently trained model', async () => {
    const fp = await zestDefense.extract(ctx(), victim, data, params(GRID));
    const ft = await zestDefense.score(ctx(), victim, finetuned, fp);
    const ind = await zestDefense.score(ctx(), victim, independent, fp);
    expect(ft['zest.l2']).toBeGreaterThan(0);
    expect(ft['zest.l2']).toBeLessThan(ind['zest.l2']);
    expect(ft['zest.cosine']).toBeLessThan(ind['zest.cosine']);
  });

  it('is deterministic, and round-trips through the fingerprint file with identical scores', async () => {
    const p = params({ references: 5, masks: 20, kernelSize: 1, maxDist: 6, ratio: 0.5 });
    const a = await zestDefense.extract(ctx(9), victim, data, p);
    const b = await zestDefense.extract(ctx(9), victim, data, p);
    expect(serializeFingerprints(a)).toBe(serializeFingerprints(b));
    const other = await zestDefense.extract(ctx(10), victim, data, p);
    expect(Array.from(other.arrays.masks.data)).not.toEqual(Array.from(a.arrays.masks.data));

    expect(a.info.totalSegments).toBeGreaterThan(5);
    expect(a.queries).toBeGreaterThan(0);
    expect(a.queries).toBeLessThanOrEqual(5 * 20);
    const back: Fingerprints = deserializeFingerprints(serializeFingerprints(a));
    const s1 = await zestDefense.score(ctx(), victim, independent, a);
    const s2 = await zestDefense.score(ctx(), victim, independent, back);
    const s3 = await zestDefense.score(ctx(), victim, independent, a);
    expect(s2).toEqual(s1);
    expect(s3).toEqual(s1);
  });

  it('does not leak tensors across repeated scoring', async () => {
    const fp = await zestDefense.extract(ctx(), victim, data, params(GRID));
    await zestDefense.score(ctx(), victim, independent, fp);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await zestDefense.score(ctx(), victim, independent, fp);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports progress and honours cancellation', async () => {
    const stages: string[] = [];
    await zestDefense.extract(
      ctx(3, { progress: (e) => stages.push(e.stage) }),
      victim,
      data,
      params({ ...GRID, batchSize: 16 }),
    );
    expect(stages.length).toBeGreaterThan(1);
    expect(stages.every((s) => s === 'zest.extract')).toBe(true);
    const ac = new AbortController();
    ac.abort();
    const err = await zestDefense
      .extract(ctx(3, { signal: ac.signal }), victim, data, params(GRID))
      .catch((e: unknown) => e);
    expect(isAuditError(err) && err.code).toBe('CANCELLED');
  });

  it('refuses non-finite outputs, other input shapes and foreign fingerprints', async () => {
    const fp = await zestDefense.extract(ctx(), victim, data, params(GRID));
    const broken = tinyCnn(4, 'broken');
    broken.model.setWeights(
      broken.model.getWeights().map((w, i, all) => (i === all.length - 1 ? tf.fill(w.shape, NaN) : w)),
    );
    const err = await zestDefense.score(ctx(), victim, broken, fp).catch((e: unknown) => e);
    expect(isAuditError(err) && err.code).toBe('MODEL_NOT_FINITE');

    const wide: LoadedModel = { model: victim.model, meta: meta('wide', [16, 16, 1]) };
    expect(zestDefense.applicability(victim, wide, fp).applicable).toBe(false);
    expect(zestDefense.applicability(victim, independent, fp)).toEqual({ applicable: true });
    const foreign = await zestDefense
      .score(ctx(), victim, independent, { ...fp, defense: 'deepjudge' })
      .catch((e: unknown) => e);
    expect(isAuditError(foreign) && foreign.code).toBe('INVALID_ARGUMENT');
    // fingerprints of another victim
    expect(zestDefense.applicability(independent, victim, fp).applicable).toBe(false);
    // unresolved parameters are resolved and checked
    const bad = await zestDefense.extract(ctx(), victim, data, { masks: 1 }).catch((e: unknown) => e);
    expect(isAuditError(bad) && bad.code).toBe('INVALID_ARGUMENT');
    const partial = await zestDefense.extract(ctx(), victim, data, { references: 2, masks: 8 });
    expect(partial.params).toMatchObject({ references: 2, masks: 8, kernelSize: 4, segmentation: 'grid' });
    broken.model.dispose();
  });
});
