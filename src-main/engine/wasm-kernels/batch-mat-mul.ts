// BatchMatMul for the wasm backend with fast transposed operands.
//
// Why: the stock kernel only uses XNNPACK's fully-connected GEMM for a single, non-transposed
// product; with transposeA or transposeB (both dense-layer gradients: dx = dy·Wᵀ and
// dW = xᵀ·dy) it falls back to a blocked scalar loop that is ~10x slower.
//
// How: materialise the transposed operand with the C++ Transpose kernel (a cheap O(size)
// copy next to the O(m·n·k) product) and call the stock kernel with transposeA/B = false, so
// it takes the XNNPACK path. Batched products (batch > 1) are left to the stock kernel.
import type { BatchMatMulAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { asBackend, free, input, markOwn, runKernel, sizeOf, view, type BackendWasm, type KernelArgs } from './wasm-util';

function as3d(t: TensorInfo): TensorInfo {
  const r = t.shape.length;
  return view(t, [sizeOf(t.shape.slice(0, r - 2)), t.shape[r - 2], t.shape[r - 1]]);
}

/** Transposes the last two axes of a [1, r, c] matrix into a new [1, c, r] buffer. */
function transposed(backend: BackendWasm, t: TensorInfo): TensorInfo {
  const out = runKernel(backend, 'Transpose', { x: view(t, [t.shape[1], t.shape[2]]) }, { perm: [1, 0] });
  out.shape = [1, t.shape[2], t.shape[1]];
  return out;
}

function batchMatMul(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const a = input(args, 'a');
  const b = input(args, 'b');
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  const a3 = as3d(a);
  const b3 = as3d(b);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a3.shape[0] !== 1 || b3.shape[0] !== 1 || (!transposeA && !transposeB)) {
    return runKernel(backend, 'BatchMatMul', { a, b }, { transposeA, transposeB });
  }
  const aa = transposeA ? transposed(backend, a3) : a3;
  const bb = transposeB ? transposed(backend, b3) : b3;
  const out = runKernel(backend, 'BatchMatMul', { a: aa, b: bb }, { transposeA: false, transposeB: false });
  if (aa !== a3) free(backend, aa);
  if (bb !== b3) free(backend, bb);
  // Keep the leading (size-1) batch dims of the inputs, as the stock kernel does.
  const rank = Math.max(a.shape.length, b.shape.length);
  const lead = new Array<number>(rank - 2).fill(1);
  out.shape = [...lead, out.shape[1], out.shape[2]];
  return out;
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: markOwn(batchMatMul as unknown as KernelConfig['kernelFunc']),
};
