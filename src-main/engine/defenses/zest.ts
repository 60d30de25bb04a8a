/**
 * ZEST (Jia et al., "A Zest of LIME: Towards Architecture-Independent Model Distances",
 * ICLR 2022), black-box, as the ZEST code and the RemovalNet code run it:
 *
 *  - `references` reference images are drawn (seeded, without replacement, kept in data
 *    order) from the data. ZEST takes the first 128 test images; a seeded draw avoids a
 *    single-class prefix in class-sorted data.
 *  - Each is segmented with quickshift (LIME's kernel 4, ratio 0.2, max dist 200; labels match
 *    scikit-image up to its tie-breaking noise) on its de-normalised pixels
 *    (`ImageSet.normalization`, values in [0, 1]; the RemovalNet code does the same, the ZEST
 *    code feeds 0..255 floats to rgb2lab). With these settings small images get very few
 *    segments (scikit-image gives 28x28 Fashion-MNIST images 1.2 on average), and an image
 *    with one segment contributes just its logits. `segmentation=grid` is the alternative the
 *    reference run used (4x4 cells).
 *  - `masks` random binary masks per image over its segments, the first all ones (as the ZEST
 *    code, `lime_data[0, :] = 1`). A masked segment is set to 0 after normalisation (the
 *    ZEST `fudged_image` of zeros applied to normalised images).
 *  - A model's signature: per image, its logits Y (masks x classes) on the masked images are
 *    regressed on the mask matrix M (masks x segments) by W = pinv(M^T M) M^T Y. As in the
 *    ZEST code there is no intercept column and no LIME proximity weighting (ZEST swaps
 *    LIME's weighted ridge for plain least squares). The per-image W are stacked along the
 *    segment axis: (total segments) x classes.
 *  - Distance: classes of the suspect are aligned to the victim's greedily (ZEST's
 *    `lime_align`: repeatedly take the closest remaining (victim class, suspect class) pair
 *    by the metric's own column distance; the model with fewer classes keeps its order),
 *    then the L2 norm of the difference of the flattened signatures and 1 - cosine.
 *
 * Identical masked images (the same mask row twice for one image; the all-masked image,
 * zeros, for every image) are queried once: the least-squares fit still sees every row, so
 * the result is ZEST's, at a fraction of the queries when images have few segments.
 * `Fingerprints.queries` counts the forward passes actually made.
 *
 * The victim's signature is computed at extract time and cached in the fingerprints, so
 * scoring a suspect queries only the suspect. Both signatures are rounded to float32
 * before comparing, so fingerprints scored in memory and read back from disk agree exactly.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamSpec, ParamValues } from '../../../src-shared/params';
import { contextRng, throwIfCancelled, type RunContext } from '../context';
import type { ImageSet } from '../datasets/types';
import { AuditError } from '../errors';
import type { LoadedModel } from '../models/io';
import { shuffledIndices } from '../rng';
import { fingerprintMismatch, inputMismatch, requireApplicable, resolveDefenseParams } from './checks';
import { leastSquares } from './least-squares';
import { assertFinite, type ModelRole } from './query';
import { quickshift } from './quickshift';
import type { Applicability, Defense, Fingerprints, MetricSpec } from './types';

export const ZEST_ID = 'zest';

export const ZEST_METRICS: readonly MetricSpec[] = [
  { id: 'zest.l2', kind: 'distance', label: 'ZEST L2', identity: 0 },
  { id: 'zest.cosine', kind: 'distance', label: 'ZEST cosine (1 - cos)', identity: 0 },
];

export const ZEST_PARAMS: readonly ParamSpec[] = [
  {
    key: 'references',
    type: 'integer',
    default: 32,
    min: 1,
    max: 4096,
    help: 'Reference images drawn from the data (ZEST: 128; default 32 to keep a CPU audit in minutes).',
  },
  {
    key: 'masks',
    type: 'integer',
    default: 200,
    min: 2,
    max: 10000,
    help: 'Random segment masks per reference image (ZEST: 1000, the RemovalNet runs: 500; default 200 for CPU budgets). Identical masked images are queried once, so with few segments per image this costs little.',
  },
  {
    key: 'segmentation',
    type: 'enum',
    default: 'auto',
    choices: ['auto', 'quickshift', 'grid'],
    help: "Superpixels: LIME's quickshift (ZEST), a regular grid (the reference run's simplified ZEST), or auto: quickshift for colour images, grid for grayscale, where LIME's quickshift settings give 28x28 Fashion-MNIST images 1.25 segments on average (measured against scikit-image) and ZEST degenerates to comparing logits.",
  },
  {
    key: 'gridSize',
    type: 'integer',
    default: 4,
    min: 1,
    max: 64,
    help: 'Cells per side with segmentation=grid (reference run: 4, i.e. 16 segments).',
  },
  {
    key: 'kernelSize',
    type: 'number',
    default: 4,
    min: 1,
    max: 32,
    help: 'Quickshift Gaussian kernel width (LIME: 4).',
  },
  {
    key: 'ratio',
    type: 'number',
    default: 0.2,
    min: 0,
    max: 1,
    help: 'Quickshift weight of colour against position (LIME: 0.2).',
  },
  {
    key: 'maxDist',
    type: 'number',
    default: 200,
    min: 0,
    help: 'Quickshift cut-off for links between pixels (LIME: 200).',
  },
  {
    key: 'alignment',
    type: 'enum',
    default: 'greedy',
    choices: ['greedy', 'none'],
    help: "Class alignment before comparing: ZEST's greedy matching, or none (same class order, same class count).",
  },
  { key: 'batchSize', type: 'integer', default: 256, min: 1, max: 4096, help: 'Masked images per forward pass.' },
];

/** contextRng streams: reference choice and masks. */
const STREAM_REFERENCES = 0x2e57;
const STREAM_MASKS = 0x2e58;
/** skimage's quickshift seeds its tie-breaking noise with 42 on every call. */
const QUICKSHIFT_SEED = 42;

