/**
 * `vgg`: VGG-style with BatchNorm (Simonyan & Zisserman; the BN variant the RemovalNet
 * code uses for CIFAR). Stage i has `depth` conv3x3-BN-ReLU layers of width*2^(i-1)
 * channels and ends in a 2x2 max pool named `block<i>`. The defaults (3 stages of two
 * convs, 32/64/128, dense 128) are the benchmark's `vggbn32` shape; VGG-19 proportions
 * are reachable with blocks 5, width 64, depth 4.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../rng';
import { stripUndefined } from './cnn';
import { convBnRelu, denseHead } from './layers';
import type { ArchOptions, ArchSpec } from './types';

export const vggArch: ArchSpec = {
  name: 'vgg',
  description: 'VGG-style stages of conv3x3-BN-ReLU with max pooling, dense head',
  defaults: { blocks: 3, width: 32, depth: 2, hidden: 128 },
  benchInputShape: [32, 32, 3],
  defaultAttackBlock: (n) => `block${Math.min(2, n)}`,
  defaultDeepJudgeBlock: (n) => `block${Math.min(3, n)}`,
  build(opts: ArchOptions): tf.LayersModel {
    const { blocks, width, depth, hidden } = { ...vggArch.defaults, ...stripUndefined(opts) };
    const rng = createRng(opts.seed);
    const input = tf.input({ shape: opts.inputShape, name: 'input' });
    let x: tf.SymbolicTensor = input;
    for (let b = 1; b <= blocks; b++) {
      const filters = Math.min(width * 2 ** (b - 1), 512);
      for (let d = 1; d <= depth; d++) x = convBnRelu(x, filters, rng, `b${b}c${d}`);
      x = tf.layers
        .maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', name: `block${b}` })
        .apply(x) as tf.SymbolicTensor;
    }
    const logits = denseHead(x, hidden, opts.numClasses, rng);
    return tf.model({ inputs: input, outputs: logits, name: 'vgg' });
  },
};
