/**
 * Shared building pieces of the zoo. Every initialiser takes its own seed drawn from one
 * generator, so a model is a pure function of (architecture options, seed).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng';

type Initializer = ReturnType<typeof tf.initializers.heNormal>;

export function heNormal(rng: Rng): Initializer {
  return tf.initializers.heNormal({ seed: rng.seed() });
}

export function glorotUniform(rng: Rng): Initializer {
  return tf.initializers.glorotUniform({ seed: rng.seed() });
}

/** conv3x3 (no bias: BatchNorm follows) -> BatchNorm -> ReLU. */
export function convBnRelu(
  x: tf.SymbolicTensor,
  filters: number,
  rng: Rng,
  name: string,
  opts: { kernelSize?: number; strides?: number; relu?: boolean } = {},
): tf.SymbolicTensor {
  const conv = tf.layers
    .conv2d({
      filters,
      kernelSize: opts.kernelSize ?? 3,
      strides: opts.strides ?? 1,
      padding: 'same',
      useBias: false,
      kernelInitializer: heNormal(rng),
      name: `${name}_conv`,
    })
    .apply(x) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name: `${name}_bn` }).apply(conv) as tf.SymbolicTensor;
  if (opts.relu === false) return bn;
  return tf.layers.reLU({ name: `${name}_relu` }).apply(bn) as tf.SymbolicTensor;
}

/** flatten -> dense(hidden) + ReLU -> dense(classes): the classifier returns logits. */
export function denseHead(x: tf.SymbolicTensor, hidden: number, numClasses: number, rng: Rng): tf.SymbolicTensor {
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  const fc = tf.layers
    .dense({ units: hidden, activation: 'relu', kernelInitializer: heNormal(rng), name: 'fc' })
    .apply(flat) as tf.SymbolicTensor;
  return tf.layers.dense({ units: numClasses, kernelInitializer: glorotUniform(rng), name: 'logits' }).apply(fc) as tf.SymbolicTensor;
}
