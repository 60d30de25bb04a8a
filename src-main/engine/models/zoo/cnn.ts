/**
 * `cnn`: a small conv net for 28x28 inputs (MNIST, Fashion-MNIST). Each block is
 * conv3x3-BN-ReLU followed by a 2x2 max pool whose output is the named split point
 * `block<i>`; widths double per block (default 32, 64, 128: the 3-block CNN of the
 * reference run). RemovalNet splits at block 2, DeepJudge reads block 3.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../rng';
import { convBnRelu, denseHead } from './layers';
import type { ArchOptions, ArchSpec } from './types';

export const cnnArch: ArchSpec = {
  name: 'cnn',
  description: 'conv3x3-BN-ReLU-maxpool blocks, dense head (for 28x28 inputs)',
  defaults: { blocks: 3, width: 32, depth: 1, hidden: 128 },
  benchInputShape: [28, 28, 1],
  defaultAttackBlock: (n) => `block${Math.min(2, n)}`,
  defaultDeepJudgeBlock: (n) => `block${Math.min(3, n)}`,
  build(opts: ArchOptions): tf.LayersModel {
    const { blocks, width, depth, hidden } = { ...cnnArch.defaults, ...stripUndefined(opts) };
    const rng = createRng(opts.seed);
    const input = tf.input({ shape: opts.inputShape, name: 'input' });
    let x: tf.SymbolicTensor = input;
    for (let b = 1; b <= blocks; b++) {
      const filters = width * 2 ** (b - 1);
      for (let d = 1; d <= depth; d++) x = convBnRelu(x, filters, rng, `b${b}c${d}`);
      // 'same' pooling keeps odd sizes (7 -> 4) instead of dropping the last row.
      x = tf.layers
        .maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', name: `block${b}` })
        .apply(x) as tf.SymbolicTensor;
    }
    const logits = denseHead(x, hidden, opts.numClasses, rng);
    return tf.model({ inputs: input, outputs: logits, name: 'cnn' });
  },
};

/** Drops undefined fields so spreading over defaults keeps the defaults. */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
