// The shared shape of the elementwise kernels built on SIMD routines (Step, ReLU's gradient,
// Multiply): whole vectors of four by the routine, split over the threads by element ranges,
// and the last size % 4 elements in JavaScript.
import type { TensorInfo } from '@tensorflow/tfjs';
import { wasmThreads } from '../wasm-threads';
import type { SimdInstance, SimdRoutines } from './simd-module';
import { elementRanges, runShares } from './simd-pool';
import { heapF32, heapOffset, sizeOf, type BackendWasm } from './wasm-util';

/**
 * out[i] = tail(inputs[0][i], inputs[1][i], ...) for float32 inputs of one shape: the routine
 * `name` on each thread's range, called with args(input byte offsets, output byte offset, byte
 * length) of that range; `tail` (the same function in JavaScript) for the last size % 4.
 */
export function elementwise(
  simd: SimdInstance,
  backend: BackendWasm,
  name: keyof SimdRoutines,
  inputs: TensorInfo[],
  args: (inputsAt: number[], outAt: number, bytes: number) => number[],
  tail: (...values: number[]) => number,
): TensorInfo {
  const n = sizeOf(inputs[0].shape);
  const out = backend.makeOutput(inputs[0].shape, 'float32');
  const vectorised = n - (n % 4);
  const inputsAt = inputs.map((t) => heapOffset(backend, t));
  const outAt = heapOffset(backend, out);
  if (vectorised > 0) {
    const shares = elementRanges(vectorised, wasmThreads()).map(([s, e]) =>
      args(
        inputsAt.map((at) => at + 4 * s),
        outAt + 4 * s,
        4 * (e - s),
      ),
    );
    runShares(simd, name, shares);
  }
  const views = inputs.map((t) => heapF32(backend, t));
  const ov = heapF32(backend, out);
  for (let i = vectorised; i < n; i++) ov[i] = tail(...views.map((v) => v[i]));
  return out;
}
