// Multiply for the wasm backend: per-channel broadcasts through XNNPACK.
//
// Why: BatchNorm gradients multiply full NHWC tensors by per-channel vectors ([C] or
// [1,1,1,C]). The stock kernel uses XNNPACK only for equal shapes; a broadcast takes a generic
// loop at ~2.5x the time of an equal-shape op.
//
// How: x * v -> channelAffine(x, scale = v, no shift) (see channel-affine.ts), one XNNPACK
// channel-wise pass. Large equal shapes (ReLU's gradient dy * step(y) in every fused layer)
// run the SIMD routine split over the threads, where the stock XNNPACK op uses one. Other
// broadcasts, small tensors and non-float32 inputs go to the stock kernel.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { channelAffine, splitChannelOperands } from './channel-affine';
import { wasmThreads } from '../wasm-threads';
import { backendSimdInstance, type SimdInstance } from './simd-module';
import { elementRanges, runShares } from './simd-pool';
import {
  asBackend,
  heapF32,
  heapOffset,
  input,
  markOwn,
  runKernel,
  sizeOf,
  type BackendWasm,
  type KernelArgs,
} from './wasm-util';

function multiply(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const a = input(args, 'a');
  const b = input(args, 'b');
  if (sameShapeFloat32(a, b) && sizeOf(a.shape) >= MIN_THREADED_SIZE) {
    const simd = backendSimdInstance(backend);
    if (simd) return threadedMultiply(simd, backend, a, b);
  }
  const s = splitChannelOperands(backend, a, b);
  if (s === null) return runKernel(backend, 'Multiply', { a, b });
  return channelAffine(backend, s.full, s.values, null);
}

/** Equal shapes from this many elements: the SIMD routine over the threads (the stock XNNPACK op runs on one). */
const MIN_THREADED_SIZE = 65536;

function sameShapeFloat32(a: TensorInfo, b: TensorInfo): boolean {
  return (
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    a.shape.length === b.shape.length &&
    a.shape.every((d, i) => d === b.shape[i])
  );
}

/** a * b, equal shapes: the SIMD routine split over the threads, the last size % 4 in JavaScript. */
function threadedMultiply(simd: SimdInstance, backend: BackendWasm, a: TensorInfo, b: TensorInfo): TensorInfo {
  const n = sizeOf(a.shape);
  const out = backend.makeOutput(a.shape, 'float32');
  const vectorised = n - (n % 4);
  const [aAt, bAt, outAt] = [a, b, out].map((t) => heapOffset(backend, t));
  const shares = elementRanges(vectorised, wasmThreads()).map(([s, e]) => [
    aAt + 4 * s,
    bAt + 4 * s,
    outAt + 4 * s,
    4 * (e - s),
  ]);
  runShares(simd, 'multiply', shares);
  const [av, bv, ov] = [a, b, out].map((t) => heapF32(backend, t));
  for (let i = vectorised; i < n; i++) ov[i] = av[i] * bv[i];
  return out;
}

export const multiplyConfig: KernelConfig = {
  kernelName: 'Multiply',
  backendName: 'wasm',
  kernelFunc: markOwn(multiply as unknown as KernelConfig['kernelFunc']),
};
