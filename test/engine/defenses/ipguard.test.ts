import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deserializeFingerprints,
  fingerprintHash,
  serializeFingerprints,
} from '../../../src-main/engine/defenses/fingerprint-file';
import { ipguardLoss, ipGuardDefense as ipg } from '../../../src-main/engine/defenses/ipguard';
import { argmaxRows, argminRows } from '../../../src-main/engine/defenses/math';
import type { Fingerprints } from '../../../src-main/engine/defenses/types';
import { ctx, poisoned, tensorsLeftBy, tiny, useCpu, zoo, type Zoo } from './fixtures';

const PARAMS = { fingerprints: 16, steps: 30, lr: 0.05 };

let z: Zoo;
let fp: Fingerprints;

beforeAll(async () => {
  await useCpu();
  z = await zoo();
  fp = await ipg.extract(ctx(), z.victim, z.test, PARAMS);
});

describe('IPGuard loss', () => {
  it('ReLU(Z_i - Z_j + k) + ReLU(max_{t not i,j} Z_t - Z_i) on hand-made logits', () => {
    const z2 = tf.tensor2d([
      [3, 1, 0, 2], // i=0, j=1: relu(3-1+0.5) + relu(2-3) = 2.5
      [1, 2, 0, 1.5], // i=0, j=1: relu(1-2+0.5) + relu(1.5-1) = 0.5
      [0, 2, 0, -1], // i=0, j=1: 0 + relu(0-0) = 0: crossed with margin, i still runner-up (tie)
    ]);
    const i = tf.tensor1d([0, 0, 0], 'int32');
    const j = tf.tensor1d([1, 1, 1], 'int32');
    const loss = ipguardLoss(z2, i, j, 0.5);
    const v = Array.from(loss.dataSync());
    expect(v[0]).toBeCloseTo(2.5, 6);
    expect(v[1]).toBeCloseTo(0.5, 6);
    expect(v[2]).toBeCloseTo(0, 6);
    // Two classes: no third class, the second term vanishes.
    const two = ipguardLoss(tf.tensor2d([[1, 0]]), tf.tensor1d([0], 'int32'), tf.tensor1d([1], 'int32'), 0.1);
    expect(two.dataSync()[0]).toBeCloseTo(1.1, 6);
    tf.dispose([z2, i, j, loss, two]);
  });
});

describe('IPGuard extraction', () => {
  it("boundary points labelled with the victim's argmax, most of them pushed across to the target class", () => {
    expect(fp.arrays.inputs.shape).toEqual([16, 8, 8, 1]);
    expect(fp.arrays.labels.shape).toEqual([16]);
    const labels = Array.from(fp.arrays.labels.data);
    const logits = tf.tidy(
      () => z.victim.model.predict(tf.tensor4d(fp.arrays.inputs.data, [16, 8, 8, 1])) as tf.Tensor,
    );
    expect(Array.from(argmaxRows(logits.dataSync(), 4))).toEqual(labels);
    logits.dispose();
    const sources = fp.info.sources as number[];
    const targets = fp.info.targets as number[];
    targets.forEach((t, n) => expect(t).not.toBe(sources[n]));
    expect(fp.info.onTarget as number).toBeGreaterThan(8);
    expect(fp.params).toMatchObject({ target: 'random', k: 0.5 });
  });

  it('least-likely targets: the class with the lowest logit on the seed', async () => {
    // A negligible learning rate leaves the points (almost) at their seeds.
    const ll = await ipg.extract(ctx(), z.victim, z.test, {
      fingerprints: 4,
      steps: 1,
      lr: 1e-6,
      target: 'least-likely',
    });
    const logits = tf.tidy(() => z.victim.model.predict(tf.tensor4d(ll.arrays.inputs.data, [4, 8, 8, 1])) as tf.Tensor);
    expect(ll.info.targets).toEqual(Array.from(argminRows(logits.dataSync(), 4)));
    expect(ll.info.sources).toEqual(Array.from(argmaxRows(logits.dataSync(), 4)));
    logits.dispose();
  });

  it('is deterministic for a seed', async () => {
    expect(fingerprintHash(await ipg.extract(ctx(), z.victim, z.test, PARAMS))).toBe(fingerprintHash(fp));
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(ipg.extract(ctx(7, { signal: ac.signal }), z.victim, z.test, PARAMS)).rejects.toMatchObject({
      code: 'CANCELLED',
    });
  });
});

describe('IPGuard scores', () => {
  it('a model against itself: MR = 1', async () => {
    expect(await ipg.score(ctx(), z.victim, z.victim, fp)).toEqual({ 'ipguard.mr': 1 });
  });

  it('a lightly fine-tuned copy matches more fingerprints than an independently trained model', async () => {
    const ft = (await ipg.score(ctx(), z.victim, z.finetuned, fp))['ipguard.mr'];
    const ind = (await ipg.score(ctx(), z.victim, z.independent, fp))['ipguard.mr'];
    expect(ft).toBeGreaterThan(ind);
  });

  it('scores a suspect of another architecture; refuses another class count', async () => {
    expect(ipg.applicability(z.victim, z.otherArch, fp)).toEqual({ applicable: true });
    const mr = (await ipg.score(ctx(), z.victim, z.otherArch, fp))['ipguard.mr'];
    expect(mr).toBeGreaterThanOrEqual(0);
    expect(mr).toBeLessThanOrEqual(1);
    const five = tiny({ seed: 8, classes: 5, name: 'five' });
    expect(ipg.applicability(z.victim, five, fp)).toMatchObject({
      applicable: false,
      reason: expect.stringMatching(/5 classes/),
    });
  });

  it('scores the same after a round trip through the fingerprint file format', async () => {
    const back = deserializeFingerprints(serializeFingerprints(fp));
    expect(await ipg.score(ctx(), z.victim, z.independent, back)).toEqual(
      await ipg.score(ctx(), z.victim, z.independent, fp),
    );
  });

  it('non-finite outputs: MODEL_NOT_FINITE (suspect at scoring, victim at extraction)', async () => {
    const bad = poisoned(z.victim, 'logits');
    await expect(ipg.score(ctx(), z.victim, bad, fp)).rejects.toMatchObject({ code: 'MODEL_NOT_FINITE' });
    await expect(ipg.extract(ctx(), bad, z.test, PARAMS)).rejects.toMatchObject({ code: 'MODEL_NOT_FINITE' });
  });

  it('an empty fingerprint set is refused', async () => {
    const empty: Fingerprints = {
      ...fp,
      arrays: {
        inputs: { shape: [0, 8, 8, 1], data: new Float32Array(0) },
        labels: { shape: [0], data: new Float32Array(0) },
      },
    };
    await expect(ipg.score(ctx(), z.victim, z.finetuned, empty)).rejects.toThrow(/empty/);
  });

  it('leaves no tensors behind', async () => {
    expect(await tensorsLeftBy(() => ipg.score(ctx(), z.victim, z.independent, fp))).toBe(0);
    expect(await tensorsLeftBy(() => ipg.extract(ctx(), z.victim, z.test, { fingerprints: 3, steps: 3 }), 1)).toBe(0);
  });
});
