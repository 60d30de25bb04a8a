/**
 * ZEST's distance between two LIME signatures: L2 and 1 - cosine, after ZEST's greedy class
 * alignment (`lime_align`), and the normalisation by the reference models' mean distance.
 * Pure functions on arrays, kept apart from the model queries so that they can be checked
 * against the ZEST code's numbers without a model.
 */
import { AuditError } from '../errors';

/** Euclidean distance of two equally long vectors. */
export function l2Distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}

/**
 * 1 - cosine similarity, clamped to [0, 2]. Two zero vectors are at distance 0, a zero vector
 * and a non-zero one at distance 1 (cosine undefined; taken as 0).
 */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 && nb === 0) return 0;
  if (na === 0 || nb === 0) return 1;
  // sqrt(na * nb): for identical vectors this is exactly na (IEEE sqrt of a rounded square), so the distance is exactly 0
  return Math.min(2, Math.max(0, 1 - dot / Math.sqrt(na * nb)));
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} and ${b.length}`);
}

export type ZestMetric = 'l2' | 'cosine';

const DISTANCES: Record<ZestMetric, (a: ArrayLike<number>, b: ArrayLike<number>) => number> = {
  l2: l2Distance,
  cosine: cosineDistance,
};

function column(w: ArrayLike<number>, rows: number, cols: number, j: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = w[r * cols + j];
  return out;
}

export interface Alignment {
  /** The model with fewer classes (the victim on a tie), flattened rows x classes. */
  a: Float64Array;
  /** The other one's columns matched to a's, flattened rows x (a's classes). */
  b: Float64Array;
  /** pairs[j] = column of the other model matched to column j of the first. */
  pairs: Int32Array;
  /** Whether `a` holds the victim (w1). */
  victimFirst: boolean;
}

/**
 * ZEST's `lime_align`: w1 (rows x c1, victim) and w2 (rows x c2, suspect), row-major. The
 * one with fewer classes (w1 on a tie) keeps its order; for each of its classes, in order of
 * increasing distance, the closest unused class of the other is taken. Ties go to the first
 * pair in row-major order (numpy argmin).
 */
export function greedyAlign(
  w1: ArrayLike<number>,
  c1: number,
  w2: ArrayLike<number>,
  c2: number,
  rows: number,
  metric: ZestMetric,
): Alignment {
  if (w1.length !== rows * c1 || w2.length !== rows * c2)
    throw new RangeError('greedyAlign: weight shapes do not match rows x classes');
  const victimFirst = c1 <= c2;
  const [p, cp, q, cq] = victimFirst ? [w1, c1, w2, c2] : [w2, c2, w1, c1];
  const dist = DISTANCES[metric];
  const pc = Array.from({ length: cp }, (_, j) => column(p, rows, cp, j));
  const qc = Array.from({ length: cq }, (_, k) => column(q, rows, cq, k));
  const d = new Float64Array(cp * cq);
  for (let j = 0; j < cp; j++) for (let k = 0; k < cq; k++) d[j * cq + k] = dist(pc[j], qc[k]);
  const usedRow = new Uint8Array(cp);
  const usedCol = new Uint8Array(cq);
  const pairs = new Int32Array(cp);
  for (let step = 0; step < cp; step++) {
    let best = Infinity;
    let bj = -1;
    let bk = -1;
    for (let j = 0; j < cp; j++) {
      if (usedRow[j]) continue;
      for (let k = 0; k < cq; k++) {
        if (usedCol[k]) continue;
        const v = d[j * cq + k];
        if (v < best || bj < 0) {
          best = v;
          bj = j;
          bk = k;
        }
      }
    }
    usedRow[bj] = 1;
    usedCol[bk] = 1;
    pairs[bj] = bk;
  }
  const a = Float64Array.from(p);
  const b = new Float64Array(rows * cp);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cp; j++) b[r * cp + j] = q[r * cq + pairs[j]];
  return { a, b, pairs, victimFirst };
}

/**
 * ZEST distances between two stacked LIME signatures (rows x classes each, row-major).
 * `alignment` 'greedy' aligns per metric with that metric's column distance, as ZEST does;
 * 'none' compares class j with class j (class counts must match).
 */
export function zestDistances(
  victim: ArrayLike<number>,
  victimClasses: number,
  suspect: ArrayLike<number>,
  suspectClasses: number,
  rows: number,
  alignment: 'greedy' | 'none' = 'greedy',
): Record<ZestMetric, number> {
  const out = { l2: 0, cosine: 0 };
  for (const metric of ['l2', 'cosine'] as const) {
    if (alignment === 'none') {
      if (victimClasses !== suspectClasses)
        throw new RangeError(`alignment 'none' needs equal class counts, got ${victimClasses} and ${suspectClasses}`);
      out[metric] = DISTANCES[metric](victim, suspect);
    } else {
      const { a, b } = greedyAlign(victim, victimClasses, suspect, suspectClasses, rows, metric);
      out[metric] = DISTANCES[metric](a, b);
    }
  }
  return out;
}

/**
 * ZEST's normalised distance: a distance divided by the mean distance of the reference
 * (independently trained) models; below 1 means closer than an unrelated model.
 */
export function normalizeByReference(distance: number, referenceMean: number): number {
  if (!(referenceMean > 0) || !Number.isFinite(referenceMean)) {
    throw new AuditError('INVALID_ARGUMENT', `The reference distance must be a positive number, got ${referenceMean}`, {
      hint: 'Score at least one independently trained reference model first; its mean distance normalises the others.',
    });
  }
  return distance / referenceMean;
}
