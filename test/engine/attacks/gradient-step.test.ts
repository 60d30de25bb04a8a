/** The one gradient step of the attacks: the same update and figures as the hand-written tail, and nothing leaked. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropyStep, gradientStep } from '../../../src-main/engine/attacks/gradient-step';
import { cloneModel, trainableVariables } from '../../../src-main/engine/attacks/surrogate';
import type { LoadedModel } from '../../../src-main/engine/models/io';
import { createRng } from '../../../src-main/engine/rng';
import { batchTensors } from '../../../src-main/engine/training/batch';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../../src-main/engine/training/optimizers';
import { trainStep } from '../../../src-main/engine/training/train';
import { substituteSet, tinyVictim, useCpu, weightBytes } from './fixtures';

let victim: LoadedModel;
beforeAll(async () => {
  await useCpu();
  victim = await tinyVictim();
});

const SGD = { ...DEFAULT_OPTIMIZER, name: 'sgd' as const, momentum: 0.9, weightDecay: 1e-4 };
const INDICES = Int32Array.from({ length: 16 }, (_, i) => i * 3);

/** Two copies of the victim with their own SGD optimisers, one per way of stepping. */
async function twins() {
  const make = async () => {
    const model = await cloneModel(victim.model);
    const vars = trainableVariables(model);
    return { model, vars, optimizer: new Optimizer(SGD, vars) };
  };
  return [await make(), await make()] as const;
}

function dispose(...ts: { model: tf.LayersModel; optimizer: Optimizer }[]): void {
  for (const t of ts) {
    t.optimizer.dispose();
    t.model.dispose();
  }
}

describe('gradientStep', () => {
  it("updates and reports exactly as the attacks' former tail (variableGrads, apply, dispose, read), three steps in a row", async () => {
    const [a, b] = await twins();
    const set = substituteSet();
    const { x, y } = batchTensors(set, INDICES);
    const yOneHot = tf.oneHot(y, 3);
    const objective = (model: tf.LayersModel) => {
      const f = model.apply(x, { training: true }) as tf.Tensor2D;
      const ce = tf.losses.softmaxCrossEntropy(yOneHot, f) as tf.Scalar;
      const l2 = f.square().mean() as tf.Scalar;
      return { loss: ce.add(l2.mul(0.1)) as tf.Scalar, ce, l2 };
    };
    for (let s = 0; s < 3; s++) {
      const lr = 0.05 / (s + 1);
      // The tail as distill, knockoff and RemovalNet wrote it before.
      let stats: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const o = objective(a.model);
        stats = tf.keep(tf.stack([o.loss, o.ce, o.l2]));
        return o.loss;
      }, a.vars);
      a.optimizer.apply(grads, lr);
      tf.dispose([value, ...Object.values(grads)]);
      const expected = Array.from(stats!.dataSync());
      stats!.dispose();

      const got = gradientStep(b.optimizer, lr, b.vars, () => {
        const o = objective(b.model);
        return { loss: o.loss, report: [o.loss, o.ce, o.l2] };
      });
      expect(Array.from(got)).toEqual(expected);
      expect(weightBytes(b.model)).toEqual(weightBytes(a.model));
    }
    tf.dispose([x, y, yOneHot]);
    dispose(a, b);
  });

  it('leaves no tensor behind, also when the objective throws', async () => {
    const [a] = await twins();
    const set = substituteSet();
    const { x, y } = batchTensors(set, INDICES);
    const yOneHot = tf.oneHot(y, 3);
    const step = () =>
      gradientStep(a.optimizer, 0.01, a.vars, () => {
        const f = a.model.apply(x, { training: true }) as tf.Tensor2D;
        const loss = tf.losses.softmaxCrossEntropy(yOneHot, f) as tf.Scalar;
        return { loss, report: [loss] };
      });
    step(); // the optimiser's momentum slots are made on its first step
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    expect(() =>
      gradientStep(a.optimizer, 0.01, a.vars, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, yOneHot]);
    dispose(a);
  });
});

describe('crossEntropyStep', () => {
  it('is trainStep bit for bit: the same weights, loss and accuracy', async () => {
    const [a, b] = await twins();
    const set = substituteSet();
    for (let s = 0; s < 3; s++) {
      const indices = INDICES.map((i) => (i + s) % set.count);
      const [loss, correct] = trainStep(a.model, set, indices, a.vars, a.optimizer, 0.02);
      const out = crossEntropyStep(b.model, set, b.vars, {
        iteration: s,
        indices,
        lr: 0.02,
        rng: createRng(s),
        optimizer: b.optimizer,
      });
      expect(out).toEqual({
        values: { loss, accuracy: correct / indices.length },
        forward: indices.length,
        backward: indices.length,
      });
      expect(weightBytes(b.model)).toEqual(weightBytes(a.model));
    }
    dispose(a, b);
  });
});
