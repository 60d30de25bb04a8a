import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitAtBlock } from '../../src-main/engine/models/split';
import { buildModel } from '../../src-main/engine/models/zoo';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

describe('splitAtBlock', () => {
  it.each([
    ['cnn', [16, 16, 1]],
    ['vgg', [16, 16, 3]],
    ['resnet', [16, 16, 3]],
  ] as const)('%s: tail(head(x)) equals the full model and the halves share weights', (arch, shape) => {
    const { model } = buildModel(arch, { inputShape: [...shape], numClasses: 4, seed: 2, width: 4 });
    const split = splitAtBlock(model, 'block2');
    const x = tf.randomNormal([3, ...shape], 0, 1, 'float32', 5);
    const [full, composed, latent] = tf.tidy(() => {
      const z = split.head.predict(x) as tf.Tensor;
      return [model.predict(x) as tf.Tensor, split.tail.predict(z) as tf.Tensor, z];
    });
    expect(latent.shape.slice(1)).toEqual(split.latentShape);
    expect(Math.max(...Array.from(full.sub(composed).abs().dataSync()))).toBeLessThan(1e-5);
    // Shared weights: a change to the model shows in the tail.
    const logits = model.getLayer('logits');
    const [k, b] = logits.getWeights();
    logits.setWeights([k.mul(2), b]);
    const after = tf.tidy(
      () =>
        (split.tail.predict(latent) as tf.Tensor)
          .sub(model.predict(x) as tf.Tensor)
          .abs()
          .max()
          .dataSync()[0],
    );
    expect(after).toBeLessThan(1e-5);
    tf.dispose([x, full, composed, latent, k, b]);
    model.dispose();
  });

  it('splits the same model twice, at different blocks', () => {
    const { model } = buildModel('cnn', { inputShape: [16, 16, 1], numClasses: 4, seed: 2, width: 4 });
    const a = splitAtBlock(model, 'block2');
    const b = splitAtBlock(model, 'block3');
    const c = splitAtBlock(model, 'block2');
    const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 9);
    const diffs = tf.tidy(() => {
      const full = model.predict(x) as tf.Tensor;
      return [a, b, c].map(
        (s) => (s.tail.predict(s.head.predict(x) as tf.Tensor) as tf.Tensor).sub(full).abs().max().dataSync()[0],
      );
    });
    for (const d of diffs) expect(d).toBeLessThan(1e-5);
    x.dispose();
    model.dispose();
  });

  it('refuses unknown layers and layers that are not split points', () => {
    const { model } = buildModel('resnet', { inputShape: [16, 16, 3], numClasses: 4, seed: 2, width: 4 });
    expect(() => splitAtBlock(model, 'block9')).toThrow(/no layer named "block9"/);
    expect(() => splitAtBlock(model, 's2u1a_conv')).toThrow(/not a split point/);
    model.dispose();
  });
});
