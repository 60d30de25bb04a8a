/**
 * Probe inputs for the defences: rows gathered from an image set into plain arrays, the
 * valid input range per channel (where generated inputs are clipped) and the size of one
 * pixel unit in model-input units (how budgets given on [0, 1] pixels such as ModelDiff's
 * eps = 0.03 map onto normalised data).
 */
import type { ImageSet } from '../datasets/types';
import { AuditError } from '../errors';
import { shuffledIndices, type Rng } from '../rng';
import type { FingerprintArray } from './types';

/** Values per image. */
export function imageSize(data: Pick<ImageSet, 'height' | 'width' | 'channels'>): number {
  return data.height * data.width * data.channels;
}

/** The given rows of `data` as an [n, h, w, c] array (copied). */
export function gatherImages(data: ImageSet, indices: ArrayLike<number>): FingerprintArray {
  const per = imageSize(data);
  const out = new Float32Array(indices.length * per);
  for (let i = 0; i < indices.length; i++)
    out.set(data.images.subarray(indices[i] * per, (indices[i] + 1) * per), i * per);
  return { shape: [indices.length, data.height, data.width, data.channels], data: out };
}

/** All images of `data` as an [n, h, w, c] array (a view, not a copy). */
export function allImages(data: ImageSet): FingerprintArray {
  return {
    shape: [data.count, data.height, data.width, data.channels],
    data: data.images.subarray(0, data.count * imageSize(data)),
  };
}

/** Rows of `a` followed by rows of `b` (same row shape). */
export function concatRows(a: FingerprintArray, b: FingerprintArray): FingerprintArray {
  if (a.shape.slice(1).join() !== b.shape.slice(1).join())
    throw new RangeError(`row shapes differ: [${a.shape}] vs [${b.shape}]`);
  const data = new Float32Array(a.data.length + b.data.length);
  data.set(a.data);
  data.set(b.data, a.data.length);
  return { shape: [a.shape[0] + b.shape[0], ...a.shape.slice(1)], data };
}

/** Integer labels stored as a float array (fingerprints hold float32 only). */
export function labelArray(labels: ArrayLike<number>): FingerprintArray {
  return { shape: [labels.length], data: Float32Array.from(labels) };
}

/** Per-channel lower and upper bounds of a valid input. */
export interface InputBounds {
  lower: Float32Array;
  upper: Float32Array;
}

/**
 * Where generated inputs may go: the image of pixel range [0, 1] under the data's
 * normalisation when it has one; otherwise (hand-built sets) the observed per-channel
 * minimum and maximum of the data.
 */
export function inputBounds(data: ImageSet): InputBounds {
  const c = data.channels;
  const lower = new Float32Array(c);
  const upper = new Float32Array(c);
  const norm = data.normalization;
  if (norm && norm.mean.length === c && norm.std.length === c) {
    for (let k = 0; k < c; k++) {
      lower[k] = (0 - norm.mean[k]) / norm.std[k];
      upper[k] = (1 - norm.mean[k]) / norm.std[k];
    }
    return { lower, upper };
  }
  lower.fill(Infinity);
  upper.fill(-Infinity);
  const n = data.count * imageSize(data);
  for (let i = 0; i < n; i++) {
    const k = i % c;
    const v = data.images[i];
    if (v < lower[k]) lower[k] = v;
    if (v > upper[k]) upper[k] = v;
  }
  return { lower, upper };
}

/**
 * Size of one [0, 1]-pixel unit in model-input units, per channel: 1 / std[c] for
 * normalised data, 1 for plain pixels.
 */
export function pixelUnit(data: ImageSet): Float32Array {
  const norm = data.normalization;
  const out = new Float32Array(data.channels).fill(1);
  if (norm && norm.std.length === data.channels) for (let k = 0; k < data.channels; k++) out[k] = 1 / norm.std[k];
  return out;
}

/** Refuses an empty probe set or one whose images do not fit the model's input. */
export function checkProbeData(data: ImageSet, inputShape: readonly number[], defense: string): void {
  if (data.count === 0) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `${defense} needs data to draw fingerprint seeds from, and the given set is empty`,
      {
        hint: "Pass the victim data set's test split (or any labelled data of the victim's task).",
      },
    );
  }
  const shape = [data.height, data.width, data.channels];
  if (shape.join() !== inputShape.join()) {
    throw new AuditError(
      'DATASET_MISMATCH',
      `${defense}: the data's images are ${shape.join('x')} but the victim takes ${inputShape.join('x')}`,
      {
        hint: "Load the data with the victim's input shape.",
      },
    );
  }
}

/** `count` distinct indices of 0..n-1 drawn with `rng`, in ascending order (all of them when count >= n). */
export function sampleIndices(n: number, count: number, rng: Rng): Int32Array {
  if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
  return shuffledIndices(n, rng).slice(0, count).sort();
}

/** `count` of the given candidate indices drawn with `rng`, in ascending order. */
export function sampleFrom(candidates: readonly number[], count: number, rng: Rng): number[] {
  const picked = sampleIndices(candidates.length, count, rng);
  return Array.from(picked, (i) => candidates[i]);
}
