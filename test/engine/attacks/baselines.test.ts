/** The baselines' own promises: FT freezes, WP holds its zeros, Negative and KnockoffNets details. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../../src-main/engine/models/io';
import { distill, distillBlocks } from '../../../src-main/engine/attacks/distill';
import { fineTune, freezeAllButLast } from '../../../src-main/engine/attacks/finetune';
import { knockoff } from '../../../src-main/engine/attacks/knockoff';
import { negative } from '../../../src-main/engine/attacks/negative';
import { magnitudeMasks, prunableKernels, prune } from '../../../src-main/engine/attacks/prune';
import type { AttackRequest } from '../../../src-main/engine/attacks/types';
import { heldOutSet, substituteSet, tinyVictim, useCpu, weightBytes } from './fixtures';

const tmp = mkdtempSync(join(tmpdir(), 'oa-baselines-'));
let victim: LoadedModel;
beforeAll(async () => {
  await useCpu();
  victim = await tinyVictim();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const request = (over: Partial<AttackRequest> = {}): AttackRequest => ({
  victim,
  substitute: substituteSet(),
  params: {},
  iterations: 4,
  batchSize: 16,
  ...over,
});
const layerBytes = (m: tf.LayersModel, name: string) =>
  m
    .getLayer(name)
    .getWeights()
    .map((w) => Buffer.from((w.dataSync() as Float32Array).buffer.slice(0)));

describe('FT(r)', () => {
  it('counts parameter tensors as the code does: the last floor(n * r) are trained', () => {
    // 10 parameter tensors: conv, bn gamma/beta, conv, bn gamma/beta, fc kernel/bias, logits kernel/bias.
    const plan = freezeAllButLast(victim.model, 0.5);
    expect(plan.tuned.map((v) => v.name.replace(/_\d+$/, ''))).toEqual([
      'b2c1_bn/beta',
      'fc/kernel',
      'fc/bias',
      'logits/kernel',
      'logits/bias',
    ]);
    expect(plan.frozenLayers).toEqual(['b1c1_conv', 'b1c1_bn', 'b2c1_conv']);
    plan.dispose();
    expect(() => freezeAllButLast(victim.model, 0.05)).toThrow(/trains no parameter tensor/);
  });

  it('leaves the frozen layers bit-identical (BatchNorm statistics included) and trains the rest', async () => {
    const r = await fineTune.run({ seed: 2 }, request({ params: { ratio: 0.5, learningRate: 0.05 } }));
    for (const name of ['b1c1_conv', 'b1c1_bn', 'b2c1_conv'])
      expect(layerBytes(r.model, name)).toEqual(layerBytes(victim.model, name));
    for (const name of ['fc', 'logits']) expect(layerBytes(r.model, name)).not.toEqual(layerBytes(victim.model, name));
    expect(r.lineageStep).toBe('finetune(0.5)');
    r.model.dispose();
  });

  it('trains on true labels when asked, and refuses them for data of another task', async () => {
    const r = await fineTune.run({ seed: 2 }, request({ params: { labels: 'true' } }));
    expect(r.compute.forwardPasses).toBe(4 * 16); // no labelling queries
    r.model.dispose();
    const other = { ...substituteSet(), numClasses: 5 };
    await expect(
      fineTune.run({ seed: 2 }, request({ substitute: other, params: { labels: 'true' } })),
    ).rejects.toMatchObject({ code: 'DATASET_MISMATCH' });
  });
});

describe('WP(p)', () => {
  const zerosIn = (m: tf.LayersModel, scope: 'all' | 'conv') => {
    let zeros = 0;
    let total = 0;
    for (const v of prunableKernels(m, scope)) {
      const d = v.dataSync();
      total += d.length;
      for (const x of d) if (x === 0) zeros++;
    }
    return { zeros, total };
  };

  it('global magnitude masks prune exactly round(p * N) weights, ties broken by position', () => {
    const a = tf.variable(tf.tensor1d([0.5, -0.1, 0.1, 2]));
    const b = tf.variable(tf.tensor1d([0.1, -3, 0.2]));
    const m = magnitudeMasks([a, b], 0.5); // 4 of 7: 0.1 x3 (ties), then 0.2
    m.apply();
    expect(Array.from(a.dataSync()).map((x) => Math.abs(x))).toEqual([0.5, 0, 0, 2]);
    expect(Array.from(b.dataSync()).map((x) => Math.abs(x))).toEqual([0, 3, 0]);
    expect(m.pruned).toBe(4);
    m.dispose();
    tf.dispose([a, b]);
  });

  for (const [scope, ratio] of [
    ['all', 0.5],
    ['conv', 0.8],
  ] as const) {
    it(`holds exactly the asked share of ${scope} kernels at zero through fine-tuning (p = ${ratio})`, async () => {
      const dir = join(tmp, `prune-${scope}`);
      const r = await prune.run(
        { seed: 4 },
        request({
          iterations: 6,
          params: { ratio, scope, learningRate: 0.05 },
          checkpoint: { dir, every: 2, keepTrajectory: true },
        }),
      );
      const { total } = zerosIn(victim.model, scope);
      const expected = Math.round(ratio * total);
      expect(zerosIn(r.model, scope).zeros).toBe(expected);
      expect(r.trajectory).toHaveLength(3);
      for (const d of r.trajectory!) {
        const m = await loadModel(d);
        expect(zerosIn(m.model, scope).zeros).toBe(expected);
        m.model.dispose();
      }
      if (scope === 'conv') expect(zerosIn(r.model, 'all').zeros).toBe(expected); // dense kernels untouched by the mask
      expect(r.lineageStep).toBe(scope === 'conv' ? 'prune(0.8,conv)' : 'prune(0.5)');
      r.model.dispose();
    });
  }
});

describe('Distill', () => {
  it('distils at the two deepest blocks', async () => {
    expect(distillBlocks(['block1', 'block2', 'block3'])).toEqual(['block2', 'block3']);
    expect(distillBlocks(['only'])).toEqual(['only']);
    const r = await distill.run({ seed: 1 }, request({ iterations: 1 }));
    expect(r.lineageStep).toBe('distill(block1,block2)');
    r.model.dispose();
  });
});

describe('Negative', () => {
  it("trains from scratch with its own seed: deterministic, not the victim's weights, its own lineage", async () => {
    const runWith = async (seed: number) => {
      const r = await negative.run({ seed: 1 }, request({ params: { seed } }));
      const w = weightBytes(r.model);
      r.model.dispose();
      return { w, r };
    };
    const a = await runWith(1000003);
    expect((await runWith(1000003)).w).toEqual(a.w);
    expect((await runWith(1000004)).w).not.toEqual(a.w);
    expect(a.r.modelMeta.lineage).toBe('negative(cnn,seed=1000003)');
    expect(a.r.modelMeta.seed).toBe(1000003);
    expect(a.w).not.toEqual(weightBytes(victim.model));
  });

  it('jitters iterations and learning rate per seed when asked', async () => {
    const r = await negative.run({ seed: 1 }, request({ iterations: 20, params: { seed: 7, jitter: 0.5 } }));
    expect(r.compute.iterations).not.toBe(20);
    expect(Math.abs(r.compute.iterations - 20)).toBeLessThanOrEqual(10);
    r.model.dispose();
  });
});

describe('KnockoffNets', () => {
  it('queries the victim once per image of a random budget and records a learning curve', async () => {
    const r = await knockoff.run(
      { seed: 3 },
      request({ iterations: 6, heldOut: heldOutSet(), evalEvery: 3, params: { budget: 20 } }),
    );
    expect(r.lineageStep).toBe('knockoff(random,20)');
    // 20 queries, then 6 batches of 16 (capped at the 20 transfer images: 16).
    expect(r.compute.forwardPasses).toBe(20 + 6 * 16);
    expect(r.curve?.map((p) => p.iteration)).toEqual([0, 3, 6]);
    r.model.dispose();
  });

  it('can steal into another zoo architecture', async () => {
    const r = await knockoff.run({ seed: 3 }, request({ iterations: 1, params: { arch: 'cnn', answers: 'labels' } }));
    expect(r.modelMeta.arch).toBe('cnn');
    expect(r.modelMeta.archConfig).toMatchObject({ blocks: 3, width: 32 });
    expect(r.modelMeta.blocks.length).toBeGreaterThan(0);
    expect(r.model.getLayer(r.modelMeta.defaultAttackBlock)).toBeDefined();
    r.model.dispose();
  });
});
