/**
 * ModelDiff's input pairs (x_k, x'_k), from the victim only (the verifier extracts them
 * once, before any suspect is known):
 *
 * - 'pgd': x'_k is x_k's adversarial partner: L-infinity PGD on the victim's cross-entropy
 *   for x_k's label, no random start, step 2.5 eps / steps (Madry et al.), each pixel kept
 *   within eps of x_k and within the valid input range. The RemovalNet code's pairs.
 * - 'mutation': ModelDiff's search (Li et al., ISSTA 2021, gen_profiling_inputs_search):
 *   each iteration picks one pair and one input coordinate of x'_k, tries x'_k +/- eps
 *   there and keeps the better change when it raises divergence x diversity, where
 *   divergence = mean_k ||F(x'_k) - F(x_k)||_2 and diversity = the mean pairwise L2
 *   distance among the F(x'_k) (F: victim probabilities). ModelDiff's own code scores
 *   with both models being compared; a verifier has only the victim, so only its outputs.
 *
 * Both budgets are given in [0, 1]-pixel units and converted per channel with the data's
 * normalisation (eps / std[c]).
 */
import * as tf from '@tensorflow/tfjs';
import { throwIfCancelled, type RunContext } from '../context';
import type { Rng } from '../rng';
import { l2Distance, softmaxRows } from './math';
import type { InputBounds } from './probe-data';
import { QUERY_BATCH, assertFinite, inputCount, queryModel } from './query';
import type { FingerprintArray } from './types';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface PgdOptions {
  /** Budget per channel in model-input units. */
  eps: Float32Array;
  steps: number;
  bounds: InputBounds;
  ctx: RunContext;
  stage: string;
}

/** Adversarial partners of `seeds` for `labels` on `model`. Spends steps x n queries. */
export async function pgdPartners(
  model: tf.LayersModel,
  seeds: FingerprintArray,
  labels: Int32Array,
  numClasses: number,
  o: PgdOptions,
): Promise<{ inputs: FingerprintArray; queries: number }> {
  const n = inputCount(seeds);
  const rowShape = seeds.shape.slice(1) as [number, number, number];
  const per = rowShape[0] * rowShape[1] * rowShape[2];
  const out = new Float32Array(seeds.data.length);
  const eps = tf.tensor1d(o.eps);
  const lower = tf.tensor1d(o.bounds.lower);
  const upper = tf.tensor1d(o.bounds.upper);
  const alpha = tf.tensor1d(o.eps.map((e) => (2.5 * e) / Math.max(1, o.steps)));
  const lossOf =
    (y: tf.Tensor) =>
    (x: tf.Tensor): tf.Scalar =>
      tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: false }) as tf.Tensor) as tf.Scalar;
  let queries = 0;
  try {
    for (let start = 0, bi = 0; start < n; start += QUERY_BATCH, bi++) {
      const b = Math.min(QUERY_BATCH, n - start);
      const x0 = tf.tensor4d(seeds.data.slice(start * per, (start + b) * per), [b, ...rowShape]);
      const y = tf.tidy(() =>
        tf.oneHot(tf.tensor1d(labels.slice(start, start + b), 'int32'), numClasses).cast('float32'),
      );
      const lo = tf.tidy(() => tf.maximum(x0.sub(eps), lower));
      const hi = tf.tidy(() => tf.minimum(x0.add(eps), upper));
      const grad = tf.grad(lossOf(y));
      let x: tf.Tensor = x0.clone();
      try {
        for (let s = 0; s < o.steps; s++) {
          throwIfCancelled(o.ctx, 'ModelDiff pair generation');
          const prev = x;
          x = tf.tidy(() => tf.minimum(tf.maximum(prev.add(grad(prev).sign().mul(alpha)), lo), hi));
          prev.dispose();
          queries += b;
          o.ctx.progress?.({
            stage: o.stage,
            iteration: bi * o.steps + s + 1,
            total: Math.ceil(n / QUERY_BATCH) * o.steps,
          });
          await nextTurn();
        }
        out.set(x.dataSync(), start * per);
      } finally {
        tf.dispose([x0, y, lo, hi, x]);
      }
    }
  } finally {
    tf.dispose([eps, lower, upper, alpha]);
  }
  return { inputs: { shape: seeds.shape.slice(), data: out }, queries };
}

