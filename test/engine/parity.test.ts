// Training parity with PyTorch (src-main/engine/bench/parity.ts + bench/parity/torch_parity.py):
// tiny zoo models trained a few SGD steps by the engine and by PyTorch from the same weights
// on the same batches. Needs Debian's PyTorch under /usr/bin/python3; without it those cases
// are skipped with a message. The semantics they guard (PyTorch's initialisers, BatchNorm's
// moving variance, weight decay on every trained variable) are also checked below without
// PyTorch.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PARITY_TOLERANCE,
  runParityCase,
  torchAvailable,
  useBackend,
  type ParityCase,
} from '../../src-main/engine/bench/parity';
import { TorchBatchNormalization } from '../../src-main/engine/models/batch-norm';
import { buildModel } from '../../src-main/engine/models/zoo';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../src-main/engine/training/optimizers';
import { bandImages } from '../helpers/synthetic';

const HAS_TORCH = torchAvailable();
if (!HAS_TORCH) {
  console.warn(
    'test/engine/parity.test.ts: PyTorch parity cases SKIPPED: /usr/bin/python3 cannot import torch (apt-get install -y python3-torch).',
  );
}

beforeAll(async () => {
  tf.env().set('PROD', true);
  await useBackend('cpu');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

// Side 10: odd sizes downstream (5, 3) exercise 'same' pooling and TF's asymmetric padding
// of a stride-2 conv, which the PyTorch side reproduces explicitly.
const data = bandImages(64, { side: 10, classes: 4, seed: 3 });
const steps = { iterations: 8, batchSize: 16 };

async function expectParity(spec: ParityCase): Promise<void> {
  const r = await runParityCase(spec, data, { root: process.cwd() });
  expect(r.losses.engine).toHaveLength(spec.iterations);
  expect(r.losses.torch).toHaveLength(spec.iterations);
  expect(r.gradMaxRelDiff).toBeLessThanOrEqual(PARITY_TOLERANCE.step1Gradient);
  expect(r.lossMaxRelDiff).toBeLessThanOrEqual(PARITY_TOLERANCE.lossCurve);
  expect(r.lockstep.gradMedianRelDiff).toBeLessThanOrEqual(PARITY_TOLERANCE.step1Gradient);
  // Weights after the run, BatchNorm moving statistics included: a different weight-decay
  // scope or the biased moving variance shows here at the 1e-2 level.
  expect(r.weightMaxRelDiff).toBeLessThanOrEqual(1e-3);
  expect(r.learningRates.maxAbsDiff).toBeLessThanOrEqual(1e-9);
}

describe('training parity with PyTorch (same weights, same batches)', () => {
  it.skipIf(!HAS_TORCH)('cnn on cpu: step-1 gradients, loss curve, final weights', async () => {
    await useBackend('cpu');
    await expectParity({ arch: 'cnn', width: 4, blocks: 3, hidden: 8, ...steps });
  });

  it.skipIf(!HAS_TORCH)(
    'resnet (projection shortcut, stride-2 asymmetric padding) on wasm, with the project training kernels',
    async () => {
      await useBackend('wasm');
      try {
        await expectParity({ arch: 'resnet', width: 4, blocks: 2, depth: 1, ...steps });
      } finally {
        await useBackend('cpu');
      }
    },
  );
});

describe('PyTorch semantics of the engine (no PyTorch needed)', () => {
  const stats = (v: Float32Array) => {
    let s = 0;
    let s2 = 0;
    let maxAbs = 0;
    for (const x of v) {
      s += x;
      s2 += x * x;
      maxAbs = Math.max(maxAbs, Math.abs(x));
    }
    const mean = s / v.length;
    return { mean, std: Math.sqrt(s2 / v.length - mean * mean), maxAbs };
  };

  it('conv kernels are kaiming_normal_ (std sqrt(2 / fan_in), not truncated) and dense layers nn.Linear defaults', () => {
    const { model } = buildModel('cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 5, width: 32 });
    const kernel = (name: string) => model.getLayer(name).getWeights()[0].dataSync() as Float32Array;
    // 3*3*32*64 = 18432 draws: the std is known to about 0.5%.
    const conv = stats(kernel('b2c1_conv'));
    const he = Math.sqrt(2 / (3 * 3 * 32));
    expect(conv.std / he).toBeGreaterThan(0.98);
    expect(conv.std / he).toBeLessThan(1.02);
    // TF.js's heNormal truncates at 2 std; a true normal has draws beyond that.
    expect(conv.maxAbs).toBeGreaterThan(2.5 * he);
    for (const [name, fanIn] of [
      ['fc', 4 * 4 * 128],
      ['logits', 128],
    ] as const) {
      const [k, b] = model
        .getLayer(name)
        .getWeights()
        .map((w) => stats(w.dataSync() as Float32Array));
      const bound = 1 / Math.sqrt(fanIn);
      expect(k.maxAbs).toBeLessThanOrEqual(bound);
      expect(k.std / (bound / Math.sqrt(3))).toBeGreaterThan(0.9);
      expect(k.std / (bound / Math.sqrt(3))).toBeLessThan(1.1);
      expect(b.maxAbs).toBeLessThanOrEqual(bound);
      expect(b.maxAbs).toBeGreaterThan(0);
    }
    model.dispose();
  });

  it('BatchNorm folds the unbiased batch variance into the moving variance (PyTorch), normalises with the biased one', () => {
    const layer = new TorchBatchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 });
    const x = tf.tensor4d([1, 2, 3, 5, 0, 4, 8, 8], [2, 2, 1, 2]);
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    // Channel 0: 1, 3, 0, 8: mean 3, biased var 9.5, unbiased 38/3. Channel 1: 2, 5, 4, 8: mean 4.75, biased var 4.6875, unbiased 6.25.
    const [, , movingMean, movingVar] = layer.getWeights().map((w) => Array.from(w.dataSync()));
    expect(movingMean[0]).toBeCloseTo(0.1 * 3, 6);
    expect(movingMean[1]).toBeCloseTo(0.1 * 4.75, 6);
    expect(movingVar[0]).toBeCloseTo(0.9 + 0.1 * (38 / 3), 5);
    expect(movingVar[1]).toBeCloseTo(0.9 + 0.1 * 6.25, 5);
    expect(y.dataSync()[0]).toBeCloseTo((1 - 3) / Math.sqrt(9.5 + 1e-5), 5);
    // Saved models keep the stock class name, and load back as this class.
    const m = tf.sequential({ layers: [new TorchBatchNormalization({ inputShape: [2, 2, 2], name: 'bn' })] });
    const json = JSON.stringify(m.toJSON(null, false));
    expect(json).toContain('"class_name":"BatchNormalization"');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('weight decay applies to every trained variable, biases and BatchNorm parameters included (torch.optim.SGD)', () => {
    const bias = tf.variable(tf.tensor1d([2]), true, 'probe3/bias');
    const gamma = tf.variable(tf.tensor1d([1]), true, 'probe3/gamma');
    const opt = new Optimizer({ ...DEFAULT_OPTIMIZER, name: 'sgd', momentum: 0.9, weightDecay: 0.1 }, [bias, gamma]);
    const g = tf.tensor1d([0]);
    opt.apply({ [bias.name]: g, [gamma.name]: g }, 0.5); // w <- w - 0.5 * 0.1 * w
    expect(bias.dataSync()[0]).toBeCloseTo(1.9, 6);
    expect(gamma.dataSync()[0]).toBeCloseTo(0.95, 6);
    opt.dispose();
    tf.dispose([bias, gamma, g]);
  });
});
