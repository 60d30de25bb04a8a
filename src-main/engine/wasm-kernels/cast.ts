// Cast for the wasm backend: a cast to the input's own dtype shares the buffer.
//
// Why: tfjs-core gradients call cast(x, 'float32') on float32 tensors (mul/div/BatchNorm
// gradients), and the stock kernel copies the whole tensor every time.
//
// How: same dtype -> return the input's dataId with an extra backend reference (as Reshape and
// our Identity do); any real conversion goes to the stock kernel.
import type { CastAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { asBackend, input, markOwn, runKernel, type KernelArgs } from './wasm-util';

function cast(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const { dtype } = args.attrs as unknown as CastAttrs;
  if (dtype !== x.dtype || x.dtype === 'string') return runKernel(backend, 'Cast', { x }, { dtype });
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export const castConfig: KernelConfig = {
  kernelName: 'Cast',
  backendName: 'wasm',
  kernelFunc: markOwn(cast as unknown as KernelConfig['kernelFunc']),
};
