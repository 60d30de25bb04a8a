import { describe, expect, it } from 'vitest';
import {
  adaptToInput,
  batches,
  classBalancedFraction,
  classBalancedIndices,
  disjointComplement,
  parsePartition,
  partition,
  partitionIndices,
  subset,
  type ImageSet,
} from '../../../src-main/engine/datasets';
import { isAuditError } from '../../../src-main/engine/errors';
import { createRng } from '../../../src-main/engine/rng';

/** 1x1x1 images whose value is their index; imbalanced classes 0:50, 1:30, 2:17, 3:3. */
function makeSet(): ImageSet {
  const labels: number[] = [];
  const counts = [50, 30, 17, 3];
  // Interleave so classes are not contiguous.
  const left = [...counts];
  while (left.some((c) => c > 0)) for (let c = 0; c < 4; c++) if (left[c]-- > 0) labels.push(c);
  const count = labels.length;
  return {
    images: Float32Array.from({ length: count }, (_, i) => i),
    labels: Int32Array.from(labels),
    count,
    height: 1,
    width: 1,
    channels: 1,
    numClasses: 4,
  };
}

const ids = (s: ImageSet): number[] => Array.from(s.images);
const perClass = (s: ImageSet): number[] => {
  const c = new Array<number>(s.numClasses).fill(0);
  s.labels.forEach((l) => c[l]++);
  return c;
};
const expectInvalid = (f: () => unknown): void => {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(isAuditError(error) && error.code).toBe('INVALID_ARGUMENT');
};

describe('splits', () => {
  const set = makeSet();

  it('subset copies images and labels in index order', () => {
    const s = subset(set, [5, 0, 5]);
    expect(ids(s)).toEqual([5, 0, 5]);
    expect(Array.from(s.labels)).toEqual([set.labels[5], set.labels[0], set.labels[5]]);
    expect(s.count).toBe(3);
    s.images[0] = -1;
    expect(set.images[5]).toBe(5);
    expectInvalid(() => subset(set, [set.count]));
  });

  it('parsePartition', () => {
    expect(parsePartition('0/2')).toEqual({ k: 0, n: 2 });
    expect(parsePartition(' 2 / 3 ')).toEqual({ k: 2, n: 3 });
    for (const bad of ['2/2', '1/0', 'a/2', '-1/2', '0.5/2', '1']) expectInvalid(() => parsePartition(bad));
  });

  it('partitions are disjoint, cover the set, stratified and deterministic', () => {
    const parts = [0, 1, 2].map((k) => partition(set, k, 3, 42));
    const all = parts.flatMap(ids).sort((a, b) => a - b);
    expect(all).toEqual(ids(set));
    expect(new Set(all).size).toBe(set.count);
    for (const p of parts) {
      const sorted = [...ids(p)].sort((a, b) => a - b);
      expect(ids(p)).toEqual(sorted); // file order kept
    }
    const sizes = parts.map((p) => p.count);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    for (let c = 0; c < 4; c++) {
      const cs = parts.map((p) => perClass(p)[c]);
      expect(Math.max(...cs) - Math.min(...cs)).toBeLessThanOrEqual(1);
    }
    expect(ids(partition(set, 1, 3, 42))).toEqual(ids(parts[1]));
    expect(ids(partition(set, 1, 3, 43))).not.toEqual(ids(parts[1]));
    expect(Array.from(partitionIndices(set.labels, 4, 0, 2, 7))).toEqual(ids(partition(set, 0, 2, 7)));
    expectInvalid(() => partition(set, 3, 3, 1));
  });

  it('disjointComplement is the rest of the partition', () => {
    const mine = partition(set, 0, 2, 9);
    const rest = disjointComplement(set, 0, 2, 9);
    expect(ids(rest)).toEqual(ids(partition(set, 1, 2, 9)));
    const a = new Set(ids(mine));
    expect(ids(rest).some((i) => a.has(i))).toBe(false);
    expect(mine.count + rest.count).toBe(set.count);
    const rest3 = disjointComplement(set, 1, 3, 9);
    expect(rest3.count + partition(set, 1, 3, 9).count).toBe(set.count);
  });

  it('classBalancedFraction keeps a class-balanced, deterministic fraction of the set', () => {
    const s = classBalancedFraction(set, 0.4, 5);
    expect(s.count).toBe(40);
    // 40 over classes of 50, 30, 17, 3: class 3 gives all 3, the rest share 37 -> 13, 12, 12.
    expect(perClass(s)).toEqual([13, 12, 12, 3]);
    expect(ids(classBalancedFraction(set, 0.4, 5))).toEqual(ids(s));
    expect(ids(classBalancedFraction(set, 0.4, 6))).not.toEqual(ids(s));
    const sorted = [...ids(s)].sort((a, b) => a - b);
    expect(ids(s)).toEqual(sorted);
    s.labels.forEach((l, i) => expect(set.labels[s.images[i]]).toBe(l));
    expect(classBalancedIndices(set.labels, 4, 1, 1).length).toBe(set.count);
    const tenth = classBalancedFraction(set, 0.1, 1);
    expect(perClass(tenth)).toEqual([3, 3, 2, 2]);
    expectInvalid(() => classBalancedFraction(set, 0, 1));
    expectInvalid(() => classBalancedFraction(set, 1.5, 1));
    expectInvalid(() => classBalancedFraction(set, 0.001, 1));
  });

  it('batches cover every index once per epoch, seeded', () => {
    const a = [...batches(set, 32, createRng(3))];
    expect(a.map((b) => b.length)).toEqual([32, 32, 32, 4]);
    expect(a.flatMap((b) => Array.from(b)).sort((x, y) => x - y)).toEqual(ids(set));
    const b = [...batches(set, 32, createRng(3))];
    expect(b.map((x) => Array.from(x))).toEqual(a.map((x) => Array.from(x)));
    const c = [...batches(set.count, 32, createRng(4))];
    expect(c.map((x) => Array.from(x))).not.toEqual(a.map((x) => Array.from(x)));
    expect([...batches(set, 32, createRng(3), { dropRemainder: true })].length).toBe(3);
    expectInvalid(() => [...batches(set, 0, createRng(1))]);
  });

  it('adaptToInput resizes, converts to RGB and applies the victim normalisation', () => {
    // Two 2x2 grayscale images normalised with mean 0.5, std 0.25: raw 0.25 and 1.
    const gray: ImageSet = {
      images: Float32Array.from([-1, -1, -1, -1, 2, 2, 2, 2]),
      labels: Int32Array.from([0, 1]),
      count: 2,
      height: 2,
      width: 2,
      channels: 1,
      numClasses: 2,
      normalization: { mean: [0.5], std: [0.25] },
    };
    const victimNorm = { mean: [0.25, 0.5, 0.75], std: [0.5, 0.5, 0.25] };
    const out = adaptToInput(gray, { height: 3, width: 3, channels: 3 }, victimNorm);
    expect([out.count, out.height, out.width, out.channels]).toEqual([2, 3, 3, 3]);
    expect(out.images.length).toBe(2 * 27);
    const first = [(0.25 - 0.25) / 0.5, (0.25 - 0.5) / 0.5, (0.25 - 0.75) / 0.25];
    const second = [(1 - 0.25) / 0.5, (1 - 0.5) / 0.5, (1 - 0.75) / 0.25];
    for (let i = 0; i < 27; i++) {
      expect(out.images[i]).toBeCloseTo(first[i % 3], 5);
      expect(out.images[27 + i]).toBeCloseTo(second[i % 3], 5);
    }
    expect(out.normalization).toEqual(victimNorm);
    expect(gray.images[0]).toBe(-1);
  });
});
