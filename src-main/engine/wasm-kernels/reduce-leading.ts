// Column reduction shared by the Sum and Mean kernels.
//
// Why: reducing an NHWC tensor over its leading axes ([0,1,2]: bias, BatchNorm and moments
// gradients) makes the stock kernels transpose the whole tensor so that the reduced axes come
// last (a cache-unfriendly naive 4-D transpose), then sum rows: ~4x the cost of one pass.
//
// How: view x as [R, C] (R = product of the reduced leading dims) and add the R rows into a
// Float64 accumulator of length C in one contiguous pass: a SIMD routine where C is a multiple
// of 4 (simd-module.ts: each float widened to float64 before it is added), a JavaScript loop
// otherwise. The double accumulator is also more accurate than the float32 running sum of
// the stock kernel.
import { util } from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { backendSimd, type SimdRoutines } from './simd-module';
import { free, heapF32, heapOffset, type BackendWasm } from './wasm-util';

/** Number of leading axes reduced when `axis` is exactly {0..k-1} with 0 < k < rank; else 0. */
export function leadingAxesCount(axis: number | number[], shape: number[]): number {
  const axes = util.parseAxisParam(axis, shape);
  const k = axes.length;
  if (k === 0 || k >= shape.length) return 0;
  const sorted = [...axes].sort((a, b) => a - b);
  for (let i = 0; i < k; i++) if (sorted[i] !== i) return 0;
  return k;
}

/** Sum (scale 1) or mean (scale 1/R) of float32 x over its first k axes. */
export function reduceLeading(
  backend: BackendWasm,
  x: TensorInfo,
  k: number,
  keepDims: boolean,
  mean: boolean,
): TensorInfo {
  const rest = x.shape.slice(k);
  const c = util.sizeFromShape(rest);
  const r = util.sizeFromShape(x.shape.slice(0, k));
  const outShape = keepDims ? [...new Array<number>(k).fill(1), ...rest] : rest;
  const out = backend.makeOutput(outShape, 'float32');
  const simd = c % 4 === 0 ? backendSimd(backend) : null;
  const acc = simd ? simdColumnSums(simd, backend, x, r, c) : jsColumnSums(heapF32(backend, x), r, c);
  if (mean && r > 0) for (let j = 0; j < c; j++) acc[j] /= r;
  heapF32(backend, out).set(acc);
  return out;
}

/** The SIMD routine's float64 column sums, accumulated in a scratch buffer on the heap. */
function simdColumnSums(simd: SimdRoutines, backend: BackendWasm, x: TensorInfo, r: number, c: number): Float64Array {
  const scratch = backend.makeOutput([2 * c], 'float32');
  const at = heapOffset(backend, scratch);
  const sums = new Float64Array(heapF32(backend, scratch).buffer, at, c);
  sums.fill(0);
  simd.columnSums(heapOffset(backend, x), r, c * 4, at);
  const acc = Float64Array.from(new Float64Array(heapF32(backend, scratch).buffer, at, c));
  free(backend, scratch);
  return acc;
}

function jsColumnSums(xv: Float32Array, r: number, c: number): Float64Array {
  const acc = new Float64Array(c);
  // Eight rows per pass: the pairwise sum of 8 loads per accumulator update is ~3x faster
  // than one row at a time (fewer read-modify-writes of acc).
  let row = 0;
  for (; row + 8 <= r; row += 8) {
    const base = row * c;
    for (let j = 0; j < c; j++) {
      const i = base + j;
      acc[j] +=
        xv[i] +
        xv[i + c] +
        (xv[i + 2 * c] + xv[i + 3 * c]) +
        (xv[i + 4 * c] + xv[i + 5 * c] + (xv[i + 6 * c] + xv[i + 7 * c]));
    }
  }
  for (; row < r; row++) {
    const base = row * c;
    for (let j = 0; j < c; j++) acc[j] += xv[base + j];
  }
  return acc;
}