// ---------------------------------------------------------------------------------------
// pure distance helpers

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

// ---------------------------------------------------------------------------------------
// probe set and signatures

/** What a signature is computed from: the arrays of a ZEST fingerprint, typed. */
export interface ZestProbes {
  /** R x H x W x C, normalised. */
  images: Float32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** R x H x W segment labels. */
  segments: Int32Array;
  /** Segments per image. */
  segmentCounts: Int32Array;
  /** First stacked row of each image's segments. */
  offsets: Int32Array;
  totalSegments: number;
  numMasks: number;
  /** numMasks x totalSegments of 0/1: image i's masks are columns offsets[i]..+segmentCounts[i]. */
  masks: Float32Array;
}

function probesFromFingerprints(fp: Fingerprints): ZestProbes {
  const need = (key: string) => {
    const a = fp.arrays[key];
    if (!a) {
      throw new AuditError('INVALID_ARGUMENT', `The ZEST fingerprints lack the array '${key}'`, {
        hint: 'Extract the ZEST fingerprints again.',
      });
    }
    return a;
  };
  const images = need('images');
  const segments = need('segments');
  const counts = need('segmentCounts');
  const masks = need('masks');
  const [count, height, width, channels] = images.shape;
  const segmentCounts = Int32Array.from(counts.data);
  const offsets = new Int32Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    offsets[i] = total;
    total += segmentCounts[i];
  }
  const numMasks = masks.shape[0];
  if (
    images.shape.length !== 4 ||
    segments.data.length !== count * height * width ||
    segmentCounts.length !== count ||
    masks.shape[1] !== total ||
    masks.data.length !== numMasks * total
  ) {
    throw new AuditError('INVALID_ARGUMENT', 'The ZEST fingerprint arrays do not fit together', {
      hint: 'The fingerprint file is damaged; extract the fingerprints again.',
    });
  }
  return {
    images: images.data,
    count,
    height,
    width,
    channels,
    segments: Int32Array.from(segments.data),
    segmentCounts,
    offsets,
    totalSegments: total,
    numMasks,
    masks: masks.data,
  };
}

