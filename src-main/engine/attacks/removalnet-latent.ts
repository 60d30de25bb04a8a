/**
 * RemovalNet's latent level (Algorithm 1): the reverse-engineered latent z' that the tail
 * still maps to the victim's label but that lies far from z, found by sign-gradient steps
 * with a share of the channels shuffled before each.
 */
import * as tf from '@tensorflow/tfjs';
import { shuffledIndices, type Rng } from '../rng';

/**
 * Shuffles round(ratio * C) channels of each sample among themselves (C = the last axis):
 * per sample a random subset of that many channels is chosen and rotated along a random
 * cycle, so every chosen channel receives another chosen channel's values (no chosen channel
 * keeps its own) and the others stay. With fewer than 2 chosen channels nothing moves.
 * Returns a new tensor; `z` is not disposed.
 */
export function shuffleChannels(z: tf.Tensor, ratio: number, rng: Rng): tf.Tensor {
  const batch = z.shape[0];
  const channels = z.shape[z.rank - 1];
  const k = Math.round(ratio * channels);
  if (k < 2 || batch === 0) return z.clone();
  // Done on the values in JS: a gather of rows is many times slower on the wasm backend.
  const src = z.dataSync() as Float32Array;
  const out = new Float32Array(src);
  const per = src.length / batch;
  const positions = per / channels;
  for (let b = 0; b < batch; b++) {
    const chosen = shuffledIndices(channels, rng).subarray(0, k);
    const base = b * per;
    for (let i = 0; i < k; i++) {
      const to = chosen[i];
      const from = chosen[(i + 1) % k];
      for (let p = 0; p < positions; p++) out[base + p * channels + to] = src[base + p * channels + from];
    }
  }
  return tf.tensor(out, z.shape, 'float32');
}

/** F^{l+}: a latent batch to logits (see `inferenceTail`); the caller disposes the result. */
export type LatentTail = (z: tf.Tensor) => tf.Tensor;

export interface LatentSearchOptions {
  steps: number;
  shuffleRatio: number;
  /** eta of the sign-gradient step. */
  stepSize: number;
  /** lambda of the log-distance term. */
  lambda: number;
  /** Std of the starting noise. */
  noise: number;
  /** 'noise': z + N(0, noise); 'code': z + tan(U(0,1)) per element (the authors' code). Default 'noise'. */
  init?: 'noise' | 'code';
  rng: Rng;
  /** Called after each step with z' (for tests and diagnostics); must not keep or dispose it. */
  onStep?: (step: number, latent: tf.Tensor) => void;
}

/**
 * Algorithm 1: reverse-engineers a latent z' that `tail` still maps to `labels` but that
 * lies far from `z`. Minimises CE(tail(z'), y) - lambda * mean_i log ||z'_i - z_i||_2
 * (per-sample L2 distances; the mean matches the batch-mean CE) by `steps` sign-gradient
 * steps, shuffling channels before each. Returns a new tensor; the inputs are not disposed.
 */
export function reverseLatent(
  tail: LatentTail,
  z: tf.Tensor,
  labels: tf.Tensor1D,
  numClasses: number,
  opts: LatentSearchOptions,
): tf.Tensor {
  const batch = z.shape[0];
  let latent = tf.tidy(() => {
    if (opts.init === 'code') return z.add(tf.randomUniform(z.shape, 0, 1, 'float32', opts.rng.seed()).tan());
    return opts.noise > 0 ? z.add(tf.randomNormal(z.shape, 0, opts.noise, 'float32', opts.rng.seed())) : z.clone();
  });
  if (opts.steps <= 0) return latent;
  const oneHot = tf.tidy(() => tf.oneHot(labels.toInt(), numClasses));
  const objective = (v: tf.Tensor): tf.Scalar => {
    const logits = tail(v) as tf.Tensor2D;
    const ce = tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
    const dist = v.sub(z).reshape([batch, -1]).square().sum(1).add(1e-12).sqrt();
    return ce.sub(dist.log().mean().mul(opts.lambda));
  };
  const gradOf = tf.grad(objective);
  try {
    for (let s = 0; s < opts.steps; s++) {
      const shuffled = shuffleChannels(latent, opts.shuffleRatio, opts.rng);
      latent.dispose();
      latent = tf.tidy(() => shuffled.sub(gradOf(shuffled).sign().mul(opts.stepSize)));
      shuffled.dispose();
      opts.onStep?.(s + 1, latent);
    }
  } finally {
    oneHot.dispose();
  }
  return latent;
}
