import { beforeAll, describe, expect, it } from 'vitest';
import {
  deserializeFingerprints,
  fingerprintHash,
  serializeFingerprints,
} from '../../../src-main/engine/defenses/fingerprint-file';
import { decisionDistanceVector, modelDiffDefense as md } from '../../../src-main/engine/defenses/modeldiff';
import { pgdPartners } from '../../../src-main/engine/defenses/modeldiff-pairs';
import { inputBounds, pixelUnit } from '../../../src-main/engine/defenses/probe-data';
import type { Fingerprints } from '../../../src-main/engine/defenses/types';
import type { ImageSet } from '../../../src-main/engine/datasets/types';
import { ctx, poisoned, tensorsLeftBy, tiny, useCpu, zoo, type Zoo } from './fixtures';

const PARAMS = { seeds: 24, pgdSteps: 4 };

let z: Zoo;
let fp: Fingerprints;

beforeAll(async () => {
  await useCpu();
  z = await zoo();
  fp = await md.extract(ctx(), z.victim, z.test, PARAMS);
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('ModelDiff extraction', () => {
  it('K seeds followed by their PGD partners, with the victim probabilities', () => {
    expect(fp.arrays.inputs.shape).toEqual([48, 8, 8, 1]);
    expect(fp.arrays.victimOutputs.shape).toEqual([48, 4]);
    const per = 24 * 64;
    const seeds = fp.arrays.inputs.data.subarray(0, per);
    const partners = fp.arrays.inputs.data.subarray(per);
    // Within eps = 0.03 (plain-pixel data: one pixel unit = 1) of the seed, and moved.
    expect(maxAbsDiff(seeds, partners)).toBeLessThanOrEqual(0.03 + 1e-6);
    expect(maxAbsDiff(seeds, partners)).toBeGreaterThan(0.02);
    expect(fp.queries).toBe(z.test.count + 24 * 4 + 48);
  });

  it('PGD converts eps from pixel units through the data normalisation and stays in the valid range', async () => {
    const std = 0.25;
    const norm: ImageSet = { ...z.test, normalization: { mean: [0.5], std: [std] } };
    expect(Array.from(pixelUnit(norm))).toEqual([4]);
    const bounds = inputBounds(norm);
    expect(Array.from(bounds.lower)).toEqual([-2]);
    expect(Array.from(bounds.upper)).toEqual([2]);
    const seeds = { shape: [4, 8, 8, 1], data: z.test.images.slice(0, 4 * 64) };
    const r = await pgdPartners(z.victim.model, seeds, z.test.labels.slice(0, 4), 4, {
      eps: pixelUnit(norm).map((u) => u * 0.03),
      steps: 3,
      bounds,
      ctx: ctx(),
      stage: 't',
    });
    const d = maxAbsDiff(seeds.data, r.inputs.data);
    expect(d).toBeLessThanOrEqual(0.03 / std + 1e-6);
    expect(d).toBeGreaterThan(0.03);
  });

  it('is deterministic for a seed', async () => {
    expect(fingerprintHash(await md.extract(ctx(), z.victim, z.test, PARAMS))).toBe(fingerprintHash(fp));
  });

  it('mutation search: single-coordinate changes of eps, accepted when they raise divergence x diversity', async () => {
    const m = await md.extract(ctx(), z.victim, z.test, { seeds: 8, pairs: 'mutation', mutationIterations: 60 });
    expect(m.arrays.inputs.shape).toEqual([16, 8, 8, 1]);
    expect(m.info.accepted as number).toBeGreaterThan(0);
    const per = 8 * 64;
    const seeds = m.arrays.inputs.data.subarray(0, per);
    const partners = m.arrays.inputs.data.subarray(per);
    let changed = 0;
    for (let i = 0; i < per; i++) if (seeds[i] !== partners[i]) changed++;
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThanOrEqual(60);
    expect(m.queries).toBe(z.test.count + 8 + 2 * 60 + 16);
    expect(await md.score(ctx(), z.victim, z.victim, m)).toEqual({ 'modeldiff.ddv': 1 });
  });
});

describe('ModelDiff scores', () => {
  it('a model against itself: similarity 1', async () => {
    expect((await md.score(ctx(), z.victim, z.victim, fp))['modeldiff.ddv']).toBeCloseTo(1, 12);
  });

  it('a lightly fine-tuned copy is more similar than an independently trained model', async () => {
    const ft = (await md.score(ctx(), z.victim, z.finetuned, fp))['modeldiff.ddv'];
    const ind = (await md.score(ctx(), z.victim, z.independent, fp))['modeldiff.ddv'];
    expect(ft).toBeGreaterThan(ind);
    expect(ft).toBeGreaterThan(0.9);
  });

  it('the Eq. 3 variant: pairwise distances over all 2K outputs', async () => {
    const eq3 = { ...fp, params: { ...fp.params, variant: 'eq3' } };
    expect(decisionDistanceVector(fp.arrays.victimOutputs.data, 4, 'eq3')).toHaveLength((48 * 47) / 2);
    expect(decisionDistanceVector(fp.arrays.victimOutputs.data, 4, 'ddv')).toHaveLength(24);
    expect((await md.score(ctx(), z.victim, z.victim, eq3))['modeldiff.ddv']).toBeCloseTo(1, 12);
    const ft = (await md.score(ctx(), z.victim, z.finetuned, eq3))['modeldiff.ddv'];
    const ind = (await md.score(ctx(), z.victim, z.independent, eq3))['modeldiff.ddv'];
    expect(ft).toBeGreaterThan(ind);
  });

  it('scores a suspect of another architecture (black-box), and one with another class count', async () => {
    expect(md.applicability(z.victim, z.otherArch, fp)).toEqual({ applicable: true });
    const s = (await md.score(ctx(), z.victim, z.otherArch, fp))['modeldiff.ddv'];
    expect(Number.isFinite(s)).toBe(true);
    const five = tiny({ seed: 8, classes: 5, name: 'five' });
    expect(Number.isFinite((await md.score(ctx(), z.victim, five, fp))['modeldiff.ddv'])).toBe(true);
  });

  it("refuses a suspect with other inputs and another victim's fingerprints", async () => {
    const big = { ...z.finetuned, meta: { ...z.finetuned.meta, inputShape: [16, 16, 1] as [number, number, number] } };
    expect(md.applicability(z.victim, big, fp)).toMatchObject({
      applicable: false,
      reason: expect.stringMatching(/16x16x1/),
    });
    await expect(md.score(ctx(), z.independent, z.finetuned, fp)).rejects.toThrow(/another victim/);
  });

  it('scores the same after a round trip through the fingerprint file format', async () => {
    const back = deserializeFingerprints(serializeFingerprints(fp));
    expect(await md.score(ctx(), z.victim, z.independent, back)).toEqual(
      await md.score(ctx(), z.victim, z.independent, fp),
    );
  });

  it('non-finite suspect outputs: MODEL_NOT_FINITE', async () => {
    await expect(md.score(ctx(), z.victim, poisoned(z.victim, 'logits'), fp)).rejects.toMatchObject({
      code: 'MODEL_NOT_FINITE',
    });
  });

  it('empty fingerprints and hopeless data are refused', async () => {
    const empty: Fingerprints = {
      ...fp,
      arrays: { ...fp.arrays, inputs: { shape: [0, 8, 8, 1], data: new Float32Array(0) } },
    };
    await expect(md.score(ctx(), z.victim, z.finetuned, empty)).rejects.toThrow(/empty/);
    const wrong = { ...z.test, labels: z.test.labels.map((l) => (l + 1) % 4) };
    await expect(md.extract(ctx(), z.victim, wrong, PARAMS)).rejects.toThrow(/at least 2/);
  });

  it('leaves no tensors behind', async () => {
    expect(await tensorsLeftBy(() => md.score(ctx(), z.victim, z.independent, fp))).toBe(0);
    expect(await tensorsLeftBy(() => md.extract(ctx(), z.victim, z.test, { seeds: 4, pgdSteps: 2 }), 1)).toBe(0);
  });
});
