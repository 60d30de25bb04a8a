/**
 * Quickshift superpixels, as scikit-image's `segmentation.quickshift` computes them (the
 * segmentation LIME and ZEST use: `SegmentationAlgorithm('quickshift', kernel_size=4,
 * max_dist=200, ratio=0.2)`).
 *
 * Steps, following skimage's `_quickshift_cython`:
 *  1. Working colour space: RGB pixels in [0, 1] are converted to CIE Lab (D65, 2 degree
 *     observer, skimage's `rgb2lab` formulas). A grayscale image is treated as the RGB image
 *     (g, g, g), i.e. skimage's `gray2rgb` followed by `rgb2lab` (what LIME does with 2-D
 *     images): L = 116 f(Y) - 16 with a and b (numerically almost) zero, so grayscale
 *     intensity ends up on Lab's 0..100 lightness scale. Images with another channel count
 *     are used as they are (skimage refuses them with convert2lab). The colour values are
 *     then multiplied by `ratio`; positions (row, column) are not scaled.
 *  2. Parzen density of every pixel: the sum over the pixels of a (2w+1)^2 window,
 *     w = ceil(3 * kernelSize), of exp(-d^2 / (2 kernelSize^2)), d the Euclidean distance in
 *     (row, column, ratio * colour) space (the pixel itself included), plus Gaussian noise of
 *     standard deviation 1e-5 that breaks ties (skimage seeds it with 42 on every call; so
 *     does this module, with its own generator, so labels are deterministic but not
 *     bit-identical to numpy's).
 *  3. Each pixel links to the nearest pixel (same distance) of strictly higher density in
 *     its window; links longer than `maxDist` are cut, and pixels without a link are roots.
 *  4. Each pixel gets the label of its tree's root; labels are 0..n-1 in the order of the
 *     roots' row-major index (skimage's `np.unique(..., return_inverse=True)`).
 */
import { createRng } from '../rng';

export interface QuickshiftOptions {
  /** Width (sigma) of the Gaussian density kernel; LIME: 4. */
  kernelSize?: number;
  /** Weight of colour against position; LIME: 0.2. */
  ratio?: number;
  /** Links longer than this are cut; LIME: 200. */
  maxDist?: number;
  /** 'lab': convert as skimage (convert2lab=True); 'raw': use the channel values as given. */
  colorSpace?: 'lab' | 'raw';
  /** Seed of the tie-breaking noise (skimage: 42). */
  seed?: number;
  /** Standard deviation of the tie-breaking noise (skimage: 1e-5); 0 disables it. */
  noiseScale?: number;
}

export interface QuickshiftResult {
  /** Segment label per pixel, row-major, 0..count-1. */
  labels: Int32Array;
  count: number;
  /** Parzen density per pixel (noise included). */
  densities: Float64Array;
  /** Row-major index of each pixel's parent after cutting (itself for roots). */
  parents: Int32Array;
}

export const LIME_QUICKSHIFT = { kernelSize: 4, ratio: 0.2, maxDist: 200 } as const;

// skimage.color: sRGB (D65) to XYZ, and the D65 / 2 degree white point.
const RGB_TO_XYZ = [
  [0.412453, 0.35758, 0.180423],
  [0.212671, 0.71516, 0.072169],
  [0.019334, 0.119193, 0.950227],
];
const WHITE = [0.95047, 1.0, 1.08883];

function linearize(v: number): number {
  return v > 0.04045 ? ((v + 0.055) / 1.055) ** 2.4 : v / 12.92;
}

function labF(t: number): number {
  return t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116;
}

/** One sRGB pixel (components nominally in [0, 1]) in CIE Lab, as skimage's rgb2lab. */
export function rgbToLab(r: number, g: number, b: number): [number, number, number] {
  const lin = [linearize(r), linearize(g), linearize(b)];
  const f = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const m = RGB_TO_XYZ[i];
    f[i] = labF((m[0] * lin[0] + m[1] * lin[1] + m[2] * lin[2]) / WHITE[i]);
  }
  return [116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])];
}

/**
 * The working features of an HWC image: Lab (3 values per pixel) for 1- or 3-channel images
 * when colorSpace is 'lab', else the channels as they are. Not yet scaled by ratio.
 */
export function workingColors(
  image: ArrayLike<number>,
  height: number,
  width: number,
  channels: number,
  colorSpace: 'lab' | 'raw',
): { values: Float64Array; channels: number } {
  const n = height * width;
  if (colorSpace === 'lab' && (channels === 1 || channels === 3)) {
    const values = new Float64Array(n * 3);
    for (let p = 0; p < n; p++) {
      const lab =
        channels === 3
          ? rgbToLab(image[p * 3], image[p * 3 + 1], image[p * 3 + 2])
          : rgbToLab(image[p], image[p], image[p]);
      values[p * 3] = lab[0];
      values[p * 3 + 1] = lab[1];
      values[p * 3 + 2] = lab[2];
    }
    return { values, channels: 3 };
  }
  return { values: Float64Array.from(image as ArrayLike<number>), channels };
}

