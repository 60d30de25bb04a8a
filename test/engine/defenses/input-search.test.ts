import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { searchInputs } from '../../../src-main/engine/defenses/input-search';
import { ctx, useCpu } from './fixtures';

beforeAll(useCpu);

/** Two 1x1x1 samples starting at 1; per-sample loss x^2; sample 0 reaches its goal below 0.95, sample 1 never. */
function run(lower: number) {
  return searchInputs({
    start: { shape: [2, 1, 1, 1], data: Float32Array.from([1, 1]) },
    bounds: { lower: Float32Array.from([lower]), upper: Float32Array.from([10]) },
    lr: 0.1,
    steps: 2,
    ctx: ctx(),
    stage: 'test',
    what: 'test search',
    objective: (x) => {
      const v = x.reshape([2]) as tf.Tensor1D;
      return {
        loss: v.square() as tf.Tensor1D,
        reached: v.less(tf.tensor1d([0.95, -Infinity])).cast('float32') as tf.Tensor1D,
      };
    },
  });
}

describe('Adam on the inputs', () => {
  it('keeps one Adam state across steps (a fresh one per step would move exactly lr each step)', async () => {
    const r = await run(-10);
    // Step 1: g = 2, Adam's first step is lr * sign(g): 0.9. Step 2 with the kept moments
    // (m = 0.36, v = 0.007236, bias-corrected): 0.9 - 0.1 * 1.894737 / 1.902580 = 0.8004105.
    // A re-created Adam would give 0.8.
    expect(r.inputs.data[1]).toBeCloseTo(0.8004105, 5);
    // Sample 0 is kept at the first point that reached its goal.
    expect(r.inputs.data[0]).toBeCloseTo(0.9, 6);
    expect(Array.from(r.reached)).toEqual([1, 0]);
    expect(r.queries).toBe(6); // three evaluations of two samples
  });

  it('clips to the valid range after each step', async () => {
    const r = await run(0.85);
    expect(r.inputs.data[1]).toBeCloseTo(0.85, 6);
  });

  it('leaves no tensors behind', async () => {
    await run(-10);
    const before = tf.memory().numTensors;
    await run(-10);
    expect(tf.memory().numTensors).toBe(before);
  });
});
