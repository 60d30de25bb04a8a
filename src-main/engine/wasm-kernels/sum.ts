// Sum for the wasm backend, fast when reducing the leading axes.
//
// Why: bias and BatchNorm gradients sum NHWC tensors over [0,1,2]; the stock kernel first
// transposes the whole tensor (see reduce-leading.ts). That was ~8% of a VGG training step.
//
// How: float32 reductions over exactly the leading axes use the one-pass column reduction;
// every other case (trailing axes, full reductions, int32/bool) goes to the stock kernel,
// which handles those without a transpose.
import type { KernelConfig, SumAttrs, TensorInfo } from '@tensorflow/tfjs';
import { leadingAxesCount, reduceLeading } from './reduce-leading';
import { asBackend, input, markOwn, runKernel, sizeOf, type KernelArgs } from './wasm-util';

function sum(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const { axis, keepDims } = args.attrs as unknown as SumAttrs;
  const k = x.dtype === 'float32' && sizeOf(x.shape) > 0 ? leadingAxesCount(axis, x.shape) : 0;
  if (k === 0) return runKernel(backend, 'Sum', { x }, { axis, keepDims });
  return reduceLeading(backend, x, k, keepDims, false);
}

export const sumConfig: KernelConfig = {
  kernelName: 'Sum',
  backendName: 'wasm',
  kernelFunc: markOwn(sum as unknown as KernelConfig['kernelFunc']),
};
