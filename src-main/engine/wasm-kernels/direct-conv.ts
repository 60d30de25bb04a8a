// A convolution as the SIMD routine convTiles (simd-module.ts): 4 output positions x 8
// output channels per register tile, reading an explicitly padded input in place.
//
// Why: the same register tile made the filter gradient (filterGrad) 0.6-0.9x the time of
// XNNPACK's forward convolution on the zoo's layers; this is the forward direction with that
// tile. Used where it measured faster (see conv2d.ts).
//
// How: the input is copied into a zero-padded buffer when the convolution pads (so every
// window is whole), the filter [KH, KW, Ci, Co] is packed as [Co/8][KH*KW][Ci][8], and a tile
// table gives each tile's four window origins and its output row. Tiles are split over the
// threads by ranges; each output value is the same sum in the same order for any split.
import type { backend_util, TensorInfo } from '@tensorflow/tfjs';
import { wasmThreads } from '../wasm-threads';
import type { SimdInstance } from './simd-module';
import { runShares } from './simd-pool';
import { free, heapF32, heapOffset, type BackendWasm } from './wasm-util';

/** Tiles whose inputs one group reads: small enough for the core's L2 cache. */
const GROUP_BYTES = 128 * 1024;

/** Whether `directConv` computes this convolution (dilation 1, Co a multiple of 8). */
export function directConvApplies(info: backend_util.Conv2DInfo): boolean {
  return info.dilationHeight === 1 && info.dilationWidth === 1 && info.outChannels % 8 === 0;
}

/** x [N,H,W,C] -> [N, hp, wp, C] with `top`/`left` zero rows/columns before it, zeros after. */
function padded(backend: BackendWasm, x: TensorInfo, hp: number, wp: number, top: number, left: number): TensorInfo {
  const [n, h, w, c] = x.shape;
  const out = backend.makeOutput([n, hp, wp, c], 'float32');
  const [xv, ov] = [x, out].map((t) => heapF32(backend, t));
  const cols = Math.min(w, wp - left);
  const [i0, i1] = [Math.max(0, -top), Math.min(h, hp - top)];
  const rowLen = wp * c;
  // Only the margins are zeroed: the rest is overwritten by x's rows.
  for (let img = 0; img < n; img++) {
    const base = img * hp * rowLen;
    ov.fill(0, base, base + (i0 + top) * rowLen);
    ov.fill(0, base + (i1 + top) * rowLen, base + hp * rowLen);
    for (let i = i0; i < i1; i++) {
      const src = (img * h + i) * w * c;
      const dst = base + (i + top) * rowLen;
      ov.fill(0, dst, dst + left * c);
      ov.set(xv.subarray(src, src + cols * c), dst + left * c);
      ov.fill(0, dst + (left + cols) * c, dst + rowLen);
    }
  }
  return out;
}

/** Filter [taps][Ci][Co] as [Co/8][taps][Ci][8]. */
function packFilter(backend: BackendWasm, filter: TensorInfo, taps: number, ci: number, co: number): TensorInfo {
  const out = backend.makeOutput([taps * ci * co], 'float32');
  const [fv, pv] = [filter, out].map((t) => heapF32(backend, t));
  let at = 0;
  for (let b = 0; b < co; b += 8) {
    for (let k = 0; k < taps * ci; k++) {
      for (let j = 0; j < 8; j++) pv[at++] = fv[k * co + b + j];
    }
  }
  return out;
}

/**
 * y = conv(x, filter) (+ bias) (then ReLU), NHWC, for `info` (directConvApplies). bias is a
 * [Co] float32 tensor or null.
 */
export function directConv(
  simd: SimdInstance,
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | null,
  relu: boolean,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const [top, left] = [info.padInfo.top, info.padInfo.left];
  // Rows and columns the windows cover; the input is used as it is where they are its own.
  const hp = (oh - 1) * sh + kh;
  const wp = (ow - 1) * sw + kw;
  const xs = top === 0 && left === 0 && hp <= h && wp <= w ? x : padded(backend, x, hp, wp, top, left);
  const [rowsIn, colsIn] = xs === x ? [h, w] : [hp, wp];
  const packed = packFilter(backend, filter, kh * kw, ci, co);
  const positions = n * oh * ow;
  const nTiles = Math.ceil(positions / 4);
  const tables = backend.makeOutput([nTiles * 6 + kh * kw], 'float32'); // i32 tiles, then taps
  const out = backend.makeOutput([n, oh, ow, co], 'float32');
  const [xAt, packedAt, tablesAt, outAt] = [xs, packed, tables, out].map((t) => heapOffset(backend, t));
  const biasAt = bias ? heapOffset(backend, bias) : 0;
  const table = new Int32Array(heapF32(backend, tables).buffer, tablesAt, nTiles * 6 + kh * kw);
  const origin = (p: number): number => {
    const q = p % ow;
    const r = ((p - q) / ow) % oh;
    const img = (p - q - r * ow) / (ow * oh);
    return xAt + ((img * rowsIn + r * sh) * colsIn + q * sw) * ci * 4;
  };
  for (let t = 0; t < nTiles; t++) {
    const p0 = 4 * t;
    const lanes = Math.min(4, positions - p0);
    for (let k = 0; k < 4; k++) table[6 * t + k] = origin(Math.min(p0 + k, positions - 1));
    table[6 * t + 4] = lanes;
    table[6 * t + 5] = outAt + p0 * co * 4;
  }
  const tapsAt = tablesAt + nTiles * 24;
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) table[nTiles * 6 + a * kw + b] = (a * colsIn + b) * ci * 4;
  // A tile's windows span about kh rows of 4 * sw pixels.
  const group = Math.max(1, Math.floor(GROUP_BYTES / (kh * 4 * sw * ci * 4)));
  const threads = Math.max(1, Math.min(wasmThreads(), nTiles));
  const shares = Array.from({ length: threads }, (_, k) => {
    const [t0, t1] = [Math.floor((k * nTiles) / threads), Math.floor(((k + 1) * nTiles) / threads)];
    return [tablesAt + t0 * 24, t1 - t0, tapsAt, kh * kw, ci, packedAt, 0, co / 8, co * 4, biasAt, relu ? 1 : 0, group];
  });
  if (nTiles > 0) runShares(simd, 'convTiles', shares);
  free(backend, packed, tables);
  if (xs !== x) free(backend, xs);
  return out;
}
