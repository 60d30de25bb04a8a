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
import type { ParamValues } from '../../../src-shared/params';
import { contextRng, throwIfCancelled, type RunContext } from '../context';
import type { ImageSet } from '../datasets/types';
import { AuditError } from '../errors';
import type { LoadedModel } from '../models/io';
import { shuffledIndices } from '../rng';
import { fingerprintMismatch, inputMismatch, requireApplicable, resolveDefenseParams } from './checks';
import { quickshift } from './quickshift';
import { responseAs, scoreWithModel, type QuerySet, type ResponseMap } from './responses';
import type { Applicability, Defense, Fingerprints, MetricSpec } from './types';
import { zestDistances } from './zest-distance';
import { alignmentParam, numParam, segmentationParam, ZEST_PARAMS } from './zest-params';
import {
  distinctProbes,
  gridSegments,
  limeSignature,
  probeImages,
  probesFromFingerprints,
  roundToFloat32,
  signatureFromLogits,
} from './zest-signature';

// The method is split by responsibility: zest-params.ts (parameters), zest-signature.ts (probe
// set and LIME signatures, the model queries), zest-distance.ts (alignment and distances);
// this module extracts and scores, and re-exports what the rest of the app and the tests use.
export {
  cosineDistance,
  greedyAlign,
  l2Distance,
  normalizeByReference,
  zestDistances,
  type Alignment,
  type ZestMetric,
} from './zest-distance';
export { ZEST_PARAMS } from './zest-params';
export { distinctProbes, gridSegments, limeSignature, type ZestProbes } from './zest-signature';

export const ZEST_ID = 'zest';

export const ZEST_METRICS: readonly MetricSpec[] = [
  { id: 'zest.l2', kind: 'distance', label: 'ZEST L2', shortLabel: 'ZEST L2', identity: 0 },
  { id: 'zest.cosine', kind: 'distance', label: 'ZEST cosine (1 - cos)', shortLabel: 'ZEST cos', identity: 0 },
];

/** contextRng streams: reference choice and masks. */
const STREAM_REFERENCES = 0x2e57;
const STREAM_MASKS = 0x2e58;
/** skimage's quickshift seeds its tie-breaking noise with 42 on every call. */
const QUICKSHIFT_SEED = 42;

// ---------------------------------------------------------------------------------------
// extract and score

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

function querySets(fp: Fingerprints): QuerySet[] {
  const { inputs } = probeImages(probesFromFingerprints(fp));
  return [{ id: ZEST_ID, inputs, needs: 'logits', predictBatch: Math.floor(numParam(fp.params, 'batchSize')) }];
}

function scoreResponses(fp: Fingerprints, responses: ResponseMap): Record<string, number> {
  const probes = probesFromFingerprints(fp);
  const alignment = alignmentParam(fp.params);
  const cached = fp.arrays.victimWeights;
  if (!cached || cached.shape[0] !== probes.totalSegments) {
    throw new AuditError('INVALID_ARGUMENT', "The ZEST fingerprints lack the victim's signature", {
      hint: 'Extract the ZEST fingerprints again (calibrate again).',
    });
  }
  const victimClasses = cached.shape[1];
  const { rowToQuery, queries } = distinctProbes(probes);
  const logits = responseAs(responses, ZEST_ID, 'logits', { rows: queries.length });
  const suspectClasses = logits.shape[1];
  if (alignment === 'none' && suspectClasses !== victimClasses) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `ZEST with alignment=none needs equal class counts; the victim has ${victimClasses}, the suspect ${suspectClasses}`,
      { hint: 'Use alignment=greedy to compare models with different class counts.' },
    );
  }
  const suspectWeights = signatureFromLogits(probes, rowToQuery, logits.data, suspectClasses);
  const d = zestDistances(
    Float64Array.from(cached.data),
    victimClasses,
    roundToFloat32(suspectWeights),
    suspectClasses,
    probes.totalSegments,
    alignment,
  );
  return { 'zest.l2': d.l2, 'zest.cosine': d.cosine };
}

async function score(
  ctx: RunContext,
  victim: LoadedModel,
  suspect: LoadedModel,
  fp: Fingerprints,
): Promise<Record<string, number>> {
  requireApplicable(ZEST_ID, applicability(victim, suspect, fp));
  let withVictim = fp;
  const probes = probesFromFingerprints(fp);
  if (fp.arrays.victimWeights?.shape[0] !== probes.totalSegments) {
    // Fingerprints without the victim's cached signature: compute it once here.
    const batchSize = Math.floor(numParam(fp.params, 'batchSize'));
    const v = await limeSignature(ctx, victim.model, probes, { batchSize, stage: 'zest.score', role: 'victim' });
    const victimWeights = { shape: [probes.totalSegments, v.classes], data: Float32Array.from(v.weights) };
    withVictim = { ...fp, arrays: { ...fp.arrays, victimWeights } };
  }
  throwIfCancelled(ctx, 'ZEST scoring');
  const d = scoreWithModel({ querySets, scoreResponses }, suspect.model, withVictim, ctx);
  ctx.progress?.({ stage: 'zest.score', iteration: 1, total: 1 });
  ctx.log?.(`zest: l2 ${d['zest.l2'].toPrecision(6)}, cosine ${d['zest.cosine'].toPrecision(6)}`);
  return d;
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
  name: 'ZEST',
  help: 'Compares local explanations (LIME) of the two models on reference images.',
  paper:
    'Jia, Chen, Guan, Shamsabadi, Papernot: A Zest of LIME: Towards Architecture-Independent Model Distances (ICLR 2022)',
  access: 'black-box',
  metrics: ZEST_METRICS,
  params: ZEST_PARAMS,
  applicability,
  extract,
  querySets,
  scoreResponses,
  score,
};
