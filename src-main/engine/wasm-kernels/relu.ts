// Relu for the wasm backend: max(x, 0) as the stock kernel (NaN stays NaN, -0 becomes +0).
//
// Why: the stock kernel runs on XNNPACK's pool, which the engine holds at one thread (see
// wasm-threads.ts); in the BN models every ReLU is its own full-size op (11 ms of vggbn32's
// training step on 2 threads). The SIMD routine relu (simd-module.ts) splits it over the
// engine's threads by element ranges; a JavaScript loop finishes the last size % 4 elements.
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { elementwise } from './elementwise';
import { backendSimdInstance } from './simd-module';
import { asBackend, input, markOwn, runKernel, type KernelArgs } from './wasm-util';

function relu(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const simd = x.dtype === 'float32' ? backendSimdInstance(backend) : null;
  if (!simd) return runKernel(backend, 'Relu', { x });
  return elementwise(
    simd,
    backend,
    'relu',
    [x],
    ([xAt], outAt, bytes) => [xAt, outAt, bytes],
    (v) => (v > 0 || Number.isNaN(v) ? v : 0),
  );
}

export const reluConfig: KernelConfig = {
  kernelName: 'Relu',
  backendName: 'wasm',
  kernelFunc: markOwn(relu as unknown as KernelConfig['kernelFunc']),
};
