/** RemovalNet's pieces (Algorithms 1-2, the loss) and the attack's determinism and resume. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../../src-main/engine/models/io';
import { loadModel } from '../../../src-main/engine/models/io';
import { splitAtBlock } from '../../../src-main/engine/models/split';
import { buildModel } from '../../../src-main/engine/models/zoo';
import { createRng } from '../../../src-main/engine/rng';
import { batchTensors } from '../../../src-main/engine/training/batch';
import {
  ILBS_GRID_CODE,
  ILBS_GRID_PAPER,
  ilbs,
  removalNet,
  removalNetLoss,
  reverseLatent,
  shuffleChannels,
} from '../../../src-main/engine/attacks/removalnet';
import { inferenceTail } from '../../../src-main/engine/attacks/tail';
import type { AttackRequest } from '../../../src-main/engine/attacks/types';
import { heldOutSet, substituteSet, tinyVictim, useCpu, weightBytes } from './fixtures';

const tmp = mkdtempSync(join(tmpdir(), 'oa-removalnet-'));
let victim: LoadedModel;
beforeAll(async () => {
  await useCpu();
  victim = await tinyVictim();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('shuffleChannels', () => {
  it('moves exactly round(ratio * C) channels of each sample among themselves', () => {
    const [b, h, w, c] = [4, 3, 2, 10];
    const z = tf.randomNormal([b, h, w, c], 0, 1, 'float32', 5);
    const out = shuffleChannels(z, 0.5, createRng(3));
    const zin = z.arraySync() as number[][][][];
    const zout = out.arraySync() as number[][][][];
    const channel = (t: number[][][][], s: number, ch: number) => t[s].flatMap((row) => row.map((px) => px[ch]));
    for (let s = 0; s < b; s++) {
      const orig = Array.from({ length: c }, (_, ch) => JSON.stringify(channel(zin, s, ch)));
      const moved = Array.from({ length: c }, (_, ch) => JSON.stringify(channel(zout, s, ch)));
      // Exactly 5 channels changed; each now holds another channel of the same sample.
      expect(moved.filter((m, ch) => m !== orig[ch]).length).toBe(5);
      expect([...moved].sort()).toEqual([...orig].sort());
      // The sample's values as a multiset are unchanged.
      const sortNum = (a: number[]) => [...a].sort((x, y) => x - y);
      expect(sortNum(zout[s].flat(2))).toEqual(sortNum(zin[s].flat(2)));
    }
    // Fewer than two chosen channels: nothing moves.
    const same = shuffleChannels(z, 0.1, createRng(3));
    expect(Array.from(same.dataSync())).toEqual(Array.from(z.dataSync()));
    tf.dispose([z, out, same]);
  });

  it('is a pure function of the generator', () => {
    const z = tf.randomNormal([3, 2, 2, 8], 0, 1, 'float32', 6);
    const a = shuffleChannels(z, 0.5, createRng(9));
    const b = shuffleChannels(z, 0.5, createRng(9));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([z, a, b]);
  });
});

describe('reverseLatent (Algorithm 1)', () => {
  const latentOf = () => {
    const { x, y } = batchTensors(
      substituteSet(),
      Array.from({ length: 24 }, (_, i) => i),
    );
    const z = splitAtBlock(buildTwin(), 'block2').head.predict(x) as tf.Tensor;
    const labels = (victim.model.predict(x) as tf.Tensor).argMax(-1) as tf.Tensor1D;
    tf.dispose([x, y]);
    return { z, labels };
  };
  // A twin of the victim (same weights) so splitting never adds nodes to the victim's layers.
  const buildTwin = () => {
    const m = buildModel('cnn', {
      inputShape: [8, 8, 1],
      numClasses: 3,
      seed: 1,
      blocks: 2,
      width: 4,
      hidden: 8,
    }).model;
    m.setWeights(victim.model.getWeights());
    return m;
  };

  it("keeps the victim's label while the distance from z grows at every step", () => {
    const { z, labels } = latentOf();
    const tail = inferenceTail(victim.model, 'block2');
    const dist: number[] = [];
    const zp = reverseLatent(tail, z, labels, 3, {
      steps: 10,
      shuffleRatio: 0,
      stepSize: 0.01,
      lambda: 0.1,
      noise: 1e-3,
      rng: createRng(1),
      onStep: (_s, l) => dist.push(tf.tidy(() => l.sub(z).reshape([24, -1]).norm('euclidean', 1).mean().dataSync()[0])),
    });
    expect(dist).toHaveLength(10);
    for (let i = 1; i < dist.length; i++) expect(dist[i]).toBeGreaterThan(dist[i - 1]);
    const kept = tf.tidy(() => tail(zp).argMax(-1).equal(labels).mean().dataSync()[0]);
    expect(kept).toBe(1);
    tf.dispose([z, labels, zp]);
  });

  it('with channel shuffling ends farther from z than after the first step', () => {
    const { z, labels } = latentOf();
    const tail = inferenceTail(victim.model, 'block2');
    const dist: number[] = [];
    const zp = reverseLatent(tail, z, labels, 3, {
      steps: 10,
      shuffleRatio: 0.25,
      stepSize: 0.01,
      lambda: 0.1,
      noise: 1e-3,
      rng: createRng(1),
      onStep: (_s, l) => dist.push(tf.tidy(() => l.sub(z).reshape([24, -1]).norm('euclidean', 1).mean().dataSync()[0])),
    });
    expect(dist[9]).toBeGreaterThan(dist[0]);
    tf.dispose([z, labels, zp]);
  });

  it("starts at z + tan(U(0,1)) with the authors' code init: a positive offset of mean -ln(cos 1) = 0.616", () => {
    const { z, labels } = latentOf();
    const tail = inferenceTail(victim.model, 'block2');
    const zp = reverseLatent(tail, z, labels, 3, {
      steps: 0,
      shuffleRatio: 0,
      stepSize: 0.01,
      lambda: 0.1,
      noise: 1e-3,
      init: 'code',
      rng: createRng(3),
    });
    const [mean, min, max] = tf.tidy(() => {
      const d = zp.sub(z);
      return [d.mean().dataSync()[0], d.min().dataSync()[0], d.max().dataSync()[0]];
    });
    // Per element tan(u), u ~ U(0,1): in [0, tan 1 = 1.557], mean -ln(cos 1) (a few hundred elements: 1 decimal).
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(Math.tan(1) + 1e-5);
    expect(mean).toBeCloseTo(-Math.log(Math.cos(1)), 1);
    tf.dispose([z, labels, zp]);
  });

  it('runs the tail as the model does: inferenceTail equals the split tail in values and input gradients', () => {
    for (const arch of ['cnn', 'resnet'] as const) {
      const built = buildModel(arch, {
        inputShape: [8, 8, 3],
        numClasses: 4,
        seed: 2,
        blocks: 2,
        width: 4,
        depth: 1,
        hidden: 8,
      });
      const fast = inferenceTail(built.model, 'block1');
      const { head, tail } = splitAtBlock(built.model, 'block1');
      const z = head.predict(tf.randomNormal([3, 8, 8, 3], 0, 1, 'float32', 4)) as tf.Tensor;
      const a = tail.predict(z) as tf.Tensor;
      const b = fast(z);
      expect(tf.tidy(() => a.sub(b).abs().max().dataSync()[0])).toBeLessThan(1e-5);
      const ga = tf.grad((v: tf.Tensor) => (tail.apply(v) as tf.Tensor).square().sum() as tf.Scalar)(z);
      const gb = tf.grad((v: tf.Tensor) => fast(v).square().sum() as tf.Scalar)(z);
      expect(tf.tidy(() => ga.sub(gb).abs().max().dataSync()[0])).toBeLessThan(1e-4);
      tf.dispose([z, a, b, ga, gb]);
      built.model.dispose();
    }
  });
});

describe('ilbs (Algorithm 2)', () => {
  const probs = () =>
    tf.tensor2d([
      [0.9, 0.05, 0.05],
      [0.3, 0.1, 0.6],
      [0.8, 0.15, 0.05],
    ]);

  it('mixes each sample with its farthest partner at the smallest lambda that keeps the label', () => {
    const p = probs();
    const r = ilbs(p, [0, 2, 0], ILBS_GRID_CODE);
    expect(Array.from(r.partners)).toEqual([1, 0, 1]);
    // Row 0: 0.3 already keeps class 0: 0.3*p0 + 0.7*p1.
    expect(r.lambdas[0]).toBeCloseTo(0.3, 6);
    const t = r.targets.arraySync();
    [0.48, 0.085, 0.435].forEach((v, c) => expect(t[0][c]).toBeCloseTo(v, 6));
    // Row 1: class 2 survives the mix with p0 only from 0.8 on.
    expect(r.lambdas[1]).toBeCloseTo(0.8, 6);
    [0.42, 0.09, 0.49].forEach((v, c) => expect(t[1][c]).toBeCloseTo(v, 6));
    // Row 2 (partner p1): 0.3*p2 + 0.7*p1 = [0.45, 0.115, 0.435] keeps class 0.
    expect(r.lambdas[2]).toBeCloseTo(0.3, 6);
    tf.dispose([p, r.targets]);
  });

  it('keeps p_i when no lambda of the grid keeps the label; the paper grid reaches the same through lambda = 1', () => {
    // 0.9*a + 0.1*b already has argmax 1: no lambda < 1 keeps a's label 0.
    const p = tf.tensor2d([
      [0.34, 0.33, 0.33],
      [0, 1, 0],
    ]);
    const a = p.arraySync()[0];
    for (const grid of [ILBS_GRID_CODE, ILBS_GRID_PAPER]) {
      const r = ilbs(p, [0, 1], grid);
      expect(r.lambdas[0]).toBe(1);
      r.targets.arraySync()[0].forEach((v, c) => expect(v).toBeCloseTo(a[c], 6));
      // b keeps class 1 at every lambda, so the smallest of the grid wins (0.3 code, 0.1 paper).
      expect(r.lambdas[1]).toBeCloseTo(grid[0], 6);
      r.targets.dispose();
    }
    p.dispose();
  });
});

describe('removalNetLoss', () => {
  const logSoftmax = (v: number[]) => {
    const m = Math.max(...v);
    const lse = m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
    return v.map((x) => x - lse);
  };
  const f = [
    [2, 0],
    [0, 1],
  ];
  const z2 = [
    [0.75, 0.25],
    [0.4, 0.6],
  ];
  const y = [0, 1];
  const zs = [
    [1, 2],
    [0, 1],
  ];
  const inputs = () => ({
    f: tf.tensor2d(f),
    z2: tf.tensor2d(z2),
    zs: tf.tensor4d(zs.flat(), [2, 1, 1, 2]),
    zp: tf.zeros([2, 1, 1, 2]),
    oh: tf.oneHot(tf.tensor1d(y, 'int32'), 2) as tf.Tensor2D,
  });
  const ce = f.map((row, i) => -logSoftmax(row)[y[i]]).reduce((a, b) => a + b) / 2;

  it('code form: alpha*T^2*KL (batchmean, z2 softened again) + beta*MSE (mean) + gamma*CE (mean)', () => {
    const t = 2;
    const kl =
      f
        .map((row, i) => {
          const lq = logSoftmax(z2[i].map((v) => v / t));
          const lp = logSoftmax(row.map((v) => v / t));
          return lq.reduce((s, l, c) => s + Math.exp(l) * (l - lp[c]), 0);
        })
        .reduce((a, b) => a + b) / 2;
    const mse = (1 + 4 + 0 + 1) / 4;
    const x = inputs();
    const terms = removalNetLoss(x.f, x.zs, x.zp, x.z2, x.oh, {
      form: 'code',
      alpha: 0.2,
      beta: 2,
      gamma: 0.6,
      temperature: t,
    });
    expect(terms.kl.dataSync()[0]).toBeCloseTo(0.2 * t * t * kl, 5);
    expect(terms.feat.dataSync()[0]).toBeCloseTo(2 * mse, 5);
    expect(terms.ce.dataSync()[0]).toBeCloseTo(0.6 * ce, 5);
    expect(terms.total.dataSync()[0]).toBeCloseTo(0.2 * t * t * kl + 2 * mse + 0.6 * ce, 5);
    tf.dispose([...Object.values(x), ...Object.values(terms)]);
  });

  it("paper form: alpha*CE + (1-alpha)*KL(z2 || softmax f) (batchmean) + beta*||zs - z'||_2 (per sample, mean; or rms)", () => {
    const kl =
      f
        .map((row, i) => {
          const lp = logSoftmax(row);
          return z2[i].reduce((s, q, c) => s + q * (Math.log(q) - lp[c]), 0);
        })
        .reduce((a, b) => a + b) / 2;
    const feat = (Math.sqrt(5) + 1) / 2;
    const x = inputs();
    const terms = removalNetLoss(x.f, x.zs, x.zp, x.z2, x.oh, {
      form: 'paper',
      alpha: 0.2,
      beta: 2,
      gamma: 0.6,
      temperature: 20,
    });
    expect(terms.ce.dataSync()[0]).toBeCloseTo(0.2 * ce, 5);
    expect(terms.kl.dataSync()[0]).toBeCloseTo(0.8 * kl, 5);
    expect(terms.feat.dataSync()[0]).toBeCloseTo(2 * feat, 5);
    // 'rms': the same distance over sqrt(latent size) (2 values per sample here).
    const rms = removalNetLoss(x.f, x.zs, x.zp, x.z2, x.oh, {
      form: 'paper',
      featureNorm: 'rms',
      alpha: 0.2,
      beta: 2,
      gamma: 0.6,
      temperature: 20,
    });
    expect(rms.feat.dataSync()[0]).toBeCloseTo((2 * feat) / Math.sqrt(2), 5);
    tf.dispose([...Object.values(x), ...Object.values(terms), ...Object.values(rms)]);
  });
});

describe('RemovalNet attack', () => {
  const request = (over: Partial<AttackRequest> = {}): AttackRequest => ({
    victim,
    substitute: substituteSet(),
    params: {},
    iterations: 5,
    batchSize: 16,
    ...over,
  });
  const run = async (seed: number, over: Partial<AttackRequest> = {}) => {
    const r = await removalNet.run({ seed }, request(over));
    const w = weightBytes(r.model);
    r.model.dispose();
    return w;
  };

  it('gives the same surrogate for the same seed and another for another seed', async () => {
    const a = await run(11);
    expect(await run(11)).toEqual(a);
    expect(await run(12)).not.toEqual(a);
    // It moved away from the victim.
    expect(a).not.toEqual(weightBytes(victim.model));
  });

  it('resumes after a cancel to exactly the uninterrupted result, and keeps a loadable trajectory', async () => {
    const expected = await run(21);
    const dir = join(tmp, 'resume');
    const controller = new AbortController();
    await expect(
      removalNet.run(
        { seed: 21, signal: controller.signal, progress: (e) => e.iteration === 3 && controller.abort() },
        request({ checkpoint: { dir, every: 2, keepTrajectory: true }, progressEvery: 1 }),
      ),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    const resumed = await removalNet.run(
      { seed: 21 },
      request({ checkpoint: { dir, every: 2, keepTrajectory: true }, resume: true }),
    );
    expect(weightBytes(resumed.model)).toEqual(expected);
    expect(resumed.compute.iterations).toBe(5);
    expect(resumed.trajectory?.map((d) => d.slice(dir.length))).toEqual([
      '/trajectory/iter-000002',
      '/trajectory/iter-000004',
    ]);
    const loaded = await loadModel(resumed.trajectory![1]);
    expect(loaded.meta.lineage).toBe(`train(cnn,bands)-removalnet(block2)@4`);
    expect(existsSync(join(dir, 'state'))).toBe(true);
    loaded.model.dispose();
    resumed.model.dispose();
  });

  it('refuses to resume with other options', async () => {
    const dir = join(tmp, 'other');
    const first = await removalNet.run({ seed: 5 }, request({ iterations: 2, checkpoint: { dir, every: 1 } }));
    first.model.dispose();
    await expect(
      removalNet.run(
        { seed: 5 },
        request({ iterations: 2, checkpoint: { dir, every: 1 }, resume: true, params: { alpha: 0.5 } }),
      ),
    ).rejects.toMatchObject({
      code: 'CHECKPOINT',
    });
  });

  it('names the scenario, block, loss form and latent model in the lineage and records a fidelity curve', async () => {
    const r = await removalNet.run(
      { seed: 1 },
      request({
        iterations: 2,
        scenario: 'ltd',
        heldOut: heldOutSet(),
        params: { loss: 'paper', latentModel: 'victim', latentInit: 'noise' },
        block: 'block1',
      }),
    );
    expect(r.lineageStep).toBe('removalnet(ltd,block1,paper,victim-latent,noise-init)');
    expect(r.modelMeta.lineage).toBe('train(cnn,bands)-removalnet(ltd,block1,paper,victim-latent,noise-init)');
    expect(r.curve?.map((p) => p.iteration)).toEqual([0, 1, 2]);
    expect(r.curve?.[0].fidelity).toBeGreaterThan(0.9);
    r.model.dispose();
    await expect(removalNet.run({ seed: 1 }, request({ block: 'nope' }))).rejects.toMatchObject({
      code: 'UNKNOWN_BLOCK',
    });
  });
});
