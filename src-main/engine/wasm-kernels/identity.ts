// Identity for the wasm backend, sharing the buffer instead of copying.
//
// Why: the gradient tape and tf.layers produce many identities/same-dtype casts of full-size
// activations (about 200 per VGG training step, ~60 ms of memcpy). Tensor buffers are never
// written in place by wasm kernels, so a copy is unnecessary.
//
// How: like the stock Reshape kernel, return a TensorInfo with the input's dataId and bump the
// backend reference count; the engine disposes it like any other output. Strings go to the
// stock kernel. cast.ts does the same for casts to the same dtype.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { asBackend, input, markOwn, runKernel, type KernelArgs } from './wasm-util';

function identity(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  if (x.dtype === 'string') return runKernel(backend, 'Identity', { x });
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export const identityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: markOwn(identity as unknown as KernelConfig['kernelFunc']),
};
