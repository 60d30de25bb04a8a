/**
 * ZEST's probe set and a model's LIME signature on it: the fingerprint arrays typed as a probe
 * set, the distinct masked images to query, the batched queries and the per-image least-squares
 * fit, and the grid segmentation. This is the only part of ZEST that runs a model.
 */
import * as tf from '@tensorflow/tfjs';
import { throwIfCancelled, type RunContext } from '../context';
import { AuditError } from '../errors';
import { leastSquares } from './least-squares';
import { assertFinite, type ModelRole } from './query';
import type { FingerprintArray, Fingerprints } from './types';

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

export function probesFromFingerprints(fp: Fingerprints): ZestProbes {
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

/** The distinct masked images of a probe set, [queries, H, W, C], and which query each mask row reads. */
export function probeImages(probes: ZestProbes): { inputs: FingerprintArray; rowToQuery: Int32Array } {
  const { height, width, channels, totalSegments } = probes;
  const hw = height * width;
  const per = hw * channels;
  const { rowToQuery, queries } = distinctProbes(probes);
  const buf = new Float32Array(queries.length * per);
  queries.forEach(({ image: i, mask: m }, t) => {
    const maskRow = m * totalSegments + probes.offsets[i];
    const src = i * per;
    const seg = i * hw;
    const dst = t * per;
    for (let p = 0; p < hw; p++) {
      if (probes.masks[maskRow + probes.segments[seg + p]] === 0) continue; // masked: stays 0
      for (let c = 0; c < channels; c++) buf[dst + p * channels + c] = probes.images[src + p * channels + c];
    }
  });
  return { inputs: { shape: [queries.length, height, width, channels], data: buf }, rowToQuery };
}

/**
 * The LIME signature from a model's logits on the distinct probe images: per image, W =
 * pinv(M^T M) M^T Y over its mask rows, stacked to (total segments) x classes, Float64.
 */
export function signatureFromLogits(
  probes: ZestProbes,
  rowToQuery: Int32Array,
  logits: ArrayLike<number>,
  classes: number,
): Float64Array {
  const { count, numMasks, totalSegments } = probes;
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
  return weights;
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
  const { height, width, channels } = probes;
  const per = height * width * channels;
  const { inputs, rowToQuery } = probeImages(probes);
  const total = inputs.shape[0];
  const batchSize = Math.max(1, Math.floor(opts.batchSize));
  let classes = modelClasses(model);
  let logits = new Float32Array(total * classes);
  const batches = Math.ceil(total / batchSize);
  for (let bi = 0; bi < batches; bi++) {
    throwIfCancelled(ctx, opts.stage);
    const start = bi * batchSize;
    const n = Math.min(batchSize, total - start);
    const buf = inputs.data.subarray(start * per, (start + n) * per);
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
  return { weights: signatureFromLogits(probes, rowToQuery, logits, classes), classes, queries: total };
}

export function roundToFloat32(w: ArrayLike<number>): Float64Array {
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
