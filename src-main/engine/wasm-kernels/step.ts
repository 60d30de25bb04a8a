// Step for the wasm backend (ReLU's derivative in the gradient of every fused conv/dense
// layer with a ReLU): 1 where x > 0, NaN where x is NaN, else alpha, as the stock kernel.
//
// Why: the stock kernel is a scalar loop on one thread (6 ms of cnn28's 214 ms training step
// on 2 threads). The SIMD routine (simd-module.ts) does four elements per instruction, split
// over the threads by element ranges; a JavaScript loop finishes the last size % 4 elements.
import type { KernelConfig, StepAttrs, TensorInfo } from '@tensorflow/tfjs';
import { elementwise } from './elementwise';
import { backendSimdInstance } from './simd-module';
import { asBackend, input, markOwn, runKernel, type KernelArgs } from './wasm-util';

function step(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const alpha = (args.attrs as unknown as StepAttrs).alpha ?? 0;
  const simd = x.dtype === 'float32' ? backendSimdInstance(backend) : null;
  if (!simd) return runKernel(backend, 'Step', { x }, { alpha });
  const alphaBits = new Int32Array(new Float32Array([alpha]).buffer)[0];
  return elementwise(
    simd,
    backend,
    'step',
    [x],
    ([xAt], outAt, bytes) => [xAt, outAt, bytes, alphaBits],
    (v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : alpha),
  );
}

export const stepConfig: KernelConfig = {
  kernelName: 'Step',
  backendName: 'wasm',
  kernelFunc: markOwn(step as unknown as KernelConfig['kernelFunc']),
};
