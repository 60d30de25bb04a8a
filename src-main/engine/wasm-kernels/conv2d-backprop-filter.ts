// Conv2DBackpropFilter for the wasm backend (stock tfjs-backend-wasm 4.22 has none).
//
// Why: without it a conv net cannot train on wasm at all, and a scalar loop would be ~20x
// slower than the forward pass. The filter gradient is itself a convolution, so we hand it
// to the backend's XNNPACK Conv2D.
//
// How: dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co].
// Read ci as the batch and n as the channel dimension: with
//   x'  = x transposed to [Ci, H, W, N]       (conv input)
//   dy' = transpose(dy, [1,2,0,3]) [OH,OW,N,Co] (conv filter)
// dW is conv2d(x', dy', stride 1, dilation = original stride) -> [Ci, KH, KW, Co], transposed.
// Its reduction length K = OH*OW*N is huge (10^5), and XNNPACK does not block K: the packed
// filter is streamed from memory once per 4 output rows, which made this conv ~1.6x slower
// than the forward one. So the OH rows of dy' are cut into chunks of r rows (K ~ 8192), each
// convolved with just the KH + (r-1)*s input rows it needs, and the small results summed.
// x' is written directly in that chunked layout [chunk][Ci][rows][W][N] (rows shared by two
// chunks are duplicated, rows outside the input are zeros = the top/bottom padding) by a
// blocked transpose, which also replaces the stock 4-D transpose (pathologically slow on
// power-of-two strides). Chunks are zero-copy aliases of the two buffers. Left/right padding
// is passed to the conv; if the forward conv dropped trailing columns the conv yields extra
// output columns, which are ignored. Only dilation 1 is supported, like the op itself.
import { backend_util } from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import {
  aliasOf,
  asBackend,
  free,
  heapF32,
  input,
  markOwn,
  releaseAlias,
  runKernel,
  type BackendWasm,
  type KernelArgs,
} from './wasm-util';

/** Target reduction length of one chunk's convolution. */
const TARGET_K = 8192;

interface Chunk {
  o0: number; // first output row
  rows: number; // output rows in the chunk
  inRows: number; // input rows it reads: (rows - 1) * sh + kh
  offset: number; // element offset of its [Ci, inRows, W, N] block in the chunked x'
}

/**
 * x [N,H,W,Ci] -> chunked x' [chunk][Ci][inRows][W][N]; rows outside [0,H) are zero.
 * Each input row i is transposed once into a [Ci][W][N] row buffer (reading x sequentially per
 * image, four images per pass), then copied as Ci contiguous runs of W*N to every chunk row
 * that reads it (a row is shared by up to ceil(KH/s) chunks).
 */
function chunkedTranspose(
  backend: BackendWasm,
  x: TensorInfo,
  chunks: Chunk[],
  sh: number,
  pt: number,
  total: number,
): TensorInfo {
  const [n, h, w, ci] = x.shape;
  const wn = w * n;
  const hwc = h * w * ci;
  // Destinations of every input row (element offset of its ci = 0 run, and the ci stride).
  const dests: Array<Array<[number, number]>> = Array.from({ length: h }, () => []);
  const zeroRows: Array<[number, number]> = [];
  for (const ch of chunks) {
    const ciStride = ch.inRows * wn;
    for (let q = 0; q < ch.inRows; q++) {
      const i = ch.o0 * sh - pt + q;
      const at: [number, number] = [ch.offset + q * wn, ciStride];
      if (i < 0 || i >= h) zeroRows.push(at);
      else dests[i].push(at);
    }
  }
  const out = backend.makeOutput([total], 'float32');
  const xv = heapF32(backend, x);
  const ov = heapF32(backend, out);
  for (const [off, stride] of zeroRows)
    for (let c = 0; c < ci; c++) ov.fill(0, off + c * stride, off + c * stride + wn);

  const row = new Float32Array(ci * wn);
  const n4 = n - (n % 4);
  for (let i = 0; i < h; i++) {
    if (dests[i].length === 0) continue;
    const rowBase = i * w * ci;
    for (let col = 0; col < w; col++) {
      const sc = rowBase + col * ci;
      const t0 = col * n;
      let b = 0;
      for (; b < n4; b += 4) {
        const s = b * hwc + sc;
        const t = t0 + b;
        for (let c = 0; c < ci; c++) {
          const d = c * wn + t;
          row[d] = xv[s + c];
          row[d + 1] = xv[s + hwc + c];
          row[d + 2] = xv[s + 2 * hwc + c];
          row[d + 3] = xv[s + 3 * hwc + c];
        }
      }
      for (; b < n; b++) {
        const s = b * hwc + sc;
        for (let c = 0; c < ci; c++) row[c * wn + t0 + b] = xv[s + c];
      }
    }
    for (const [off, stride] of dests[i]) {
      for (let c = 0; c < ci; c++) ov.set(row.subarray(c * wn, (c + 1) * wn), off + c * stride);
    }
  }
  return out;
}

function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const dy = input(args, 'dy');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') throw new Error('wasm Conv2DBackpropFilter supports only NHWC');

  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { batchSize: n, inWidth: w, outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const pr = Math.max(0, kw + (ow - 1) * sw - w - pl);
  const kw2 = w + pl + pr - (ow - 1) * sw; // conv output width (>= kw)

  const r = Math.min(oh, Math.max(1, Math.round(TARGET_K / (ow * n))));
  const chunks: Chunk[] = [];
  let total = 0;
  for (let o0 = 0; o0 < oh; o0 += r) {
    const rows = Math.min(r, oh - o0);
    const inRows = (rows - 1) * sh + kh;
    chunks.push({ o0, rows, inRows, offset: total });
    total += ci * inRows * w * n;
  }

  const xd = chunkedTranspose(backend, x, chunks, sh, pt, total);
  const dyT = runKernel(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const acc = new Float64Array(ci * kh * kw2 * co);
  for (const ch of chunks) {
    const xin = aliasOf(backend, xd, ch.offset, [ci, ch.inRows, w, n]);
    const filt = aliasOf(backend, dyT, ch.o0 * ow * n * co, [ch.rows, ow, n, co]);
    const part = runKernel(
      backend,
      'Conv2D',
      { x: xin, filter: filt },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [0, 0],
          [pl, pr],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [sh, sw],
      },
    );
    releaseAlias(backend, xin);
    releaseAlias(backend, filt);
    const pv = heapF32(backend, part);
    for (let i = 0; i < acc.length; i++) acc[i] += pv[i];
    free(backend, part);
  }
  free(backend, xd, dyT);

  // [Ci, KH, KW2, Co] -> [KH, KW, Ci, Co], dropping columns kw..kw2-1.
  const out = backend.makeOutput([kh, kw, ci, co], 'float32');
  const ov = heapF32(backend, out);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      for (let c = 0; c < ci; c++) {
        const src = ((c * kh + a) * kw2 + b) * co;
        const dst = ((a * kw + b) * ci + c) * co;
        for (let o = 0; o < co; o++) ov[dst + o] = acc[src + o];
      }
    }
  }
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: markOwn(conv2DBackpropFilter as unknown as KernelConfig['kernelFunc']),
};