function modelClasses(model: tf.LayersModel): number {
  const shape = model.outputs[0].shape;
  return shape[shape.length - 1] ?? 0;
}

/**
 * The distinct probe images of a probe set. A masked image is a function of (reference
 * image, mask row), so identical mask rows of one image give identical images, and the
 * all-masked image (all zeros) is the same for every reference image: each is queried once.
 * With few segments per image (quickshift with LIME's settings gives 28x28 images one or two)
 * this turns thousands of queries into a handful. The least-squares problem still sees every
 * mask row, so the result equals ZEST's, which queries every row.
 */
export function distinctProbes(probes: ZestProbes): {
  rowToQuery: Int32Array;
  queries: Array<{ image: number; mask: number }>;
} {
  const { count, numMasks, totalSegments } = probes;
  const rowToQuery = new Int32Array(count * numMasks);
  const queries: Array<{ image: number; mask: number }> = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const k = probes.segmentCounts[i];
    const o = probes.offsets[i];
    for (let m = 0; m < numMasks; m++) {
      let bits = '';
      let any = false;
      for (let j = 0; j < k; j++) {
        const on = probes.masks[m * totalSegments + o + j] !== 0;
        any ||= on;
        bits += on ? '1' : '0';
      }
      const key = any ? `${i}:${bits}` : 'zero';
      let q = seen.get(key);
      if (q === undefined) {
        q = queries.length;
        queries.push({ image: i, mask: m });
        seen.set(key, q);
      }
      rowToQuery[i * numMasks + m] = q;
    }
  }
  return { rowToQuery, queries };
}

/**
 * A model's LIME signature on a probe set: (total segments) x classes, Float64. Queries the
 * model once per distinct masked image, in batches, checking cancellation between batches.
 */
