// Multiply for the wasm backend: per-channel broadcasts through XNNPACK.
//
// Why: BatchNorm gradients multiply full NHWC tensors by per-channel vectors ([C] or
// [1,1,1,C]). The stock kernel uses XNNPACK only for equal shapes; a broadcast takes a generic
// loop at ~2.5x the time of an equal-shape op.
//
// How: x * v -> channelAffine(x, scale = v, no shift) (see channel-affine.ts), one XNNPACK
// channel-wise pass. Equal shapes, other broadcasts, small tensors and non-float32 inputs go
// to the stock kernel.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { channelAffine, splitChannelOperands } from './channel-affine';
import { asBackend, input, markOwn, runKernel, type KernelArgs } from './wasm-util';

function multiply(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const a = input(args, 'a');
  const b = input(args, 'b');
  const s = splitChannelOperands(backend, a, b);
  if (s === null) return runKernel(backend, 'Multiply', { a, b });
  return channelAffine(backend, s.full, s.values, null);
}

export const multiplyConfig: KernelConfig = {
  kernelName: 'Multiply',
  backendName: 'wasm',
  kernelFunc: markOwn(multiply as unknown as KernelConfig['kernelFunc']),
};
