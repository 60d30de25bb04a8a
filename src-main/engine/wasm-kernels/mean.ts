// Mean for the wasm backend, fast when reducing the leading axes.
//
// Why: tf.moments (BatchNorm in training) takes means of NHWC tensors over [0,1,2]; the stock
// kernel transposes the whole tensor first (see reduce-leading.ts).
//
// How: float32 reductions over exactly the leading axes use the one-pass column reduction
// divided by the reduced count; every other case goes to the stock kernel.
import type { KernelConfig, MeanAttrs, TensorInfo } from '@tensorflow/tfjs';
import { leadingAxesCount, reduceLeading } from './reduce-leading';
import { asBackend, input, markOwn, runKernel, sizeOf, type KernelArgs } from './wasm-util';

function mean(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const { axis, keepDims } = args.attrs as unknown as MeanAttrs;
  const k = x.dtype === 'float32' && sizeOf(x.shape) > 0 ? leadingAxesCount(axis, x.shape) : 0;
  if (k === 0) return runKernel(backend, 'Mean', { x }, { axis, keepDims });
  return reduceLeading(backend, x, k, keepDims, true);
}

export const meanConfig: KernelConfig = {
  kernelName: 'Mean',
  backendName: 'wasm',
  kernelFunc: markOwn(mean as unknown as KernelConfig['kernelFunc']),
};
