// BatchMatMul for the wasm backend with fast transposed operands.
//
// Why: the stock kernel only uses XNNPACK's fully-connected GEMM for a single, non-transposed
// product; with transposeA or transposeB (both dense-layer gradients: dx = dy·Wᵀ and
// dW = xᵀ·dy) it falls back to a blocked scalar loop that is ~10x slower.
//
// How: call the stock kernel with transposeA/B = false, so it takes the XNNPACK path, after
// materialising transposed operands with a 2-D transpose. XNNPACK packs the right operand
// (K x N) on every call, as the weights are a new tensor each step. Two equivalent routes:
//   direct:     C  = op(A) · op(B)                 copies: op(A) if tA, op(B) if tB, packs K·N
//   transposed: Cᵀ = op(B)ᵀ · op(A)ᵀ, then Cᵀ -> C copies: op(B)ᵀ if !tB, op(A)ᵀ if !tA, packs
//                                                  K·M, plus the M·N output transpose
// and the one moving fewer elements is used (dx = dy·Wᵀ with a wide W takes the second: no
// copy of W at all). Batched products (batch > 1) are left to the stock kernel.
import type { BatchMatMulAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { conv2dForward } from './conv2d';
import { backendSimd, backendSimdInstance } from './simd-module';
import {
  asBackend,
  free,
  heapF32,
  heapOffset,
  input,
  markOwn,
  runKernel,
  sizeOf,
  view,
  type BackendWasm,
  type KernelArgs,
} from './wasm-util';

/** [r, c] -> new [c, r] buffer. Both dimensions multiples of 4: the SIMD routine (4x4 blocks;
 * a dense layer's 128 x 9,216 input in 0.6 ms, where the stock kernel took 9 ms). Otherwise
 * tall matrices use a tiled JS loop (the stock C++ transpose writes with a large stride and is
 * ~2.5x slower there) and wide ones the stock kernel. */
function transpose2d(backend: BackendWasm, t: TensorInfo, r: number, c: number): TensorInfo {
  const simd = r % 4 === 0 && c % 4 === 0 ? backendSimd(backend) : null;
  if (simd) {
    const out = backend.makeOutput([c, r], 'float32');
    simd.transpose(heapOffset(backend, t), r, c, heapOffset(backend, out));
    return out;
  }
  if (r <= c) return runKernel(backend, 'Transpose', { x: view(t, [r, c]) }, { perm: [1, 0] });
  const out = backend.makeOutput([c, r], 'float32');
  const src = heapF32(backend, t);
  const dst = heapF32(backend, out);
  const B = 16;
  for (let c0 = 0; c0 < c; c0 += B) {
    const c1 = Math.min(c, c0 + B);
    for (let r0 = 0; r0 < r; r0 += B) {
      const r1 = Math.min(r, r0 + B);
      for (let j = c0; j < c1; j++) {
        const d = j * r;
        for (let i = r0; i < r1; i++) dst[d + i] = src[i * c + j];
      }
    }
  }
  return out;
}

/**
 * Plain [m,k]·[k,n]; `a`/`b` are 2-D row-major buffers. As a 1x1 convolution of m positions
 * where conv2d.ts's direct routine applies (n a multiple of 8, m large; any m in the fused
 * flavour, whose rounding differs from XNNPACK's: a row's result must not depend on m), else
 * XNNPACK's GEMM via the stock kernel.
 */
function gemm(backend: BackendWasm, a: TensorInfo, b: TensorInfo, m: number, k: number, n: number): TensorInfo {
  if (n % 8 === 0 && (m >= 1024 || backendSimdInstance(backend)?.fused === true)) {
    const c = conv2dForward(backend, view(a, [1, 1, m, k]), view(b, [1, 1, k, n]), {
      strides: [1, 1],
      pad: 'valid',
      dilations: [1, 1],
      dataFormat: 'NHWC',
    });
    c.shape = [1, m, n];
    return c;
  }
  return runKernel(
    backend,
    'BatchMatMul',
    { a: view(a, [1, m, k]), b: view(b, [1, k, n]) },
    { transposeA: false, transposeB: false },
  );
}

function batchMatMul(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const a = input(args, 'a');
  const b = input(args, 'b');
  const { transposeA: tA, transposeB: tB } = args.attrs as unknown as BatchMatMulAttrs;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const single = sizeOf(a.shape.slice(0, ra - 2)) === 1 && sizeOf(b.shape.slice(0, rb - 2)) === 1;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !single || (!tA && !tB)) {
    return runKernel(backend, 'BatchMatMul', { a, b }, { transposeA: tA, transposeB: tB });
  }
  const [a0, a1] = a.shape.slice(ra - 2);
  const [b0, b1] = b.shape.slice(rb - 2);
  const m = tA ? a1 : a0;
  const k = tA ? a0 : a1;
  const n = tB ? b0 : b1;

  const direct = (tA ? m * k : 0) + (tB ? n * k : 0) + n * k;
  const swapped = (tB ? 0 : n * k) + (tA ? 0 : m * k) + m * k + m * n;
  let out: TensorInfo;
  if (direct <= swapped) {
    const aa = tA ? transpose2d(backend, a, a0, a1) : a; // [m, k]
    const bb = tB ? transpose2d(backend, b, b0, b1) : b; // [k, n]
    out = gemm(backend, aa, bb, m, k, n);
    if (aa !== a) free(backend, aa);
    if (bb !== b) free(backend, bb);
  } else {
    const bt = tB ? b : transpose2d(backend, b, b0, b1); // op(B)ᵀ [n, k]
    const at = tA ? a : transpose2d(backend, a, a0, a1); // op(A)ᵀ [k, m]
    const ct = gemm(backend, bt, at, n, k, m); // Cᵀ [n, m]
    if (bt !== b) free(backend, bt);
    if (at !== a) free(backend, at);
    out = transpose2d(backend, ct, n, m);
    free(backend, ct);
  }
  // Keep the leading (size-1) batch dims of the inputs, as the stock kernel does.
  const lead = new Array<number>(Math.max(ra, rb) - 2).fill(1);
  out.shape = [...lead, m, n];
  return out;
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: markOwn(batchMatMul as unknown as KernelConfig['kernelFunc']),
};
