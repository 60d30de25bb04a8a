import { describe, expect, it } from 'vitest';
import { quickshift, quickshiftFeatures, rgbToLab } from '../../../src-main/engine/defenses/quickshift';
import { createRng } from '../../../src-main/engine/rng';

/** HWC image from a per-pixel function. */
function image(h: number, w: number, ch: number, f: (r: number, c: number, k: number) => number): Float64Array {
  const out = new Float64Array(h * w * ch);
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++) for (let k = 0; k < ch; k++) out[(r * w + c) * ch + k] = f(r, c, k);
  return out;
}

function expectContiguous(labels: Int32Array, count: number): void {
  const used = new Set<number>();
  for (const l of labels) {
    expect(l).toBeGreaterThanOrEqual(0);
    expect(l).toBeLessThan(count);
    used.add(l);
  }
  expect(used.size).toBe(count);
}

describe('rgbToLab (skimage rgb2lab)', () => {
  it('matches skimage on reference colours', () => {
    const cases: Array<[number[], number[]]> = [
      [
        [1, 1, 1],
        [100.0, -0.002455, 0.004653],
      ],
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
      [
        [1, 0, 0],
        [53.240588, 80.092308, 67.202751],
      ],
      [
        [0.2, 0.5, 0.8],
        [52.252061, 2.776023, -46.285714],
      ],
      [
        [0.5, 0.5, 0.5],
        [53.388965, -0.001468, 0.002784],
      ],
    ];
    for (const [rgb, lab] of cases) {
      const got = rgbToLab(rgb[0], rgb[1], rgb[2]);
      for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(lab[i], 4);
    }
  });
});

describe('quickshift', () => {
  it('computes the hand-checked Parzen density on a 3x3 example', () => {
    // raw features, ratio already applied: the centre pixel has colour 1, the rest 0; sigma 1
    const f = new Float64Array(9);
    f[4] = 1;
    const res = quickshiftFeatures(f, 3, 3, 1, { kernelSize: 1, maxDist: 100, noiseScale: 0 });
    const e = Math.exp;
    // centre: itself, 4 edge neighbours at d^2 = 1 + 1 (colour), 4 corners at 2 + 1
    expect(res.densities[4]).toBeCloseTo(1 + 4 * e(-1) + 4 * e(-1.5), 12);
    // corner (0,0): offsets d^2 = 0, 1, 4, 1, 2+1 (centre, colour), 5, 4, 5, 8
    expect(res.densities[0]).toBeCloseTo(1 + 2 * e(-0.5) + e(-1.5) + 2 * e(-2) + 2 * e(-2.5) + e(-4), 12);
    // edge (0,1): offsets (0,-1) 1, (0,0) 0, (0,1) 1, (1,-1) 2, (1,0) 1+1 colour, (1,1) 2, (2,-1) 5, (2,0) 4, (2,1) 5
    expect(res.densities[1]).toBeCloseTo(1 + 2 * e(-0.5) + 3 * e(-1) + 2 * e(-2.5) + e(-2), 12);
    // every link goes to a strictly denser pixel
    for (let p = 0; p < 9; p++)
      if (res.parents[p] !== p) expect(res.densities[res.parents[p]]).toBeGreaterThan(res.densities[p]);
    expectContiguous(res.labels, res.count);
  });

  it('keeps segments of a two-region image (left dark, right bright) on one side', () => {
    for (const ch of [1, 3]) {
      const rng = createRng(5);
      const img = image(32, 32, ch, (_r, c) => (c < 16 ? 0.1 : 0.85) + (rng.next() - 0.5) * 0.04);
      const res = quickshift(img, 32, 32, ch);
      expectContiguous(res.labels, res.count);
      const side = new Map<number, number>();
      for (let r = 0; r < 32; r++)
        for (let c = 0; c < 32; c++) {
          const l = res.labels[r * 32 + c];
          const s = c < 16 ? 0 : 1;
          if (side.has(l)) expect(side.get(l)).toBe(s);
          else side.set(l, s);
        }
      expect(new Set(side.values()).size).toBe(2);
    }
  });

  it('cuts links longer than maxDist', () => {
    // 12x12, halves 0 and 1 far apart in colour: with a small maxDist no segment crosses even
    // though the windows overlap the boundary.
    const img = image(12, 12, 1, (_r, c) => (c < 6 ? 0 : 1));
    const res = quickshift(img, 12, 12, 1, { kernelSize: 2, maxDist: 5, ratio: 0.5 });
    for (let r = 0; r < 12; r++)
      for (let c = 0; c < 6; c++) expect(res.labels[r * 12 + c]).not.toBe(res.labels[r * 12 + 11 - c]);
  });

  it('gives a uniform image very few segments', () => {
    const res = quickshift(
      image(28, 28, 1, () => 0.4),
      28,
      28,
      1,
    );
    expect(res.count).toBeLessThanOrEqual(2);
    expectContiguous(res.labels, res.count);
  });

  it('is deterministic', () => {
    const rng = createRng(9);
    const img = image(16, 16, 3, () => rng.next());
    const a = quickshift(img, 16, 16, 3, { kernelSize: 2, maxDist: 6, ratio: 0.5 });
    const b = quickshift(img, 16, 16, 3, { kernelSize: 2, maxDist: 6, ratio: 0.5 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(a.count).toBeGreaterThan(3);
  });

  it('reproduces scikit-image 0.26 labels on a tie-free RGB image', () => {
    const img = image(
      10,
      10,
      3,
      (r, c, k) => 0.5 + 0.5 * Math.sin(0.7 * r + 0.3 * c + k) * Math.cos(0.45 * c - 0.2 * r * k),
    );
    // skimage.segmentation.quickshift(img, kernel_size=2, max_dist=6, ratio=0.5)
    const expected = [
      0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 26, 26, 27,
      28, 29, 30, 31, 32, 33, 34, 34, 35, 36, 37, 37, 37, 38, 39, 40, 41, 42, 43, 44, 45, 45, 45, 46, 47, 47, 47, 48,
      49, 50, 51, 51, 52, 53, 53, 53, 54, 55, 56, 57, 57, 58, 59, 60, 61, 62, 63, 64, 64, 65, 66, 67, 68, 75, 69, 70,
      71, 71, 71, 72, 73, 74, 68, 75, 69, 76, 77, 77, 78,
    ];
    const res = quickshift(img, 10, 10, 3, { kernelSize: 2, maxDist: 6, ratio: 0.5 });
    expect(res.count).toBe(79);
    expect(Array.from(res.labels)).toEqual(expected);
    // LIME's settings: one segment on so small an image
    expect(quickshift(img, 10, 10, 3).count).toBe(1);
  });

  it('rejects a buffer of the wrong size', () => {
    expect(() => quickshift(new Float64Array(10), 3, 3, 1)).toThrow(RangeError);
  });
});
