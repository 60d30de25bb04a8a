/**
 * The defences' metrics as pure functions on plain arrays (no TF.js), so each can be pinned
 * on hand-computed cases. Row-major matrices are passed as a flat Float32Array plus the row
 * length. Paper references are to RemovalNet Section 2.3 (Eq. 1-5).
 */

/** Rows of a flat row-major matrix: `data.length / cols`, checked to divide exactly. */
export function rowCount(data: ArrayLike<number>, cols: number): number {
  if (!(cols > 0) || data.length % cols !== 0)
    throw new RangeError(`${data.length} values do not form rows of ${cols}`);
  return data.length / cols;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`length mismatch: ${a.length} vs ${b.length}`);
}

/** Softmax of each row (max-subtracted, so large logits do not overflow). */
export function softmaxRows(logits: ArrayLike<number>, cols: number): Float32Array {
  const n = rowCount(logits, cols);
  const out = new Float32Array(logits.length);
  for (let i = 0; i < n; i++) {
    const o = i * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, logits[o + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += out[o + j] = Math.exp(logits[o + j] - max);
    for (let j = 0; j < cols; j++) out[o + j] /= sum;
  }
  return out;
}

/** Index of the largest value of each row (the first one on ties, like tf.argMax). */
export function argmaxRows(data: ArrayLike<number>, cols: number): Int32Array {
  const n = rowCount(data, cols);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (data[i * cols + j] > data[i * cols + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Index of the smallest value of each row (the first one on ties). */
export function argminRows(data: ArrayLike<number>, cols: number): Int32Array {
  const n = rowCount(data, cols);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (data[i * cols + j] < data[i * cols + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Euclidean norm of a - b over `len` values starting at the given offsets. */
export function l2Distance(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  aOffset = 0,
  bOffset = 0,
  len = a.length,
): number {
  let s = 0;
  for (let j = 0; j < len; j++) {
    const d = a[aOffset + j] - b[bOffset + j];
    s += d * d;
  }
  return Math.sqrt(s);
}

/**
 * Cosine similarity of two vectors (of `len` values from the given offsets). Conventions
 * for zero vectors, where the cosine is undefined: two zero vectors are identical (1); a
 * zero vector against a non-zero one shares no direction (0).
 */
export function cosineSimilarity(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  aOffset = 0,
  bOffset = 0,
  len = a.length,
): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let j = 0; j < len; j++) {
    const x = a[aOffset + j];
    const y = b[bOffset + j];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  // Clamped: rounding can push |cos| of (anti)parallel vectors a hair past 1.
  return Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
}

/**
 * DeepJudge LOD (Eq. 1, p = 2): mean over inputs of the L2 norm between the two models'
 * per-channel vectors. `a`, `b`: [inputs, channels] row-major.
 */
export function layerOutputDistance(a: ArrayLike<number>, b: ArrayLike<number>, channels: number): number {
  checkSameLength(a, b);
  const n = rowCount(a, channels);
  if (n === 0) throw new RangeError('LOD of an empty set');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += l2Distance(a, b, i * channels, i * channels, channels);
  return sum / n;
}

/**
 * DeepJudge's activation status of one input's channel vector: min-max normalised
 * ((v - min) / (max - min + 1e-6)) and set to 1 where strictly above `threshold` (0.5).
 */
export function activationPattern(v: ArrayLike<number>, offset = 0, len = v.length, threshold = 0.5): Uint8Array {
  let min = Infinity;
  let max = -Infinity;
  for (let j = 0; j < len; j++) {
    min = Math.min(min, v[offset + j]);
    max = Math.max(max, v[offset + j]);
  }
  const out = new Uint8Array(len);
  for (let j = 0; j < len; j++) out[j] = (v[offset + j] - min) / (max - min + 1e-6) > threshold ? 1 : 0;
  return out;
}

/**
 * DeepJudge LAD: per input, the L1 difference of the two activation patterns summed over
 * channels, averaged over inputs (the scale of the paper's tables). With `normalized`, also
 * divided by the channel count (Eq. 2 as printed: values in [0, 1]).
 */
export function layerActivationDistance(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  channels: number,
  normalized = false,
  threshold = 0.5,
): number {
  checkSameLength(a, b);
  const n = rowCount(a, channels);
  if (n === 0) throw new RangeError('LAD of an empty set');
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const pa = activationPattern(a, i * channels, channels, threshold);
    const pb = activationPattern(b, i * channels, channels, threshold);
    for (let j = 0; j < channels; j++) sum += Math.abs(pa[j] - pb[j]);
  }
  return normalized ? sum / (n * channels) : sum / n;
}

/**
 * ModelDiff's decision distance vector: DDV_k = 1 - cos(F(x_k), F(x'_k)) for K pairs.
 * `first`, `second`: [K, classes] outputs (probabilities) on x_k and x'_k.
 */
export function pairDecisionDistances(
  first: ArrayLike<number>,
  second: ArrayLike<number>,
  classes: number,
): Float32Array {
  checkSameLength(first, second);
  const k = rowCount(first, classes);
  const out = new Float32Array(k);
  for (let i = 0; i < k; i++) out[i] = 1 - cosineSimilarity(first, second, i * classes, i * classes, classes);
  return out;
}

/**
 * The RemovalNet paper's Eq. 3 form of the DDV: the L2 distances ||F(x_i) - F(x_j)|| of all
 * pairs i < j of the N outputs, in row order (0,1), (0,2), ..., (N-2,N-1).
 */
export function pairwiseDistances(outputs: ArrayLike<number>, classes: number): Float32Array {
  const n = rowCount(outputs, classes);
  const out = new Float32Array((n * (n - 1)) / 2);
  let p = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) out[p++] = l2Distance(outputs, outputs, i * classes, j * classes, classes);
  return out;
}

/** Mean L2 distance over all pairs i < j of the rows (ModelDiff's output diversity); 0 below two rows. */
export function meanPairwiseDistance(outputs: ArrayLike<number>, classes: number): number {
  const d = pairwiseDistances(outputs, classes);
  if (d.length === 0) return 0;
  let s = 0;
  for (const v of d) s += v;
  return s / d.length;
}

/** Share of positions where the two label arrays agree (IPGuard's MR, Eq. 5; fidelity agreement and accuracy). */
export function matchingRate(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkSameLength(expected, actual);
  if (expected.length === 0) throw new RangeError('matching rate of an empty set');
  let same = 0;
  for (let i = 0; i < expected.length; i++) if (expected[i] === actual[i]) same++;
  return same / expected.length;
}

/** Index of the first non-finite value, or -1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}
