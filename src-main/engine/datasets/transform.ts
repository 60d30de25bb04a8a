/**
 * Pixel-level transforms shared by the loaders and the split helpers: class-balanced
 * prefixes, scaling to [0, 1], resizing / colour conversion, and per-channel normalisation.
 */
import { AuditError } from '../errors';
import type { Dataset, ImageSet, Normalization, RawSplit } from './types';

/** Below this a channel's std is treated as 1 (a constant channel is only shifted). */
const MIN_STD = 1e-6;

/**
 * How many images each class gets when at most `max` are kept: equal shares as far as each
 * class has images (water-filling), leftover places to the lowest class indices.
 */
export function balancedQuotas(classCounts: ArrayLike<number>, max: number): number[] {
  const k = classCounts.length;
  const quotas = new Array<number>(k).fill(0);
  let left = max;
  for (;;) {
    const open: number[] = [];
    for (let c = 0; c < k; c++) if (quotas[c] < classCounts[c]) open.push(c);
    if (left <= 0 || open.length === 0) break;
    const share = Math.floor(left / open.length);
    if (share === 0) {
      for (let i = 0; i < left; i++) quotas[open[i]]++;
      break;
    }
    for (const c of open) {
      const take = Math.min(share, classCounts[c] - quotas[c]);
      quotas[c] += take;
      left -= take;
    }
  }
  return quotas;
}

export function countPerClass(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

/**
 * Indices of a deterministic class-balanced prefix: the first `quota[c]` images of each class
 * in file order (quotas from `balancedQuotas`), returned in ascending (file) order.
 * With `max` undefined or at least the number of images, every index.
 */
export function balancedPrefixIndices(labels: ArrayLike<number>, numClasses: number, max?: number): Int32Array {
  const n = labels.length;
  if (max === undefined || max >= n) {
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return all;
  }
  const quotas = balancedQuotas(countPerClass(labels, numClasses), max);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (quotas[c] > 0) {
      quotas[c]--;
      out.push(i);
    }
  }
  return Int32Array.from(out);
}

/** The images at `indices` of a raw split, in that order. */
export function gatherRaw(raw: RawSplit, indices: Int32Array): RawSplit {
  const size = raw.height * raw.width * raw.channels;
  if (indices.length === raw.count) {
    let identity = true;
    for (let i = 0; i < indices.length && identity; i++) identity = indices[i] === i;
    if (identity) return raw;
  }
  const pixels = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    pixels.set(raw.pixels.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = raw.labels[j];
  }
  return { ...raw, pixels, labels, count: indices.length };
}

/** Uint8 pixels scaled to [0, 1]. */
export function scaleToUnit(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}

/**
 * Resizes NHWC images (values in [0, 1]) bilinearly with half-pixel centres and converts
 * channels: grayscale to RGB repeats the value, RGB to grayscale takes the Rec. 601 luma
 * (0.299 R + 0.587 G + 0.114 B). Returns the input when nothing changes.
 */
export function resizeImages(
  images: Float32Array,
  count: number,
  from: { height: number; width: number; channels: number },
  to: { height: number; width: number; channels: number },
): Float32Array {
  if (from.height === to.height && from.width === to.width && from.channels === to.channels) return images;
  if (![1, 3].includes(from.channels) || ![1, 3].includes(to.channels)) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `Cannot convert ${from.channels}-channel images to ${to.channels} channels`,
      {
        hint: 'Use 1 (grayscale) or 3 (RGB) channels.',
      },
    );
  }
  const { height: h0, width: w0, channels: c0 } = from;
  const { height: h1, width: w1, channels: c1 } = to;
  // Precompute source rows/columns and weights for each output row/column.
  const axis = (n0: number, n1: number): { lo: Int32Array; hi: Int32Array; f: Float32Array } => {
    const lo = new Int32Array(n1);
    const hi = new Int32Array(n1);
    const f = new Float32Array(n1);
    const scale = n0 / n1;
    for (let i = 0; i < n1; i++) {
      const s = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), n0 - 1);
      lo[i] = Math.floor(s);
      hi[i] = Math.min(lo[i] + 1, n0 - 1);
      f[i] = s - lo[i];
    }
    return { lo, hi, f };
  };
  const ys = axis(h0, h1);
  const xs = axis(w0, w1);
  const in0 = h0 * w0 * c0;
  const in1 = h1 * w1 * c1;
  const out = new Float32Array(count * in1);
  const px = new Float32Array(c0);
  for (let n = 0; n < count; n++) {
    const base0 = n * in0;
    let o = n * in1;
    for (let y = 0; y < h1; y++) {
      const r0 = base0 + ys.lo[y] * w0 * c0;
      const r1 = base0 + ys.hi[y] * w0 * c0;
      const fy = ys.f[y];
      for (let x = 0; x < w1; x++) {
        const a = xs.lo[x] * c0;
        const b = xs.hi[x] * c0;
        const fx = xs.f[x];
        for (let c = 0; c < c0; c++) {
          const top = images[r0 + a + c] * (1 - fx) + images[r0 + b + c] * fx;
          const bottom = images[r1 + a + c] * (1 - fx) + images[r1 + b + c] * fx;
          px[c] = top * (1 - fy) + bottom * fy;
        }
        if (c0 === c1) {
          for (let c = 0; c < c1; c++) out[o++] = px[c];
        } else if (c0 === 1) {
          out[o++] = px[0];
          out[o++] = px[0];
          out[o++] = px[0];
        } else {
          out[o++] = 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];
        }
      }
    }
  }
  return out;
}

