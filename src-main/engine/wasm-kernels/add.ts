// Add for the wasm backend: per-channel broadcasts through XNNPACK.
//
// Why: BatchNorm and bias paths add per-channel vectors to full NHWC tensors. The stock
// kernel uses XNNPACK only for equal shapes; a broadcast takes a generic loop at ~2.5x the
// time of an equal-shape op.
//
// How: x + v -> channelAffine(x, scale = 1, shift = v) (see channel-affine.ts), one XNNPACK
// channel-wise pass. Equal shapes, other broadcasts, small tensors and non-float32 inputs go
// to the stock kernel.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { channelAffine, splitChannelOperands } from './channel-affine';
import { asBackend, input, markOwn, runKernel, type KernelArgs } from './wasm-util';

function add(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const a = input(args, 'a');
  const b = input(args, 'b');
  const s = splitChannelOperands(backend, a, b);
  if (s === null) return runKernel(backend, 'Add', { a, b });
  return channelAffine(backend, s.full, new Float64Array(s.values.length).fill(1), s.values);
}

export const addConfig: KernelConfig = {
  kernelName: 'Add',
  backendName: 'wasm',
  kernelFunc: markOwn(add as unknown as KernelConfig['kernelFunc']),
};
