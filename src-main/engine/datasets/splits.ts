/**
 * Deterministic views of a data set for the audit scenarios: subsets, class-stratified
 * partitions (victim / attacker halves), the attacker's class-balanced fraction of the
 * training split (S_LTD), the data disjoint from the victim's (S_LSD), and shuffled batches.
 * All randomness comes from `createRng(seed)`; the same seed gives identical results.
 */
import { AuditError } from '../errors';
import { createRng, shuffledIndices, type Rng } from '../rng';
import {
  balancedQuotas,
  countPerClass,
  denormalizedImages,
  normalizeInPlace,
  resizeImages,
  copyNormalization,
} from './transform';
import type { ImageSet, Normalization } from './types';
import { parsePartitionText } from '../../../src-shared/domain/partition';

function invalid(message: string, hint: string): AuditError {
  return new AuditError('INVALID_ARGUMENT', message, { hint });
}

/** A copy of the images at `indices`, in that order (duplicates allowed). */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = set.height * set.width * set.channels;
  const images = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!Number.isInteger(j) || j < 0 || j >= set.count) {
      throw invalid(`Index ${j} is outside the set of ${set.count} images`, 'Pass indices in 0..count-1.');
    }
    images.set(set.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = set.labels[j];
  }
  const out: ImageSet = { ...set, images, labels, count: indices.length };
  if (set.normalization) out.normalization = copyNormalization(set.normalization);
  return out;
}

/** Parses a partition spec "k/n" (part k of n, 0-based), e.g. "0/2". */
export function parsePartition(spec: string): { k: number; n: number } {
  const part = parsePartitionText(spec);
  if (!part) {
    throw invalid(
      `Invalid partition "${spec}"`,
      'Write it as k/n with 0 <= k < n, e.g. "0/2" for the first half and "1/2" for the second.',
    );
  }
  return part;
}

function checkPart(k: number, n: number): void {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(k) || k < 0 || k >= n) {
    throw invalid(`Invalid partition ${k}/${n}`, 'Use whole numbers with 0 <= k < n.');
  }
}

/** Indices of each class, ascending. */
function indicesByClass(labels: ArrayLike<number>, numClasses: number): number[][] {
  const by: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) by[labels[i]].push(i);
  return by;
}

/**
 * Part of each index in a class-stratified partition into `n` parts: each class's indices
 * are shuffled (seeded) and dealt round-robin, the dealing continuing from class to class,
 * so every class and every part differ in size by at most one.
 */
export function partitionAssignment(
  labels: ArrayLike<number>,
  numClasses: number,
  n: number,
  seed: number,
): Int32Array {
  checkPart(0, n);
  const rng = createRng(seed);
  const part = new Int32Array(labels.length);
  let dealt = 0;
  for (const members of indicesByClass(labels, numClasses)) {
    const order = shuffledIndices(members.length, rng);
    for (let p = 0; p < order.length; p++) part[members[order[p]]] = (dealt + p) % n;
    dealt += members.length;
  }
  return part;
}

/** Ascending indices of part `k` of `n` (see `partitionAssignment`). */
export function partitionIndices(
  labels: ArrayLike<number>,
  numClasses: number,
  k: number,
  n: number,
  seed: number,
): Int32Array {
  checkPart(k, n);
  const part = partitionAssignment(labels, numClasses, n, seed);
  const out: number[] = [];
  for (let i = 0; i < part.length; i++) if (part[i] === k) out.push(i);
  return Int32Array.from(out);
}

/**
 * Part `k` of a deterministic, class-stratified partition of `set` into `n` disjoint parts
 * (e.g. k=0, n=2: the victim's half; k=1, n=2: the attacker's). Images keep their order.
 */
export function partition(set: ImageSet, k: number, n: number, seed: number): ImageSet {
  return subset(set, partitionIndices(set.labels, set.numClasses, k, n, seed));
}

/**
 * S_LSD from one data set: everything outside part `k` of the same partition (the other
 * n-1 parts), disjoint from `partition(set, k, n, seed)`. Images keep their order.
 */
export function disjointComplement(set: ImageSet, k: number, n: number, seed: number): ImageSet {
  checkPart(k, n);
  const part = partitionAssignment(set.labels, set.numClasses, n, seed);
  const out: number[] = [];
  for (let i = 0; i < part.length; i++) if (part[i] !== k) out.push(i);
  return subset(set, out);
}

/**
 * Ascending indices of a class-balanced random fraction: round(fraction * count) images,
 * shared equally between the classes (as far as each class has images; leftover places to
 * the lowest class indices), drawn within each class by a seeded shuffle.
 */
export function classBalancedIndices(
  labels: ArrayLike<number>,
  numClasses: number,
  fraction: number,
  seed: number,
): Int32Array {
  if (!(fraction > 0 && fraction <= 1)) {
    throw invalid(`Invalid fraction ${fraction}`, 'Give a fraction in (0, 1], e.g. 0.1 for 10% of the training split.');
  }
  const total = Math.round(fraction * labels.length);
  if (total < 1) {
    throw invalid(`Fraction ${fraction} of ${labels.length} images keeps no image`, 'Use a larger fraction.');
  }
  const quotas = balancedQuotas(countPerClass(labels, numClasses), total);
  const rng = createRng(seed);
  const out: number[] = [];
  indicesByClass(labels, numClasses).forEach((members, c) => {
    const order = shuffledIndices(members.length, rng);
    for (let p = 0; p < quotas[c]; p++) out.push(members[order[p]]);
  });
  return Int32Array.from(out.sort((a, b) => a - b));
}

/**
 * S_LTD: the attacker holds a stated fraction of the victim's training split, class-balanced
 * (see `classBalancedIndices`). Images keep their order.
 */
export function classBalancedFraction(set: ImageSet, fraction: number, seed: number): ImageSet {
  return subset(set, classBalancedIndices(set.labels, set.numClasses, fraction, seed));
}

/**
 * S_LSD from another data set: its images brought to the victim's input (bilinear resize,
 * grayscale <-> RGB) and normalised with the victim's statistics. Labels and class count
 * are kept (they are the other data set's; the attacker relabels with the victim's model).
 */
export function adaptToInput(
  set: ImageSet,
  target: { height: number; width: number; channels: number },
  normalization: Normalization,
): ImageSet {
  const { height, width, channels } = target;
  const images = resizeImages(denormalizedImages(set), set.count, set, { height, width, channels });
  const out = images === set.images ? new Float32Array(images) : images;
  normalizeInPlace(out, channels, normalization);
  return {
    ...set,
    images: out,
    labels: new Int32Array(set.labels),
    height,
    width,
    channels,
    normalization: copyNormalization(normalization),
  };
}

/**
 * Shuffled mini-batches of indices into a set of `count` images (or of `set.count`): one
 * epoch, order drawn from `rng`. The last batch is smaller unless `dropRemainder` is set.
 */
export function* batches(
  set: ImageSet | number,
  batchSize: number,
  rng: Rng,
  opts: { dropRemainder?: boolean } = {},
): Generator<Int32Array, void, undefined> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw invalid(`Invalid batch size ${batchSize}`, 'Give the batch size as a positive whole number.');
  }
  const count = typeof set === 'number' ? set : set.count;
  const order = shuffledIndices(count, rng);
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(start + batchSize, count);
    if (end - start < batchSize && opts.dropRemainder) return;
    yield order.slice(start, end);
  }
}
