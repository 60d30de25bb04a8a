import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { deepJudgeBlock, deepJudgeDefense as dj } from '../../../src-main/engine/defenses/deepjudge';
import {
  deserializeFingerprints,
  fingerprintHash,
  serializeFingerprints,
} from '../../../src-main/engine/defenses/fingerprint-file';
import type { Fingerprints } from '../../../src-main/engine/defenses/types';
import { argmaxRows, softmaxRows } from '../../../src-main/engine/defenses/math';
import { ctx, poisoned, tensorsLeftBy, tiny, useCpu, zoo, type Zoo } from './fixtures';

// Small enough for the pure-JS backend; the defaults are larger.
const PARAMS = { seeds: 12, fuzzSteps: 12 };

let z: Zoo;
let fp: Fingerprints;

beforeAll(async () => {
  await useCpu();
  z = await zoo();
  fp = await dj.extract(ctx(), z.victim, z.test, PARAMS);
});

describe('DeepJudge extraction', () => {
  it('holds the seeds (correct, most confident first) and one fuzzed test per seed, with the victim activations per channel', () => {
    expect(fp.defense).toBe('deepjudge');
    expect(fp.victimHash).toBe(z.victim.meta.contentHash);
    expect(fp.info.block).toBe('block2'); // the 2-block CNN's default DeepJudge block
    expect(fp.info.seeds).toBe(12);
    expect(fp.info.tests).toBe(12);
    const channels = fp.info.channels as number;
    expect(channels).toBe(8); // block2 of width 4: 8 channels
    expect(fp.arrays.inputs.shape).toEqual([24, 8, 8, 1]);
    expect(fp.arrays.activations.shape).toEqual([24, channels]);
    const neurons = fp.info.neurons as number[];
    expect(neurons).toHaveLength(12);
    expect(new Set(neurons).size).toBe(8); // 12 seeds cover all 8 channels
    // Seeds are correctly classified and sorted by confidence.
    const logits = tf.tidy(
      () => z.victim.model.predict(tf.tensor4d(fp.arrays.inputs.data.slice(0, 12 * 64), [12, 8, 8, 1])) as tf.Tensor,
    );
    const probs = softmaxRows(logits.dataSync(), 4);
    logits.dispose();
    const conf = Array.from(argmaxRows(probs, 4), (c, i) => probs[i * 4 + c]);
    for (let i = 1; i < conf.length; i++) expect(conf[i]).toBeLessThanOrEqual(conf[i - 1] + 1e-6);
    expect(fp.params).toMatchObject({ seeds: 12, fuzzSteps: 12, m: 3, block: 0, ladNormalized: false });
    expect(fp.queries).toBeGreaterThan(z.test.count + 12 * 12);
  });

  it('fuzzing raises the targeted channel above its seed value', () => {
    const c = fp.info.channels as number;
    const acts = fp.arrays.activations.data;
    const neurons = fp.info.neurons as number[];
    let raised = 0;
    neurons.forEach((n, s) => {
      if (acts[(12 + s) * c + n] > acts[s * c + n]) raised++;
    });
    expect(raised).toBe(12);
  });

  it('is deterministic for a seed', async () => {
    const again = await dj.extract(ctx(), z.victim, z.test, PARAMS);
    expect(fingerprintHash(again)).toBe(fingerprintHash(fp));
  });

  it('seeds only with fuzzSteps = 0; block by index; UNKNOWN_BLOCK out of range', async () => {
    const seedsOnly = await dj.extract(ctx(), z.victim, z.test, { seeds: 5, fuzzSteps: 0, block: 1 });
    expect(seedsOnly.arrays.inputs.shape[0]).toBe(5);
    expect(seedsOnly.info.block).toBe('block1');
    expect(seedsOnly.arrays.activations.shape).toEqual([5, 4]);
    expect(deepJudgeBlock(z.victim.meta, 2)).toBe('block2');
    await expect(dj.extract(ctx(), z.victim, z.test, { block: 9 })).rejects.toMatchObject({ code: 'UNKNOWN_BLOCK' });
    await expect(dj.extract(ctx(), z.victim, z.test, { seeds: 'many' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('refuses data the victim gets all wrong, and empty data', async () => {
    const wrong = { ...z.test, labels: z.test.labels.map((l) => (l + 1) % 4) };
    await expect(dj.extract(ctx(), z.victim, wrong, PARAMS)).rejects.toThrow(/classifies none/);
    await expect(
      dj.extract(
        ctx(),
        z.victim,
        { ...z.test, count: 0, images: new Float32Array(0), labels: new Int32Array(0) },
        PARAMS,
      ),
    ).rejects.toThrow(/empty/);
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(dj.extract(ctx(7, { signal: ac.signal }), z.victim, z.test, PARAMS)).rejects.toMatchObject({
      code: 'CANCELLED',
    });
  });
});

describe('DeepJudge scores', () => {
  it('a model against itself: LOD = LAD = 0', async () => {
    expect(await dj.score(ctx(), z.victim, z.victim, fp)).toEqual({ 'deepjudge.lod': 0, 'deepjudge.lad': 0 });
  });

  it('an independently trained model is farther than a lightly fine-tuned copy', async () => {
    const ft = await dj.score(ctx(), z.victim, z.finetuned, fp);
    const ind = await dj.score(ctx(), z.victim, z.independent, fp);
    expect(ft['deepjudge.lod']).toBeLessThan(ind['deepjudge.lod']);
    expect(ft['deepjudge.lad']).toBeLessThan(ind['deepjudge.lad']);
    expect(ind['deepjudge.lad']).toBeLessThanOrEqual(8);
  });

  it('LAD normalised by the channel count (Eq. 2) on request', async () => {
    const norm = { ...fp, params: { ...fp.params, ladNormalized: true } };
    const a = await dj.score(ctx(), z.victim, z.independent, fp);
    const b = await dj.score(ctx(), z.victim, z.independent, norm);
    expect(b['deepjudge.lad']).toBeCloseTo(a['deepjudge.lad'] / 8, 10);
    expect(b['deepjudge.lod']).toBe(a['deepjudge.lod']);
  });

  it("does not apply to another architecture, another latent shape, or another victim's fingerprints", async () => {
    const other = dj.applicability(z.victim, z.otherArch, fp);
    expect(other.applicable).toBe(false);
    expect(other.reason).toMatch(/architecture/);
    await expect(dj.score(ctx(), z.victim, z.otherArch, fp)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const wide = tiny({ seed: 5, width: 8, name: 'wide' });
    expect(dj.applicability(z.victim, wide, fp)).toMatchObject({
      applicable: false,
      reason: expect.stringMatching(/shape/),
    });
    expect(dj.applicability(z.independent, z.victim, fp)).toMatchObject({
      applicable: false,
      reason: expect.stringMatching(/another victim/),
    });
    expect(dj.applicability(z.victim, z.finetuned, fp)).toEqual({ applicable: true });
  });

  it('a suspect without the block: UNKNOWN_BLOCK', async () => {
    const shallow = tiny({ seed: 6, blocks: 1, name: 'shallow' });
    expect(dj.applicability(z.victim, shallow, fp).applicable).toBe(false);
    await expect(dj.score(ctx(), z.victim, shallow, fp)).rejects.toMatchObject({ code: 'UNKNOWN_BLOCK' });
  });

  it('scores the same after a round trip through the fingerprint file format', async () => {
    const back = deserializeFingerprints(serializeFingerprints(fp));
    expect(await dj.score(ctx(), z.victim, z.independent, back)).toEqual(
      await dj.score(ctx(), z.victim, z.independent, fp),
    );
  });

  it('non-finite suspect activations: MODEL_NOT_FINITE', async () => {
    await expect(dj.score(ctx(), z.victim, poisoned(z.victim, 'b1c1_conv'), fp)).rejects.toMatchObject({
      code: 'MODEL_NOT_FINITE',
    });
  });

  it('an empty fingerprint set is refused', async () => {
    const empty: Fingerprints = {
      ...fp,
      arrays: {
        inputs: { shape: [0, 8, 8, 1], data: new Float32Array(0) },
        activations: { shape: [0, 8], data: new Float32Array(0) },
      },
    };
    await expect(dj.score(ctx(), z.victim, z.finetuned, empty)).rejects.toThrow(/empty/);
  });

  it('leaves no tensors behind', async () => {
    expect(await tensorsLeftBy(() => dj.score(ctx(), z.victim, z.independent, fp))).toBe(0);
    expect(await tensorsLeftBy(() => dj.extract(ctx(), z.victim, z.test, { seeds: 4, fuzzSteps: 3 }), 1)).toBe(0);
  });
});
