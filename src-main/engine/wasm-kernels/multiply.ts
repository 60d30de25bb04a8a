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
import { elementwise } from './elementwise';
import { backendSimdInstance } from './simd-module';
import { asBackend, input, markOwn, runKernel, sizeOf, type KernelArgs } from './wasm-util';

function multiply(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const a = input(args, 'a');
  const b = input(args, 'b');
  if (sameShapeFloat32(a, b) && sizeOf(a.shape) >= MIN_THREADED_SIZE) {
    const simd = backendSimdInstance(backend);
    if (simd)
      return elementwise(
        simd,
        backend,
        'multiply',
        [a, b],
        ([aAt, bAt], outAt, bytes) => [aAt, bAt, outAt, bytes],
        (u, v) => u * v,
      );
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

export const multiplyConfig: KernelConfig = {
  kernelName: 'Multiply',
  backendName: 'wasm',
  kernelFunc: markOwn(multiply as unknown as KernelConfig['kernelFunc']),
};
