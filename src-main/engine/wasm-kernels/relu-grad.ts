// ReLU's gradient dy * step(x) as one wasm kernel (one pass instead of Step, then Multiply).
//
// Why: in the BN models every ReLU is its own op, and its gradient ran two full-size kernels
// (about 28 ms of vggbn32's training step on 2 threads, memory-bound: x read, step written and
// read back, dy read, the product written). The SIMD routine reluGrad (simd-module.ts) reads
// x and dy once and writes the product: the same multiplications as the stock gradient, so
// the same bits, split over the threads by element ranges.
//
// How: TF.js's gradient registry holds one gradient per kernel name; `registerReluGradient`
// replaces Relu's with one that runs this kernel where the active backend has it and the
// stock formula mul(dy, cast(step(x), 'float32')) everywhere else.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { elementwise } from './elementwise';
import { backendSimdInstance } from './simd-module';
import { asBackend, free, input, markOwn, runKernel, type KernelArgs } from './wasm-util';

export const RELU_GRAD = 'ReluGradient';

function reluGradient(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const dy = input(args, 'dy');
  const x = input(args, 'x');
  const simd = backendSimdInstance(backend);
  if (!simd) {
    const step = runKernel(backend, 'Step', { x }, { alpha: 0 });
    const out = runKernel(backend, 'Multiply', { a: dy, b: step });
    free(backend, step);
    return out;
  }
  return elementwise(
    simd,
    backend,
    'reluGrad',
    [dy, x],
    ([dyAt, xAt], outAt, bytes) => [xAt, outAt, bytes, dyAt],
    (d, v) => d * (Number.isNaN(v) ? NaN : v > 0 ? 1 : 0),
  );
}

export const reluGradientConfig: KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: 'wasm',
  kernelFunc: markOwn(reluGradient as unknown as KernelConfig['kernelFunc']),
};

/** Replaces Relu's gradient by one that uses RELU_GRAD where the backend has it (see above). */
export function registerReluGradient(): void {
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [x] = saved;
      const g = dy as tf.Tensor;
      const fused =
        g.dtype === 'float32' && x.dtype === 'float32' && tf.getKernel(RELU_GRAD, tf.getBackend()) !== undefined;
      return {
        x: () =>
          fused
            ? (tf.engine().runKernel(RELU_GRAD, { dy: g, x }, {}) as tf.Tensor)
            : tf.mul(g, tf.cast(tf.step(x), 'float32')),
      };
    },
  });
}