/** Standard normal draws from the engine's seeded generator (Box-Muller). */
function gaussianNoise(count: number, seed: number, scale: number): Float64Array {
  const out = new Float64Array(count);
  if (scale === 0) return out;
  const rng = createRng(seed);
  for (let i = 0; i < count; i += 2) {
    const u1 = 1 - rng.next();
    const u2 = rng.next();
    const rad = Math.sqrt(-2 * Math.log(u1));
    out[i] = scale * rad * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = scale * rad * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/**
 * Quickshift on precomputed per-pixel features (already in the working space and already
 * scaled by ratio): steps 2 to 4 above.
 */
export function quickshiftFeatures(
  features: Float64Array,
  height: number,
  width: number,
  channels: number,
  opts: { kernelSize: number; maxDist: number; seed?: number; noiseScale?: number },
): QuickshiftResult {
  const { kernelSize, maxDist } = opts;
  if (!(kernelSize > 0)) throw new RangeError(`quickshift kernelSize must be positive, got ${kernelSize}`);
  const n = height * width;
  const invKernel = -0.5 / (kernelSize * kernelSize);
  const w = Math.ceil(3 * kernelSize);
  const densities = gaussianNoise(n, opts.seed ?? 42, opts.noiseScale ?? 1e-5);

  const dist2 = (p: number, q: number, dr: number, dc: number): number => {
    let d = dr * dr + dc * dc;
    const a = p * channels;
    const b = q * channels;
    for (let ch = 0; ch < channels; ch++) {
      const t = features[a + ch] - features[b + ch];
      d += t * t;
    }
    return d;
  };

  for (let r = 0; r < height; r++) {
    const r0 = Math.max(r - w, 0);
    const r1 = Math.min(r + w + 1, height);
    for (let c = 0; c < width; c++) {
      const c0 = Math.max(c - w, 0);
      const c1 = Math.min(c + w + 1, width);
      const p = r * width + c;
      let acc = 0;
      for (let r2 = r0; r2 < r1; r2++)
        for (let c2 = c0; c2 < c1; c2++) acc += Math.exp(dist2(p, r2 * width + c2, r - r2, c - c2) * invKernel);
      densities[p] += acc;
    }
  }

  const parents = new Int32Array(n);
  const maxDist2 = maxDist * maxDist;
  for (let r = 0; r < height; r++) {
    const r0 = Math.max(r - w, 0);
    const r1 = Math.min(r + w + 1, height);
    for (let c = 0; c < width; c++) {
      const c0 = Math.max(c - w, 0);
      const c1 = Math.min(c + w + 1, width);
      const p = r * width + c;
      const own = densities[p];
      let closest = Infinity;
      let parent = p;
      for (let r2 = r0; r2 < r1; r2++)
        for (let c2 = c0; c2 < c1; c2++) {
          const q = r2 * width + c2;
          if (densities[q] > own) {
            const d = dist2(p, q, r - r2, c - c2);
            if (d < closest) {
              closest = d;
              parent = q;
            }
          }
        }
      // sqrt(closest) > maxDist, compared on squares; roots (closest = inf) stay themselves.
      parents[p] = closest > maxDist2 ? p : parent;
    }
  }

  // Flatten the forest: every pixel points at its root. Links go to strictly higher
  // density, so there are no cycles.
  const roots = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    let q = p;
    while (parents[q] !== q) q = parents[q];
    roots[p] = q;
  }
  // Labels in increasing order of root index.
  const labelOfRoot = new Int32Array(n).fill(-1);
  let count = 0;
  for (let p = 0; p < n; p++) if (roots[p] === p) labelOfRoot[p] = count++;
  const labels = new Int32Array(n);
  for (let p = 0; p < n; p++) labels[p] = labelOfRoot[roots[p]];
  return { labels, count, densities, parents };
}

/**
 * Quickshift segmentation of one HWC image with pixels in [0, 1] (de-normalised). Defaults
 * are LIME's: kernelSize 4, ratio 0.2, maxDist 200, Lab colour space, seed 42.
 */
export function quickshift(
  image: ArrayLike<number>,
  height: number,
  width: number,
  channels: number,
  opts: QuickshiftOptions = {},
): QuickshiftResult {
  if (image.length !== height * width * channels) {
    throw new RangeError(
      `quickshift: image holds ${image.length} values, ${height}x${width}x${channels} needs ${height * width * channels}`,
    );
  }
  const ratio = opts.ratio ?? LIME_QUICKSHIFT.ratio;
  const { values, channels: k } = workingColors(image, height, width, channels, opts.colorSpace ?? 'lab');
  for (let i = 0; i < values.length; i++) values[i] *= ratio;
  return quickshiftFeatures(values, height, width, k, {
    kernelSize: opts.kernelSize ?? LIME_QUICKSHIFT.kernelSize,
    maxDist: opts.maxDist ?? LIME_QUICKSHIFT.maxDist,
    seed: opts.seed,
    noiseScale: opts.noiseScale,
  });
}