export async function limeSignature(
  ctx: RunContext,
  model: tf.LayersModel,
  probes: ZestProbes,
  opts: { batchSize: number; stage: string; role: ModelRole },
): Promise<{ weights: Float64Array; classes: number; queries: number }> {
  const { count, height, width, channels, numMasks, totalSegments } = probes;
  const hw = height * width;
  const per = hw * channels;
  const { rowToQuery, queries } = distinctProbes(probes);
  const total = queries.length;
  const batchSize = Math.max(1, Math.floor(opts.batchSize));
  let classes = modelClasses(model);
  let logits = new Float32Array(total * classes);
  const batches = Math.ceil(total / batchSize);
  for (let bi = 0; bi < batches; bi++) {
    throwIfCancelled(ctx, opts.stage);
    const start = bi * batchSize;
    const n = Math.min(batchSize, total - start);
    const buf = new Float32Array(n * per);
    for (let t = 0; t < n; t++) {
      const { image: i, mask: m } = queries[start + t];
      const maskRow = m * totalSegments + probes.offsets[i];
      const src = i * per;
      const seg = i * hw;
      const dst = t * per;
      for (let p = 0; p < hw; p++) {
        if (probes.masks[maskRow + probes.segments[seg + p]] === 0) continue; // masked: stays 0
        for (let c = 0; c < channels; c++) buf[dst + p * channels + c] = probes.images[src + p * channels + c];
      }
    }
    const out = tf.tidy(
      () => model.predict(tf.tensor4d(buf, [n, height, width, channels]), { batchSize: n }) as tf.Tensor,
    );
    let values: Float32Array;
    try {
      if (out.rank !== 2) {
        throw new AuditError(
          'MODEL_NOT_CLASSIFIER',
          `The model outputs shape [${out.shape}], ZEST needs [batch, classes] logits`,
          { hint: 'Use an image classifier with one logits output.' },
        );
      }
      const outWidth = out.shape[1] ?? 0;
      if (outWidth !== classes) {
        if (bi > 0) throw new Error(`model output width changed from ${classes} to ${outWidth}`);
        classes = outWidth;
        logits = new Float32Array(total * classes);
      }
      values = (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
    assertFinite(values, classes, { role: opts.role, what: `ZEST probe images (batch ${bi + 1} of ${batches})` });
    logits.set(values, start * classes);
    ctx.progress?.({ stage: opts.stage, iteration: bi + 1, total: batches, values: { queries: start + n } });
  }

  const weights = new Float64Array(totalSegments * classes);
  for (let i = 0; i < count; i++) {
    const k = probes.segmentCounts[i];
    const m = new Float64Array(numMasks * k);
    for (let r = 0; r < numMasks; r++)
      for (let j = 0; j < k; j++) m[r * k + j] = probes.masks[r * totalSegments + probes.offsets[i] + j];
    const y = new Float64Array(numMasks * classes);
    for (let r = 0; r < numMasks; r++) {
      const q = rowToQuery[i * numMasks + r];
      for (let c = 0; c < classes; c++) y[r * classes + c] = logits[q * classes + c];
    }
    const { w } = leastSquares(m, numMasks, k, y, classes);
    weights.set(w, probes.offsets[i] * classes);
  }
  return { weights, classes, queries: total };
}

function roundToFloat32(w: ArrayLike<number>): Float64Array {
  return Float64Array.from(Float32Array.from(w));
}

/**
 * A regular grid of g x g segments (fewer where the image is smaller than g): pixel (r, c)
 * gets floor(r g / H) * g' + floor(c g / W), relabelled 0..n-1 in row-major order.
 */
export function gridSegments(height: number, width: number, g: number): { labels: Int32Array; count: number } {
  const gr = Math.max(1, Math.min(g, height));
  const gc = Math.max(1, Math.min(g, width));
  const labels = new Int32Array(height * width);
  for (let r = 0; r < height; r++)
    for (let c = 0; c < width; c++)
      labels[r * width + c] = Math.floor((r * gr) / height) * gc + Math.floor((c * gc) / width);
  return { labels, count: gr * gc };
}

// ---------------------------------------------------------------------------------------
// extract and score

function numParam(params: ParamValues, key: string): number {
  const spec = ZEST_PARAMS.find((s) => s.key === key);
  const v = params[key] ?? spec?.default;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new AuditError('INVALID_ARGUMENT', `ZEST parameter ${key} must be a number, got ${String(v)}`, {
      hint: 'Pass the parameters resolved against zestDefense.params.',
    });
  }
  return v;
}

function segmentationParam(params: ParamValues, channels: number): 'quickshift' | 'grid' {
  const v = params.segmentation ?? 'auto';
  if (v === 'auto') return channels === 1 ? 'grid' : 'quickshift';
  if (v !== 'quickshift' && v !== 'grid') {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `ZEST parameter segmentation must be quickshift or grid, got ${String(v)}`,
      { hint: 'Use segmentation=quickshift (ZEST) or segmentation=grid.' },
    );
  }
  return v;
}

