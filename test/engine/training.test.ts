import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditError } from '../../src-main/engine/errors';
import { buildModel } from '../../src-main/engine/models/zoo';
import { evaluate } from '../../src-main/engine/training/evaluate';
import { Optimizer, DEFAULT_OPTIMIZER } from '../../src-main/engine/training/optimizers';
import { learningRateAt } from '../../src-main/engine/training/schedule';
import { train, type TrainOptions } from '../../src-main/engine/training/train';
import { bandImages } from '../helpers/synthetic';

const tmp = mkdtempSync(join(tmpdir(), 'oa-train-'));
beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const data = bandImages(96, { side: 8, classes: 3, seed: 2 });
const small = (seed = 1) =>
  buildModel('cnn', { inputShape: [8, 8, 1], numClasses: 3, seed, blocks: 2, width: 4, hidden: 8 }).model;
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
const base: TrainOptions = { iterations: 24, batchSize: 16, learningRate: 0.05, seed: 7 };

describe('training loop', () => {
  it('learns a separable task: loss falls and accuracy rises', async () => {
    const model = small();
    const before = evaluate(model, data).accuracy;
    const losses: number[] = [];
    await train(model, data, { ...base, iterations: 60, progressEvery: 6, onProgress: (p) => losses.push(p.loss) });
    const after = evaluate(model, data).accuracy;
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    expect(after).toBeGreaterThan(0.9);
    expect(after).toBeGreaterThan(before);
    model.dispose();
  });

  it('gives identical weights for the same seed and different ones for another seed', async () => {
    const run = async (seed: number) => {
      const m = small();
      await train(m, data, { ...base, iterations: 8, seed });
      const w = weightsOf(m);
      m.dispose();
      return w;
    };
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
  });

  it('reports progress with iteration, loss, accuracy, throughput and the cosine learning rate', async () => {
    const model = small();
    const seen: number[] = [];
    let last: { learningRate: number; examplesPerSec: number; accuracy: number } | undefined;
    await train(model, data, {
      ...base,
      iterations: 10,
      progressEvery: 5,
      onProgress: (p) => {
        seen.push(p.iteration);
        last = p;
      },
    });
    expect(seen).toEqual([5, 10]);
    expect(last!.learningRate).toBeCloseTo(learningRateAt('cosine', 0.05, 9, 10), 12);
    expect(last!.examplesPerSec).toBeGreaterThan(0);
    expect(last!.accuracy).toBeGreaterThanOrEqual(0);
    model.dispose();
  });

  it('stops on an aborted signal, checkpoints, and a resumed run ends with the uninterrupted weights', async () => {
    const full = small();
    await train(full, data, { ...base });
    const expected = weightsOf(full);
    full.dispose();

    const dir = join(tmp, 'ckpt');
    const controller = new AbortController();
    const first = small();
    const run = train(first, data, {
      ...base,
      checkpoint: { dir, every: 100 },
      signal: controller.signal,
      progressEvery: 1,
      onProgress: (p) => p.iteration === 10 && controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    first.dispose();

    const second = small(99); // a different init: the checkpoint must overwrite it
    const result = await train(second, data, { ...base, checkpoint: { dir, every: 100 }, resume: true });
    expect(result.resumedFrom).toBe(10);
    const got = weightsOf(second);
    got.forEach((w, i) => w.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 6)));
    second.dispose();
  });

  it('refuses to resume a checkpoint written with other options', async () => {
    const dir = join(tmp, 'ckpt2');
    const m = small();
    await train(m, data, { ...base, iterations: 4, checkpoint: { dir, every: 2 } });
    await expect(
      train(m, data, { ...base, iterations: 4, learningRate: 0.1, checkpoint: { dir, every: 2 }, resume: true }),
    ).rejects.toMatchObject({
      code: 'CHECKPOINT',
    });
    m.dispose();
  });

  it('stops with TRAINING_DIVERGED when the loss is not finite', async () => {
    const bad = { ...data, images: data.images.slice() };
    bad.images.fill(Number.NaN, 0, 64 * 10);
    const m = small();
    const err = await train(m, bad, { ...base, iterations: 5, batchSize: 96 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditError);
    expect((err as AuditError).code).toBe('TRAINING_DIVERGED');
    expect((err as AuditError).message).toMatch(/loss became NaN at iteration 1/);
    expect((err as AuditError).hint).toMatch(/Lower the learning rate/);
    m.dispose();
  });

  it('keeps tf.memory() flat across iterations', async () => {
    const m = small();
    await train(m, data, { ...base, iterations: 2 });
    const before = tf.memory().numTensors;
    await train(m, data, { ...base, iterations: 6 });
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

describe('optimisers and schedule', () => {
  it('SGD with momentum and weight decay matches a hand computation', () => {
    const v = tf.variable(tf.tensor1d([1, -2]), true, 'probe/kernel');
    const opt = new Optimizer({ ...DEFAULT_OPTIMIZER, name: 'sgd', momentum: 0.9, weightDecay: 0.1 }, [v]);
    const g = tf.tensor1d([0.5, 0.5]);
    opt.apply({ [v.name]: g }, 0.1); // buf = g + 0.1 w = [0.6, 0.3]; w = [0.94, -2.03]
    opt.apply({ [v.name]: g }, 0.1); // g' = [0.594, 0.297]; buf = 0.9 buf + g' = [1.134, 0.567]; w = [0.8266, -2.0867]
    const w = v.dataSync();
    expect(w[0]).toBeCloseTo(0.8266, 5);
    expect(w[1]).toBeCloseTo(-2.0867, 5);
    opt.dispose();
    tf.dispose([v, g]);
  });

  it('Adam matches a hand computation', () => {
    const v = tf.variable(tf.tensor1d([1]), true, 'probe2/bias');
    const opt = new Optimizer({ ...DEFAULT_OPTIMIZER, name: 'adam', weightDecay: 0 }, [v]);
    const g = tf.tensor1d([2]);
    opt.apply({ [v.name]: g }, 0.01); // m^ = 2, s^ = 4: w = 1 - 0.01 * 2 / (2 + 1e-8)
    expect(v.dataSync()[0]).toBeCloseTo(0.99, 6);
    opt.dispose();
    tf.dispose([v, g]);
  });

  it('cosine schedule goes from the base rate to zero, with warm-up', () => {
    expect(learningRateAt('cosine', 0.1, 0, 100)).toBeCloseTo(0.1, 12);
    expect(learningRateAt('cosine', 0.1, 50, 100)).toBeCloseTo(0.05, 12);
    expect(learningRateAt('cosine', 0.1, 100, 100)).toBeCloseTo(0, 12);
    expect(learningRateAt('constant', 0.1, 70, 100)).toBe(0.1);
    expect(learningRateAt('cosine', 0.1, 1, 100, 4)).toBeCloseTo(0.05, 12);
  });
});
