/**
 * Shared building pieces of the zoo. Every initialiser takes its own seed drawn from one
 * generator, so a model is a pure function of (architecture options, seed).
 *
 * Initialisation follows the PyTorch recipe the engine is compared against (torchvision's
 * convention, see bench/parity): convolutions get kaiming_normal_ (fan-in, ReLU gain),
 * dense layers keep nn.Linear's default, and BatchNorm starts at gamma 1, beta 0 with
 * PyTorch's moving-variance update (../batch-norm.ts). Two TF.js defaults diverged from it:
 *  - tf.initializers.heNormal draws a normal truncated at 2 std WITHOUT rescaling, so its
 *    std is 0.88 x sqrt(2 / fan_in) (Keras in Python rescales; PyTorch does not truncate);
 *  - the logits layer used glorotUniform (std ~0.12 for 128 -> 10), 2.4x nn.Linear's
 *    default (~0.05): the initial logits were large (first loss ~3 instead of ln 10) and
 *    SGD lr 0.05 / momentum 0.9 blew the loss up to ~15 in the first iterations, which the
 *    network took most of a short run to recover from (the parity harness showed PyTorch
 *    does the same from these weights; PyTorch's own init does not).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng';
import { batchNormalization } from '../batch-norm';
import { conv2d } from '../conv2d';

type Initializer = ReturnType<typeof tf.initializers.heNormal>;

/** PyTorch's kaiming_normal_(mode='fan_in', nonlinearity='relu'): N(0, 2 / fan_in), untruncated. */
export function heNormal(rng: Rng, fanIn: number): Initializer {
  return tf.initializers.randomNormal({ mean: 0, stddev: Math.sqrt(2 / Math.max(1, fanIn)), seed: rng.seed() });
}

/**
 * PyTorch's nn.Linear default: kernel kaiming_uniform_(a = sqrt 5) and bias, both
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Kernel seed first, then bias seed.
 */
export function linearDefault(
  rng: Rng,
  fanIn: number,
): { kernelInitializer: Initializer; biasInitializer: Initializer } {
  const bound = 1 / Math.sqrt(Math.max(1, fanIn));
  return {
    kernelInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: rng.seed() }),
    biasInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: rng.seed() }),
  };
}

/** Channels of an NHWC symbolic tensor. */
export function channelsOf(x: tf.SymbolicTensor): number {
  return x.shape[x.shape.length - 1] as number;
}

/** BatchNorm as the zoo uses it: PyTorch's eps 1e-5 and momentum 0.1 (Keras momentum 0.9). */
export function bn(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  return batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name }).apply(x) as tf.SymbolicTensor;
}

/** conv3x3 (no bias: BatchNorm follows) -> BatchNorm -> ReLU. */
export function convBnRelu(
  x: tf.SymbolicTensor,
  filters: number,
  rng: Rng,
  name: string,
  opts: { kernelSize?: number; strides?: number; relu?: boolean } = {},
): tf.SymbolicTensor {
  const kernelSize = opts.kernelSize ?? 3;
  const conv = conv2d({
    filters,
    kernelSize,
    strides: opts.strides ?? 1,
    padding: 'same',
    useBias: false,
    kernelInitializer: heNormal(rng, kernelSize * kernelSize * channelsOf(x)),
    name: `${name}_conv`,
  }).apply(x) as tf.SymbolicTensor;
  const out = bn(conv, `${name}_bn`);
  if (opts.relu === false) return out;
  return tf.layers.reLU({ name: `${name}_relu` }).apply(out) as tf.SymbolicTensor;
}

/** flatten -> dense(hidden) + ReLU -> dense(classes): the classifier returns logits. */
export function denseHead(x: tf.SymbolicTensor, hidden: number, numClasses: number, rng: Rng): tf.SymbolicTensor {
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  const fc = tf.layers
    .dense({ units: hidden, activation: 'relu', ...linearDefault(rng, channelsOf(flat)), name: 'fc' })
    .apply(flat) as tf.SymbolicTensor;
  return tf.layers
    .dense({ units: numClasses, ...linearDefault(rng, hidden), name: 'logits' })
    .apply(fc) as tf.SymbolicTensor;
}
