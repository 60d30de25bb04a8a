// BatchNorm's training statistics and its gradient as two wasm kernels of one pass each.
//
// Why: after the convolutions got faster, BatchNorm was a fifth of a training step of the
// BN models (resnet, vggbn32, the demo's cnn): tf.moments and the closed-form gradient ran
// about ten full-size elementwise kernels per layer, all on one thread.
//
// How (channels last, C a multiple of 4, float32; models/batch-norm.ts uses the kernels only
// then, and keeps its tf.ops path on other backends):
//  - BatchNormMoments: x -> mean, biased variance: one SIMD pass of float64 column sums of x
//    and x * x (columnDots in simd-module.ts); variance = E[x^2] - mean^2 in float64.
//  - BatchNormTrainingGrad: dy, x, mean, invstd, gamma -> dx, dgamma, dbeta: one SIMD pass
//    for sum(dy) and sum(dy * x) (dgamma = invstd * (sum(dy * x) - mean * sum(dy)), in
//    float64), then one for dx = dy * A + (x - mean) * B + C per channel (affine2), which is
//    the closed form dx = gamma * invstd * (dy - dbeta / N - xhat * dgamma / N).
// Both passes are split over the threads: the sums by fixed row blocks added in order, the
// input gradient by rows, so results do not depend on the thread count.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { wasmThreads } from '../wasm-threads';
import { backendSimdInstance, type SimdInstance } from './simd-module';
import { runShares, splitRanges } from './simd-pool';
import {
  asBackend,
  free,
  heapF32,
  heapOffset,
  input,
  markOwn,
  sizeOf,
  type BackendWasm,
  type KernelArgs,
} from './wasm-util';

export const BATCH_NORM_MOMENTS = 'BatchNormMoments';
export const BATCH_NORM_GRAD = 'BatchNormTrainingGrad';

/** Row blocks of the column sums: fixed, so the sums are added in the same order for any thread count. */
const ROW_BLOCKS = 8;

function simdFor(backend: BackendWasm, x: TensorInfo): SimdInstance {
  const simd = backendSimdInstance(backend);
  const c = x.shape[x.shape.length - 1];
  if (!simd || x.dtype !== 'float32' || c % 4 !== 0) {
    throw new Error(
      `${BATCH_NORM_MOMENTS}: needs float32 channels-last input with channels a multiple of 4 and WebAssembly SIMD`,
    );
  }
  return simd;
}

/** Float64 column sums of a and of a * b, both [rows x c]. */
function columnDotSums(
  simd: SimdInstance,
  backend: BackendWasm,
  a: TensorInfo,
  b: TensorInfo,
  rows: number,
  c: number,
): { sums: Float64Array; dots: Float64Array } {
  const rowBytes = c * 4;
  const blockRows = Math.max(1, Math.ceil(rows / ROW_BLOCKS));
  const blocks = Math.ceil(rows / blockRows);
  const scratch = backend.makeOutput([blocks * 4 * c], 'float32'); // blocks x 2C float64
  const [aAt, bAt, accAt] = [a, b, scratch].map((t) => heapOffset(backend, t));
  new Float64Array(heapF32(backend, scratch).buffer, accAt, blocks * 2 * c).fill(0);
  const shares = splitRanges(blocks, wasmThreads()).map(([b0, b1]) => {
    const [r0, r1] = [b0 * blockRows, Math.min(rows, b1 * blockRows)];
    return [aAt + r0 * rowBytes, bAt + r0 * rowBytes, r1 - r0, rowBytes, accAt + b0 * 4 * rowBytes, blockRows];
  });
  if (rows > 0) runShares(simd, 'columnDots', shares);
  const acc = new Float64Array(heapF32(backend, scratch).buffer, accAt, blocks * 2 * c);
  const sums = new Float64Array(c);
  const dots = new Float64Array(c);
  for (let k = 0; k < blocks; k++) {
    for (let j = 0; j < c; j++) {
      sums[j] += acc[k * 2 * c + j];
      dots[j] += acc[k * 2 * c + c + j];
    }
  }
  free(backend, scratch);
  return { sums, dots };
}

function channelVector(backend: BackendWasm, values: Float64Array): TensorInfo {
  const out = backend.makeOutput([values.length], 'float32');
  heapF32(backend, out).set(values);
  return out;
}

function batchNormMoments(args: KernelArgs): TensorInfo[] {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const simd = simdFor(backend, x);
  const c = x.shape[x.shape.length - 1];
  const rows = sizeOf(x.shape) / c;
  const { sums, dots } = columnDotSums(simd, backend, x, x, rows, c);
  const mean = sums.map((s) => s / rows);
  const variance = dots.map((d, j) => Math.max(0, d / rows - mean[j] * mean[j]));
  return [channelVector(backend, mean), channelVector(backend, variance)];
}

function batchNormTrainingGrad(args: KernelArgs): TensorInfo[] {
  const backend = asBackend(args);
  const [dy, x, meanT, invstdT, gammaT] = ['dy', 'x', 'mean', 'invstd', 'gamma'].map((n) => input(args, n));
  const simd = simdFor(backend, x);
  const c = x.shape[x.shape.length - 1];
  const rows = sizeOf(x.shape) / c;
  const { sums: dbeta, dots } = columnDotSums(simd, backend, dy, x, rows, c);
  const [mean, invstd, gamma] = [meanT, invstdT, gammaT].map((t) => Float64Array.from(heapF32(backend, t)));
  const dgamma = dots.map((d, j) => invstd[j] * (d - mean[j] * dbeta[j]));
  // dx = dy * A + (x - mean) * B + C per channel, as affine2's four coefficient rows.
  const params = new Float64Array(4 * c);
  for (let j = 0; j < c; j++) {
    const a = gamma[j] * invstd[j];
    params[j] = a;
    params[c + j] = mean[j];
    params[2 * c + j] = (-a * invstd[j] * dgamma[j]) / rows;
    params[3 * c + j] = (-a * dbeta[j]) / rows;
  }
  const coefficients = channelVector(backend, params);
  const dx = backend.makeOutput(x.shape, 'float32');
  const [dyAt, xAt, pAt, dxAt] = [dy, x, coefficients, dx].map((t) => heapOffset(backend, t));
  const rowBytes = c * 4;
  const shares = splitRanges(rows, wasmThreads()).map(([r0, r1]) => [
    dyAt + r0 * rowBytes,
    xAt + r0 * rowBytes,
    r1 - r0,
    rowBytes,
    pAt,
    dxAt + r0 * rowBytes,
  ]);
  if (rows > 0) runShares(simd, 'affine2', shares);
  free(backend, coefficients);
  return [dx, channelVector(backend, dgamma), channelVector(backend, dbeta)];
}

export const batchNormMomentsConfig: KernelConfig = {
  kernelName: BATCH_NORM_MOMENTS,
  backendName: 'wasm',
  kernelFunc: markOwn(batchNormMoments as unknown as KernelConfig['kernelFunc']),
};

export const batchNormTrainingGradConfig: KernelConfig = {
  kernelName: BATCH_NORM_GRAD,
  backendName: 'wasm',
  kernelFunc: markOwn(batchNormTrainingGrad as unknown as KernelConfig['kernelFunc']),
};
