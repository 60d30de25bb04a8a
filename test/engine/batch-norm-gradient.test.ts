// The closed-form BatchNorm gradient (batchNormTraining) against the autodifferentiated stock
// ops it replaced (tf.moments + tf.batchNorm), on the pure-JS cpu backend in float32 and on
// wasm. Tolerance: 1e-5 relative to the largest gradient entry (float32 sums in another order).
// The inputs have a mean far from zero (the case where a careless formula cancels) and a
// weighted loss, so that no gradient is trivially zero.
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { batchNormTraining } from '../../src-main/engine/models/batch-norm';
import { registerWasmTrainingKernels } from '../../src-main/engine/wasm-kernels/index';

const EPS = 1e-5;
const TOL = 1e-5;
registerWasmTrainingKernels();
afterAll(() => tf.setBackend('cpu'));

function seeded(n: number, seed: number, offset: number, spread: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return offset + spread * (s / 2147483648 - 0.5);
  });
}

interface Grads {
  y: Float32Array;
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

function gradients(shape: number[], closedForm: boolean): Grads {
  const c = shape[shape.length - 1];
  const n = shape.reduce((a, b) => a * b, 1);
  const out = tf.tidy(() => {
    const x = tf.tensor(seeded(n, 1, 3, 2), shape);
    const weights = tf.tensor(seeded(n, 2, 0, 2), shape);
    const gamma = tf.tensor1d(seeded(c, 3, 1, 0.5));
    const beta = tf.tensor1d(seeded(c, 4, 0, 0.5));
    const axes = shape.slice(0, -1).map((_, i) => i);
    const forward = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor[] => {
      if (closedForm) {
        const r = batchNormTraining(xx, g, b, EPS);
        return [r.y, r.mean, r.variance];
      }
      const { mean, variance } = tf.moments(xx, axes);
      return [tf.batchNorm(xx, mean, variance, b, g, EPS), mean, variance];
    };
    const [y, mean, variance] = forward(x, gamma, beta);
    const [dx, dgamma, dbeta] = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const [yy, ...stats] = forward(xx, g, b);
      // The closed form hands its statistics out of the op's scope: the caller disposes them.
      tf.dispose(stats);
      return tf.sum(tf.mul(yy, weights));
    })([x, gamma, beta]);
    return [y, dx, dgamma, dbeta, mean, variance];
  });
  const [y, dx, dgamma, dbeta, mean, variance] = out.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(out);
  return { y, dx, dgamma, dbeta, mean, variance };
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}

describe.each(['cpu', 'wasm'])('closed-form BatchNorm gradient on %s', (backend) => {
  // Channels a multiple of 4 take wasm's one-pass kernels (batch-norm-train.ts) there: rows
  // in 8 blocks, a last block shorter, a single row block.
  it.each([[[4, 5, 3, 6]], [[2, 7, 7, 16]], [[9, 10]], [[33, 12]], [[3, 8]]])(
    'equals the autodifferentiated stock ops for %j',
    async (shape) => {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const stock = gradients(shape, false);
      const closed = gradients(shape, true);
      expect(tf.memory().numTensors).toBe(before);
      for (const k of ['y', 'dx', 'dgamma', 'dbeta', 'mean', 'variance'] as const)
        expect(relErr(closed[k], stock[k]), k).toBeLessThan(TOL);
      // Not vacuous: the gradients are far from zero and the batch mean far from zero.
      expect(Math.max(...stock.dgamma.map(Math.abs))).toBeGreaterThan(0.1);
      expect(Math.min(...stock.mean)).toBeGreaterThan(2);
    },
  );
});
