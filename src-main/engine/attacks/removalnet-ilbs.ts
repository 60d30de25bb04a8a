/**
 * RemovalNet's logit level (Algorithm 2): the iterative least-like boundary strategy
 * (ILBS), which mixes each sample's output with its farthest batch partner's.
 */
import * as tf from '@tensorflow/tfjs';

/** ILBS line-search grid of the authors' code. */
export const ILBS_GRID_CODE: readonly number[] = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/** ILBS grid of the paper's Algorithm 2 (includes 1.0: the unchanged vector, so a match always exists). */
export const ILBS_GRID_PAPER: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

export interface IlbsResult {
  /** Target probability vectors z2, [batch, classes]. */
  targets: tf.Tensor2D;
  /** Partner j of each sample (the farthest output; the sample itself when all are equal). */
  partners: Int32Array;
  /** lambda used per sample (1 when no grid value kept the label: z2 = p_i). */
  lambdas: Float32Array;
}

/**
 * Iterative least-like boundary strategy. For each sample i: partner j = argmax_j ||p_i -
 * p_j||_2 (first on ties; i itself when every distance is 0), then the SMALLEST lambda of
 * `grid` (scanned in ascending order) with argmax(lambda*p_i + (1-lambda)*p_j) = labels[i]
 * gives z2_i = that mix; when none does, z2_i = p_i.
 *
 * The paper's pseudo-code (Algorithm 2, lines 19-25) assigns z2 inside the loop for every
 * lambda that keeps the label and never leaves it, so read literally the LAST matching
 * lambda wins, and with its grid ending at 1.0 (p_i itself) that is always "no change"; it
 * also writes F_V(x_i) on both sides of the mix. The authors' code stops at the first
 * (smallest) lambda that keeps the label, which is what this implements.
 */
export function ilbs(probs: tf.Tensor2D, labels: ArrayLike<number>, grid: readonly number[]): IlbsResult {
  const [n, k] = probs.shape;
  const p = probs.dataSync();
  const sorted = [...grid].sort((a, b) => a - b);
  const partners = new Int32Array(n);
  const lambdas = new Float32Array(n);
  const out = new Float32Array(n * k);
  const mix = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let j = i;
    for (let m = 0; m < n; m++) {
      let d = 0;
      for (let c = 0; c < k; c++) {
        const e = p[i * k + c] - p[m * k + c];
        d += e * e;
      }
      if (d > best) {
        best = d;
        j = m;
      }
    }
    partners[i] = j;
    lambdas[i] = 1;
    out.set(p.subarray(i * k, (i + 1) * k), i * k);
    for (const lambda of sorted) {
      for (let c = 0; c < k; c++) mix[c] = lambda * p[i * k + c] + (1 - lambda) * p[j * k + c];
      let arg = 0;
      for (let c = 1; c < k; c++) if (mix[c] > mix[arg]) arg = c;
      if (arg === labels[i]) {
        lambdas[i] = lambda;
        for (let c = 0; c < k; c++) out[i * k + c] = mix[c];
        break;
      }
    }
  }
  return { targets: tf.tensor2d(out, [n, k]), partners, lambdas };
}
