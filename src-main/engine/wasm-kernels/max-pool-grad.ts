// MaxPoolGrad for the wasm backend: a scatter of dy to the arg-max of every window.
//
// Why: the stock kernel is a scalar gather loop and, with 'same' padding and a size that is
// not a multiple of the stride, it loses the gradient of the windows at the bottom/right
// edge. This version is exact for 'valid', 'same' and explicit padding, any stride, odd sizes.
//
// How: for every output pixel (n, oh, ow) the window rows/columns that fall inside the input
// are scanned in the same order as the cpu backend (row-major over the window), keeping the
// FIRST strictly greater value per channel ('>' comparison, so ties and NaNs behave like cpu:
// a window of only NaN/-Infinity gets no gradient). dy is then added to dx at that position.
// The channel loop is innermost so every access is contiguous. It works on Float32Array views
// of the wasm heap; dx is zero-filled first because makeOutput memory is not cleared.
// The common case, a 2x2 pool with stride 2 over a multiple of 4 channels, runs the full
// windows of each output row in one SIMD routine (simd-module.ts: four channels per
// instruction, masks instead of branches, ~20 ns per element in JavaScript); it writes every
// dx value of its windows, so when full windows tile the whole input there is no zero-fill.
import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs';
import { backendSimd } from './simd-module';
import { asBackend, heapF32, heapOffset, input, markOwn, type KernelArgs } from './wasm-util';

function maxPoolGrad(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const dy = input(args, 'dy');
  const x = input(args, 'input');
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;

  const dx = backend.makeOutput(x.shape, 'float32');
  const xv = heapF32(backend, x);
  const dyv = heapF32(backend, dy);
  const dxv = heapF32(backend, dx);
  const simd = fh === 2 && fw === 2 && sh === 2 && sw === 2 && c % 4 === 0 ? backendSimd(backend) : null;
  if (!(simd && pt === 0 && pl === 0 && h === 2 * oh && w === 2 * ow)) dxv.fill(0);
  // Full windows of a row: q in [qFull0, qFull1) (columns 2q - pl and 2q - pl + 1 inside).
  const qFull0 = Math.ceil(pl / 2);
  const qFull1 = Math.min(ow, Math.floor((w + pl - 2) / 2) + 1);
  const [xAt, dyAt, dxAt] = simd
    ? [heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, dx)]
    : [0, 0, 0];

  const best = new Float32Array(c);
  const bestIdx = new Int32Array(c);
  const rowStride = w * c;
  for (let b = 0; b < nb; b++) {
    const xBatch = b * h * rowStride;
    for (let r = 0; r < oh; r++) {
      const r0 = r * sh - pt;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(h, r0 + fh);
      let [skip0, skip1] = [0, 0];
      if (simd && r0 >= 0 && r0 + 2 <= h && qFull1 > qFull0) {
        const pixel = (b * h + r0) * w + (2 * qFull0 - pl);
        simd.maxPoolGrad2x2(
          xAt + pixel * c * 4,
          dyAt + ((b * oh + r) * ow + qFull0) * c * 4,
          dxAt + pixel * c * 4,
          qFull1 - qFull0,
          c * 4,
          w * c * 4,
        );
        [skip0, skip1] = [qFull0, qFull1];
      }
      for (let q = 0; q < ow; q++) {
        if (q >= skip0 && q < skip1) continue;
        const c0 = q * sw - pl;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(w, c0 + fw);
        const dyBase = ((b * oh + r) * ow + q) * c;
        if (rMax - rMin === 2 && cMax - cMin === 2) {
          // Fast path for a full 2x2 window: the same first-strict-max scan, unrolled.
          const p0 = xBatch + rMin * rowStride + cMin * c;
          const p1 = p0 + c;
          const p2 = p0 + rowStride;
          const p3 = p2 + c;
          for (let d = 0; d < c; d++) {
            let m = -Infinity;
            let at = -1;
            const v0 = xv[p0 + d];
            if (v0 > m) {
              m = v0;
              at = p0 + d;
            }
            const v1 = xv[p1 + d];
            if (v1 > m) {
              m = v1;
              at = p1 + d;
            }
            const v2 = xv[p2 + d];
            if (v2 > m) {
              m = v2;
              at = p2 + d;
            }
            if (xv[p3 + d] > m) at = p3 + d;
            if (at >= 0) dxv[at] += dyv[dyBase + d];
          }
          continue;
        }
        best.fill(-Infinity);
        bestIdx.fill(-1);
        for (let xr = rMin; xr < rMax; xr++) {
          for (let xc = cMin; xc < cMax; xc++) {
            const base = xBatch + xr * rowStride + xc * c;
            for (let d = 0; d < c; d++) {
              const v = xv[base + d];
              if (v > best[d]) {
                best[d] = v;
                bestIdx[d] = base + d;
              }
            }
          }
        }
        for (let d = 0; d < c; d++) {
          const idx = bestIdx[d];
          if (idx >= 0) dxv[idx] += dyv[dyBase + d];
        }
      }
    }
  }
  return dx;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: markOwn(maxPoolGrad as unknown as KernelConfig['kernelFunc']),
};
