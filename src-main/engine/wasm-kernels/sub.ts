// Sub for the wasm backend: per-channel broadcasts through XNNPACK.
//
// Why: BatchNorm (x - mean) and its gradient subtract per-channel vectors from full NHWC
// tensors. The stock kernel uses XNNPACK only for equal shapes; a broadcast takes a generic
// loop at ~2.5x the time of an equal-shape op.
//
// How: x - v -> channelAffine(x, 1, -v) and v - x -> channelAffine(x, -1, v) (see
// channel-affine.ts), one XNNPACK channel-wise pass. Equal shapes, other broadcasts, small
// tensors and non-float32 inputs go to the stock kernel.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { channelAffine, splitChannelOperands } from './channel-affine';
import { asBackend, input, markOwn, runKernel, type KernelArgs } from './wasm-util';

function sub(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const a = input(args, 'a');
  const b = input(args, 'b');
  const s = splitChannelOperands(backend, a, b);
  if (s === null) return runKernel(backend, 'Sub', { a, b });
  const c = s.values.length;
  if (s.fullIsA)
    return channelAffine(
      backend,
      s.full,
      new Float64Array(c).fill(1),
      s.values.map((v) => -v),
    );
  return channelAffine(backend, s.full, new Float64Array(c).fill(-1), s.values);
}

export const subConfig: KernelConfig = {
  kernelName: 'Sub',
  backendName: 'wasm',
  kernelFunc: markOwn(sub as unknown as KernelConfig['kernelFunc']),
};