function alignmentParam(params: ParamValues): 'greedy' | 'none' {
  const v = params.alignment ?? 'greedy';
  if (v !== 'greedy' && v !== 'none') {
    throw new AuditError('INVALID_ARGUMENT', `ZEST parameter alignment must be greedy or none, got ${String(v)}`, {
      hint: 'Use alignment=greedy (ZEST) or alignment=none.',
    });
  }
  return v;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

async function extract(
  ctx: RunContext,
  victim: LoadedModel,
  data: ImageSet,
  given: ParamValues,
): Promise<Fingerprints> {
  const stage = 'zest.extract';
  const params = resolveDefenseParams({ id: ZEST_ID, params: ZEST_PARAMS }, given);
  const references = Math.floor(numParam(params, 'references'));
  const numMasks = Math.floor(numParam(params, 'masks'));
  const kernelSize = numParam(params, 'kernelSize');
  const ratio = numParam(params, 'ratio');
  const maxDist = numParam(params, 'maxDist');
  const batchSize = Math.floor(numParam(params, 'batchSize'));
  const alignment = alignmentParam(params);
  const { height, width, channels } = data;
  const segmentation = segmentationParam(params, channels);
  const gridSize = Math.floor(numParam(params, 'gridSize'));
  if (!sameShape([height, width, channels], victim.meta.inputShape)) {
    throw new AuditError(
      'DATASET_MISMATCH',
      `The data's images are ${height}x${width}x${channels}, the victim takes ${victim.meta.inputShape.join('x')}`,
      {
        hint: "Pass data in the victim's input shape.",
      },
    );
  }
  if (data.count < 1)
    throw new AuditError('INVALID_ARGUMENT', 'ZEST needs at least one image to draw references from', {
      hint: 'Pass a non-empty data split.',
    });
  if (numMasks < 2)
    throw new AuditError('INVALID_ARGUMENT', `ZEST needs at least 2 masks per image, got ${numMasks}`, {
      hint: 'Use masks >= 2 (ZEST: 1000).',
    });

  // Reference images: a seeded draw without replacement, kept in data order.
  const count = Math.min(references, data.count);
  const chosen = Array.from(shuffledIndices(data.count, contextRng(ctx, STREAM_REFERENCES)).subarray(0, count)).sort(
    (a, b) => a - b,
  );
  const per = height * width * channels;
  const hw = height * width;
  const images = new Float32Array(count * per);
  chosen.forEach((src, i) => images.set(data.images.subarray(src * per, (src + 1) * per), i * per));

  // Segments on de-normalised pixels.
  const mean = data.normalization?.mean ?? new Array<number>(channels).fill(0);
  const std = data.normalization?.std ?? new Array<number>(channels).fill(1);
  const segments = new Float32Array(count * hw);
  const segmentCounts = new Float32Array(count);
  const pixels = new Float64Array(per);
  for (let i = 0; i < count; i++) {
    throwIfCancelled(ctx, stage);
    for (let t = 0; t < per; t++) {
      const c = t % channels;
      pixels[t] = images[i * per + t] * std[c] + mean[c];
    }
    const seg =
      segmentation === 'grid'
        ? gridSegments(height, width, gridSize)
        : quickshift(pixels, height, width, channels, { kernelSize, ratio, maxDist, seed: QUICKSHIFT_SEED });
    segments.set(seg.labels, i * hw);
    segmentCounts[i] = seg.count;
  }
  let totalSegments = 0;
  for (const k of segmentCounts) totalSegments += k;

  // Masks: numMasks x totalSegments; row 0 all ones (the unmasked image), as ZEST.
  const masks = new Float32Array(numMasks * totalSegments);
  const rng = contextRng(ctx, STREAM_MASKS);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const k = segmentCounts[i];
    for (let m = 0; m < numMasks; m++)
      for (let j = 0; j < k; j++) masks[m * totalSegments + offset + j] = m === 0 ? 1 : rng.int(2);
    offset += k;
  }

  const fp: Fingerprints = {
    defense: ZEST_ID,
    params: { references, masks: numMasks, segmentation, gridSize, kernelSize, ratio, maxDist, alignment, batchSize },
    victimHash: victim.meta.contentHash,
    arrays: {
      images: { shape: [count, height, width, channels], data: images },
      segments: { shape: [count, height, width], data: segments },
      segmentCounts: { shape: [count], data: segmentCounts },
      masks: { shape: [numMasks, totalSegments], data: masks },
    },
    info: {},
    queries: 0,
  };
  const probes = probesFromFingerprints(fp);
  const sig = await limeSignature(ctx, victim.model, probes, { batchSize, stage, role: 'victim' });
  fp.arrays.victimWeights = { shape: [totalSegments, sig.classes], data: Float32Array.from(sig.weights) };
  fp.queries = sig.queries;
  fp.info = {
    referenceIndices: chosen,
    references: count,
    masks: numMasks,
    totalSegments,
    meanSegments: totalSegments / count,
    inputShape: [height, width, channels],
    victimClasses: sig.classes,
    segmentation:
      segmentation === 'grid'
        ? `grid ${gridSize}x${gridSize}`
        : `quickshift kernel ${kernelSize}, ratio ${ratio}, max dist ${maxDist}, on ${data.normalization ? 'de-normalised' : 'given'} pixels in Lab`,
  };
  return fp;
}

