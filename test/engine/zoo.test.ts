import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { forwardFlopsPerExample } from '../../src-main/engine/models/flops';
import { ARCHITECTURES, buildModel } from '../../src-main/engine/models/zoo';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

describe('model zoo', () => {
  it.each([
    [
      'cnn',
      [28, 28, 1],
      [
        [14, 14, 32],
        [7, 7, 64],
        [4, 4, 128],
      ],
    ],
    [
      'vgg',
      [32, 32, 3],
      [
        [16, 16, 32],
        [8, 8, 64],
        [4, 4, 128],
      ],
    ],
    [
      'resnet',
      [32, 32, 3],
      [
        [32, 32, 16],
        [16, 16, 32],
        [8, 8, 64],
      ],
    ],
  ] as const)(
    '%s has named blocks, one per downsampling stage, and returns logits',
    (arch, inputShape, blockShapes) => {
      const built = buildModel(arch, { inputShape: [...inputShape], numClasses: 7, seed: 3 });
      expect(built.blocks).toEqual(['block1', 'block2', 'block3']);
      blockShapes.forEach((shape, i) =>
        expect(built.model.getLayer(`block${i + 1}`).outputShape).toEqual([null, ...shape]),
      );
      expect(built.model.outputs[0].shape).toEqual([null, 7]);
      expect(built.defaultAttackBlock).toBe('block2');
      expect(built.defaultDeepJudgeBlock).toBe('block3');
      const y = tf.tidy(() => built.model.predict(tf.ones([2, ...inputShape])) as tf.Tensor);
      expect(y.shape).toEqual([2, 7]);
      y.dispose();
      built.model.dispose();
    },
  );

  it('takes width, depth and block count from the options', () => {
    const built = buildModel('vgg', {
      inputShape: [32, 32, 3],
      numClasses: 10,
      seed: 1,
      blocks: 4,
      width: 8,
      depth: 1,
    });
    expect(built.blocks).toHaveLength(4);
    expect(built.model.getLayer('block4').outputShape).toEqual([null, 2, 2, 64]);
    expect(built.model.layers.filter((l) => l.getClassName() === 'Conv2D')).toHaveLength(4);
    built.model.dispose();
  });

  it('initialises deterministically from the seed', () => {
    const weights = (seed: number) => {
      const b = buildModel('cnn', { inputShape: [28, 28, 1], numClasses: 10, seed, width: 4 });
      const w = b.model.getWeights().map((t) => Array.from(t.dataSync()));
      b.model.dispose();
      return w;
    };
    const a = weights(5);
    expect(weights(5)).toEqual(a);
    expect(weights(6)).not.toEqual(a);
  });

  it('refuses unknown architectures and inputs too small for the blocks', () => {
    expect(() => buildModel('alexnet', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 })).toThrow(
      /Unknown architecture "alexnet".*/,
    );
    expect(() => buildModel('cnn', { inputShape: [4, 4, 1], numClasses: 10, seed: 1 })).toThrow(/at least 8x8/);
  });

  it('counts forward FLOPs of convolutions and dense layers', () => {
    // Hand count for cnn width 4, one block on 8x8x1, hidden 5, 3 classes:
    // conv 8*8*4 outputs * 9 taps * 1 channel * 2 = 4608; fc 4*4*4=64 -> 5: 640; logits 5 -> 3: 30.
    const b = buildModel('cnn', { inputShape: [8, 8, 1], numClasses: 3, seed: 1, blocks: 1, width: 4, hidden: 5 });
    expect(forwardFlopsPerExample(b.model)).toBe(4608 + 640 + 30);
    b.model.dispose();
    expect(ARCHITECTURES.map((a) => a.name)).toEqual(['cnn', 'vgg', 'resnet']);
  });
});
