// Step for the wasm backend (ReLU's derivative in the gradient of every fused conv/dense
// layer with a ReLU): 1 where x > 0, NaN where x is NaN, else alpha, as the stock kernel.
//
// Why: the stock kernel is a scalar loop on one thread (6 ms of cnn28's 214 ms training step
// on 2 threads). The SIMD routine (simd-module.ts) does four elements per instruction, split
// over the threads by element ranges; a JavaScript loop finishes the last size % 4 elements.
import type { KernelConfig, StepAttrs, TensorInfo } from '@tensorflow/tfjs';
import { wasmThreads } from '../wasm-threads';
import { backendSimdInstance } from './simd-module';
import { elementRanges, runShares } from './simd-pool';
import { asBackend, heapF32, heapOffset, input, markOwn, runKernel, sizeOf, type KernelArgs } from './wasm-util';

function step(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const alpha = (args.attrs as unknown as StepAttrs).alpha ?? 0;
  const simd = x.dtype === 'float32' ? backendSimdInstance(backend) : null;
  if (!simd) return runKernel(backend, 'Step', { x }, { alpha });
  const n = sizeOf(x.shape);
  const out = backend.makeOutput(x.shape, 'float32');
  const vectorised = n - (n % 4);
  const [xAt, outAt] = [x, out].map((t) => heapOffset(backend, t));
  const alphaBits = new Int32Array(new Float32Array([alpha]).buffer)[0];
  if (vectorised > 0) {
    const shares = elementRanges(vectorised, wasmThreads()).map(([a, b]) => [
      xAt + 4 * a,
      outAt + 4 * a,
      4 * (b - a),
      alphaBits,
    ]);
    runShares(simd, 'step', shares);
  }
  const [xv, ov] = [x, out].map((t) => heapF32(backend, t));
  for (let i = vectorised; i < n; i++) ov[i] = Number.isNaN(xv[i]) ? NaN : xv[i] > 0 ? 1 : alpha;
  return out;
}

export const stepConfig: KernelConfig = {
  kernelName: 'Step',
  backendName: 'wasm',
  kernelFunc: markOwn(step as unknown as KernelConfig['kernelFunc']),
};