export interface MutationOptions {
  /** Mutation size per channel in model-input units. */
  eps: Float32Array;
  iterations: number;
  bounds: InputBounds;
  rng: Rng;
  ctx: RunContext;
  stage: string;
}

/** ModelDiff's mutation search for partners of `seeds` (see the file comment). Spends n + 2 x iterations queries. */
export async function mutationPartners(
  model: tf.LayersModel,
  seeds: FingerprintArray,
  numClasses: number,
  o: MutationOptions,
): Promise<{ inputs: FingerprintArray; queries: number; accepted: number }> {
  const n = inputCount(seeds);
  const rowShape = seeds.shape.slice(1);
  const per = rowShape.reduce((p, d) => p * d, 1);
  const channels = rowShape[rowShape.length - 1];
  const C = numClasses;
  const probsOf = (a: FingerprintArray): Float32Array =>
    softmaxRows(queryModel(model, a, { role: 'victim', what: 'ModelDiff mutation search' }).data, C);
  const base = probsOf(seeds);
  const partners = Float32Array.from(seeds.data);
  const cur = Float32Array.from(base);
  let queries = n;
  const pairCount = (n * (n - 1)) / 2;

  // Running sums: divergence over k, diversity over pairs j < k.
  let divergence = 0;
  let diversity = 0;
  for (let k = 0; k < n; k++) for (let j = k + 1; j < n; j++) diversity += l2Distance(cur, cur, k * C, j * C, C);
  const scoreOf = (div: number, dvs: number): number => (div / n) * (pairCount > 0 ? dvs / pairCount : 1);
  let score = scoreOf(divergence, diversity);
  let accepted = 0;

  const candidate = new Float32Array(2 * per);
  for (let it = 0; it < o.iterations; it++) {
    throwIfCancelled(o.ctx, 'ModelDiff mutation search');
    const k = o.rng.int(n);
    const d = o.rng.int(per);
    const ch = d % channels;
    const row = partners.subarray(k * per, (k + 1) * per);
    candidate.set(row, 0);
    candidate.set(row, per);
    candidate[d] = Math.min(o.bounds.upper[ch], row[d] + o.eps[ch]);
    candidate[per + d] = Math.max(o.bounds.lower[ch], row[d] - o.eps[ch]);
    const p = softmaxRows(
      queryModel(
        model,
        { shape: [2, ...rowShape], data: candidate },
        { role: 'victim', what: 'ModelDiff mutation search' },
      ).data,
      C,
    );
    queries += 2;
    const oldDiv = l2Distance(cur, base, k * C, k * C, C);
    let oldRow = 0;
    for (let j = 0; j < n; j++) if (j !== k) oldRow += l2Distance(cur, cur, k * C, j * C, C);
    let bestScore = score;
    let best = -1;
    for (let side = 0; side < 2; side++) {
      let row2 = 0;
      for (let j = 0; j < n; j++) if (j !== k) row2 += l2Distance(p, cur, side * C, j * C, C);
      const s = scoreOf(divergence - oldDiv + l2Distance(p, base, side * C, k * C, C), diversity - oldRow + row2);
      if (s > bestScore) {
        bestScore = s;
        best = side;
      }
    }
    if (best >= 0) {
      divergence += l2Distance(p, base, best * C, k * C, C) - oldDiv;
      let row2 = 0;
      for (let j = 0; j < n; j++) if (j !== k) row2 += l2Distance(p, cur, best * C, j * C, C);
      diversity += row2 - oldRow;
      row.set(candidate.subarray(best * per, (best + 1) * per));
      cur.set(p.subarray(best * C, (best + 1) * C), k * C);
      score = bestScore;
      accepted++;
    }
    if ((it + 1) % 50 === 0 || it + 1 === o.iterations) {
      o.ctx.progress?.({ stage: o.stage, iteration: it + 1, total: o.iterations, values: { score, accepted } });
      await nextTurn();
    }
  }
  assertFinite(partners, per, { role: 'victim', what: 'ModelDiff mutation search' });
  return { inputs: { shape: seeds.shape.slice(), data: partners }, queries, accepted };
}
