/** RemovalNet's upper-level loss (the authors' code, or the paper's Eq. 13-15). */
import * as tf from '@tensorflow/tfjs';

export interface RemovalNetLossTerms {
  total: tf.Scalar;
  /** Weighted logit-level term. */
  kl: tf.Scalar;
  /** Weighted latent-level term. */
  feat: tf.Scalar;
  /** Weighted cross-entropy term. */
  ce: tf.Scalar;
}

export interface RemovalNetLossOptions {
  form: 'code' | 'paper';
  /** Paper form: per-sample L2 distance as printed ('l2', default) or divided by sqrt(latent size) ('rms'). */
  featureNorm?: 'rms' | 'l2';
  alpha: number;
  beta: number;
  gamma: number;
  temperature: number;
}

/**
 * The upper-level loss on the surrogate's logits `f` and block output `zs`, against the
 * reversed latent `zPrime`, the ILBS targets `z2` (probability vectors) and the victim's
 * labels (one-hot `yOneHot`).
 *
 * 'code' (default, the authors' code):
 *   alpha * T^2 * KL(softmax(z2/T) || softmax(f/T))   KL summed over classes, averaged over
 *                                                      the batch (PyTorch 'batchmean'); z2 is
 *                                                      already a probability vector and is
 *                                                      softened a second time, as the code does
 * + beta * MSE(zs, z')                                 mean over all elements ('mean')
 * + gamma * CE(f, y)                                   mean over the batch
 * 'paper' (Eq. 13-15, with F_S where Eq. 13 prints F_V):
 *   alpha * CE(f, y)                                   mean over the batch
 * + (1 - alpha) * KL(z2 || softmax(f))                 batchmean, 0 * log 0 taken as 0
 * + beta * ||zs - z'||_2                               per-sample L2 norm, mean over the batch
 *                                                      (featureNorm 'rms': divided by sqrt of
 *                                                      the latent size)
 * The attack passes its `paperAlpha` (default 0.8) as alpha here: read literally with the
 * paper's alpha = 0.2, Eq. 13 gives CE only 0.2 and the ILBS targets (mixes that barely keep
 * the label) 0.8, and on Fashion-MNIST that took the surrogate from 86.2% to 62.7% test
 * accuracy in 100 iterations; with CE 0.8 / KL 0.2 (the authors' code puts its alpha = 0.2 on
 * the logit-level term) it kept 84.1% (plain L2) and 84.8% (rms) after 80, where the code
 * form kept 84.4% after 100.
 */
export function removalNetLoss(
  f: tf.Tensor2D,
  zs: tf.Tensor,
  zPrime: tf.Tensor,
  z2: tf.Tensor2D,
  yOneHot: tf.Tensor2D,
  o: RemovalNetLossOptions,
): RemovalNetLossTerms {
  const batch = f.shape[0];
  const ceRaw = tf.losses.softmaxCrossEntropy(yOneHot, f) as tf.Scalar;
  if (o.form === 'code') {
    const t = o.temperature;
    const q = tf.softmax(z2.div(t));
    const kl = q
      .mul(tf.logSoftmax(z2.div(t)).sub(tf.logSoftmax(f.div(t))))
      .sum()
      .div(batch)
      .mul(o.alpha * t * t) as tf.Scalar;
    const feat = zs.sub(zPrime).square().mean().mul(o.beta) as tf.Scalar;
    const ce = ceRaw.mul(o.gamma) as tf.Scalar;
    return { total: kl.add(feat).add(ce), kl, feat, ce };
  }
  const kl = z2
    .mul(z2.maximum(1e-12).log().sub(tf.logSoftmax(f)))
    .sum()
    .div(batch)
    .mul(1 - o.alpha) as tf.Scalar;
  const flat = zs.sub(zPrime).reshape([batch, -1]);
  const scale = o.featureNorm === 'rms' ? 1 / Math.sqrt(zs.size / batch) : 1;
  const feat = flat
    .square()
    .sum(1)
    .add(1e-12)
    .sqrt()
    .mean()
    .mul(o.beta * scale) as tf.Scalar;
  const ce = ceRaw.mul(o.alpha) as tf.Scalar;
  return { total: kl.add(feat).add(ce), kl, feat, ce };
}