async function score(
  ctx: RunContext,
  victim: LoadedModel,
  suspect: LoadedModel,
  fp: Fingerprints,
): Promise<Record<string, number>> {
  requireApplicable(ZEST_ID, applicability(victim, suspect, fp));
  const probes = probesFromFingerprints(fp);
  const batchSize = Math.floor(numParam(fp.params, 'batchSize'));
  const alignment = alignmentParam(fp.params);

  let victimWeights: Float64Array;
  let victimClasses: number;
  const cached = fp.arrays.victimWeights;
  if (cached && cached.shape[0] === probes.totalSegments) {
    victimWeights = Float64Array.from(cached.data);
    victimClasses = cached.shape[1];
  } else {
    const v = await limeSignature(ctx, victim.model, probes, { batchSize, stage: 'zest.score', role: 'victim' });
    victimWeights = roundToFloat32(v.weights);
    victimClasses = v.classes;
  }
  const s = await limeSignature(ctx, suspect.model, probes, { batchSize, stage: 'zest.score', role: 'suspect' });
  if (alignment === 'none' && s.classes !== victimClasses) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `ZEST with alignment=none needs equal class counts; the victim has ${victimClasses}, the suspect ${s.classes}`,
      {
        hint: 'Use alignment=greedy to compare models with different class counts.',
      },
    );
  }
  const d = zestDistances(
    victimWeights,
    victimClasses,
    roundToFloat32(s.weights),
    s.classes,
    probes.totalSegments,
    alignment,
  );
  ctx.log?.(`zest: ${s.queries} suspect queries, l2 ${d.l2.toPrecision(6)}, cosine ${d.cosine.toPrecision(6)}`);
  return { 'zest.l2': d.l2, 'zest.cosine': d.cosine };
}

function applicability(victim: LoadedModel, suspect: LoadedModel, fp?: Fingerprints): Applicability {
  const mismatch = fingerprintMismatch(ZEST_ID, victim, fp) ?? inputMismatch(victim, suspect);
  if (mismatch) return mismatch;
  const probeShape = fp?.arrays.images ? fp.arrays.images.shape.slice(1) : victim.meta.inputShape;
  if (!sameShape(probeShape, suspect.meta.inputShape)) {
    return {
      applicable: false,
      reason: `ZEST feeds the suspect ${probeShape.join('x')} probe images; it takes ${suspect.meta.inputShape.join('x')}`,
    };
  }
  if (fp && fp.params.alignment === 'none' && victim.meta.numClasses !== suspect.meta.numClasses) {
    return {
      applicable: false,
      reason: `alignment=none needs equal class counts (victim ${victim.meta.numClasses}, suspect ${suspect.meta.numClasses})`,
    };
  }
  return { applicable: true };
}

export const zestDefense: Defense = {
  id: ZEST_ID,
  title: 'ZEST (LIME model distance)',
  paper:
    'Jia, Chen, Guan, Shamsabadi, Papernot: A Zest of LIME: Towards Architecture-Independent Model Distances (ICLR 2022)',
  access: 'black-box',
  metrics: ZEST_METRICS,
  params: ZEST_PARAMS,
  applicability,
  extract,
  score,
};
