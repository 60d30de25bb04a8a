// Conv2DBackpropInput for the wasm backend, as a forward XNNPACK convolution.
//
// Why: the stock kernel is a scalar C++ loop, several times slower than the forward conv, and
// it runs once per conv layer per training step.
//
// How: dx[n,i,j,ci] = sum_{kh,kw,co} dy[n,oh,ow,co] * W[kh,kw,ci,co] with i = oh*s + kh - pt,
// a transposed convolution: a stride-1 XNNPACK Conv2D of the zero-dilated dy with
// W'[a,b,co,ci] = W[KH-1-a, KW-1-b, ci, co] (spatially flipped, in/out swapped; built by a JS
// loop, the filter is small), padded so the output is exactly the input shape (see
// transposed-conv.ts). With stride s > 1 that would spend (s*s - 1)/(s*s) of the multiply-adds
// on the zeros of the dilated dy (4.3x the forward conv's time at ResNet's stride-2 layers), so
// strided convolutions are split by output phase instead (`phaseSplit`): the rows i with
// (i + pt) mod s = phi only ever meet the filter taps k = phi + s*m, so each of the s*s phases
// is a stride-1 transposed convolution of dy with that sub-filter, scattered into dx.
import { backend_util } from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { transposedConv } from './transposed-conv';
import { backendSimd } from './simd-module';
import { asBackend, free, heapF32, heapOffset, input, markOwn, type BackendWasm, type KernelArgs } from './wasm-util';

/** W [KH,KW,Ci,Co] -> W' [KH,KW,Co,Ci], W'[a,b,o,c] = W[KH-1-a, KW-1-b, c, o] (small: a JS loop). */
function flipAndSwap(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const out = backend.makeOutput([kh, kw, co, ci], 'float32');
  const src = heapF32(backend, filter);
  const dst = heapF32(backend, out);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const s0 = ((kh - 1 - a) * kw + (kw - 1 - b)) * ci * co;
      const d0 = (a * kw + b) * co * ci;
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) dst[d0 + o * ci + c] = src[s0 + c * co + o];
      }
    }
  }
  return out;
}

function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const dy = input(args, 'dy');
  const filter = input(args, 'filter');
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as Conv2DBackpropInputAttrs;
  if (dataFormat === 'NCHW') throw new Error('wasm Conv2DBackpropInput supports only NHWC');

  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  if (info.strideHeight > 1 || info.strideWidth > 1) return phaseSplit(backend, dy, filter, info);
  const wT = flipAndSwap(backend, filter);
  const dx = transposedConv(backend, 'Conv2D', dy, wT, {
    outShape: info.inShape,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  });
  free(backend, wT);
  return dx;
}

/**
 * dx of a strided convolution, phase by phase. For phase (fh, fw) the taps are W[fh + sh*a,
 * fw + sw*b] (a < ceil((KH - fh) / sh), b likewise) and the rows i = sh*u + fh - pt for u in
 * [u0, u1] (those inside the input; columns likewise): part[t] = sum_a dy[u0 + t - a] *
 * W[fh + sh*a], a stride-1 transposed convolution with top padding u0. A phase with no taps
 * or no rows leaves its dx values 0.
 */
function phaseSplit(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const [n, h, w, ci] = info.inShape;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outChannels: co } = info;
  const [pt, pl] = [info.padInfo.top, info.padInfo.left];
  const dx = backend.makeOutput([n, h, w, ci], 'float32');
  heapF32(backend, dx).fill(0);
  const simd = ci % 4 === 0 ? backendSimd(backend) : null;
  for (let fh = 0; fh < sh; fh++) {
    for (let fw = 0; fw < sw; fw++) {
      const [mh, mw] = [Math.ceil((kh - fh) / sh), Math.ceil((kw - fw) / sw)];
      const [u0, u1] = [Math.ceil((pt - fh) / sh), Math.floor((h - 1 + pt - fh) / sh)];
      const [v0, v1] = [Math.ceil((pl - fw) / sw), Math.floor((w - 1 + pl - fw) / sw)];
      if (mh <= 0 || mw <= 0 || u1 < u0 || v1 < v0) continue;
      const [rows, cols] = [u1 - u0 + 1, v1 - v0 + 1];
      const sub = backend.makeOutput([mh, mw, ci, co], 'float32');
      const src = heapF32(backend, filter);
      const dst = heapF32(backend, sub);
      for (let a = 0; a < mh; a++) {
        for (let b = 0; b < mw; b++) {
          const from = ((fh + sh * a) * kw + (fw + sw * b)) * ci * co;
          dst.set(src.subarray(from, from + ci * co), (a * mw + b) * ci * co);
        }
      }
      const wT = flipAndSwap(backend, sub);
      free(backend, sub);
      const part = transposedConv(backend, 'Conv2D', dy, wT, {
        outShape: [n, rows, cols, ci],
        filterHeight: mh,
        filterWidth: mw,
        strideHeight: 1,
        strideWidth: 1,
        padTop: u0,
        padLeft: v0,
      });
      free(backend, wT);
      // part[img, t, q] -> dx[img, sh*(u0+t) + fh - pt, sw*(v0+q) + fw - pl]
      const [partAt, dxAt] = [heapOffset(backend, part), heapOffset(backend, dx)];
      const pv = heapF32(backend, part);
      const dv = heapF32(backend, dx);
      for (let img = 0; img < n; img++) {
        for (let t = 0; t < rows; t++) {
          const from = (img * rows + t) * cols * ci;
          const to = ((img * h + sh * (u0 + t) + fh - pt) * w + sw * v0 + fw - pl) * ci;
          if (simd) simd.copyBlocks(partAt + from * 4, ci * 4, dxAt + to * 4, sw * ci * 4, cols, ci * 4);
          else for (let q = 0; q < cols; q++) dv.set(pv.subarray(from + q * ci, from + (q + 1) * ci), to + q * sw * ci);
        }
      }
      free(backend, part);
    }
  }
  return dx;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: markOwn(conv2DBackpropInput as unknown as KernelConfig['kernelFunc']),
};