/**
 * Per-channel population mean and std (divide by N) of NHWC values; a std below 1e-6 is
 * stored as 1 so a constant channel does not blow up.
 */
export function computeNormalization(images: Float32Array, channels: number): Normalization {
  const n = images.length / channels;
  const sum = new Float64Array(channels);
  for (let i = 0; i < images.length; i += channels) {
    for (let c = 0; c < channels; c++) sum[c] += images[i + c];
  }
  const mean = Array.from(sum, (s) => (n > 0 ? s / n : 0));
  const sq = new Float64Array(channels);
  for (let i = 0; i < images.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const d = images[i + c] - mean[c];
      sq[c] += d * d;
    }
  }
  const std = Array.from(sq, (s) => {
    const v = n > 0 ? Math.sqrt(s / n) : 0;
    return v < MIN_STD ? 1 : v;
  });
  return { mean, std };
}

/** Applies `(x - mean[c]) / std[c]` in place. */
export function normalizeInPlace(images: Float32Array, channels: number, norm: Normalization): void {
  checkNormalization(norm, channels);
  const inv = norm.std.map((s) => 1 / s);
  for (let i = 0; i < images.length; i += channels) {
    for (let c = 0; c < channels; c++) images[i + c] = (images[i + c] - norm.mean[c]) * inv[c];
  }
}

export function checkNormalization(norm: Normalization, channels: number): void {
  const ok =
    norm.mean.length === channels &&
    norm.std.length === channels &&
    norm.mean.every(Number.isFinite) &&
    norm.std.every((s) => Number.isFinite(s) && s > 0);
  if (!ok) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `Normalisation statistics do not fit ${channels}-channel images (mean ${JSON.stringify(norm.mean)}, std ${JSON.stringify(norm.std)})`,
      { hint: "Pass one finite mean and one positive std per channel, e.g. the victim data set's `normalization`." },
    );
  }
}

/** Values of `set` as plain [0, 1] pixels (undoes `set.normalization`); a fresh array. */
export function denormalizedImages(set: ImageSet): Float32Array {
  const out = new Float32Array(set.images);
  const norm = set.normalization;
  if (!norm) return out;
  checkNormalization(norm, set.channels);
  const ch = set.channels;
  for (let i = 0; i < out.length; i += ch) {
    for (let c = 0; c < ch; c++) out[i + c] = out[i + c] * norm.std[c] + norm.mean[c];
  }
  return out;
}

/**
 * Re-normalises with other statistics (e.g. the victim's, so a second data set is fed to
 * the victim's model the way its own data was): the set's current normalisation is undone
 * (a set without one is taken as [0, 1] pixels) and `normalization` applied. Returns a new
 * set / data set; the input is not changed.
 */
export function normalizeWith(set: ImageSet, normalization: Normalization): ImageSet;
export function normalizeWith(set: Dataset, normalization: Normalization): Dataset;
export function normalizeWith(set: ImageSet | Dataset, normalization: Normalization): ImageSet | Dataset {
  if ('train' in set) {
    return {
      ...set,
      train: normalizeWith(set.train, normalization),
      test: normalizeWith(set.test, normalization),
      normalization: copyNormalization(normalization),
    };
  }
  checkNormalization(normalization, set.channels);
  const images = denormalizedImages(set);
  normalizeInPlace(images, set.channels, normalization);
  return { ...set, images, normalization: copyNormalization(normalization) };
}

export function copyNormalization(n: Normalization): Normalization {
  return { mean: [...n.mean], std: [...n.std] };
}
