// A convolution as the SIMD routine convTiles (simd-module.ts): 4 output positions x 8
// output channels per register tile, reading an explicitly padded input in place.
//
// Why: the same register tile made the filter gradient (filterGrad) 0.6-0.9x the time of
// XNNPACK's forward convolution on the zoo's layers; this is the forward direction with that
// tile. Used where it measured faster (see conv2d.ts).
//
// How: the input is copied into a zero-padded buffer when the convolution pads (so every
// window is whole; the routine padImages, by images over the threads), the filter [KH, KW,
// Ci, Co] is packed as [Co/8][KH*KW][Ci][8], and a tile table gives each tile's four window
// origins and its output row as offsets (cached per geometry). Tiles are split over the
// threads by ranges; each output value is the same sum in the same order for any split.
import type { backend_util, TensorInfo } from '@tensorflow/tfjs';
import { wasmThreads } from '../wasm-threads';
import type { SimdInstance } from './simd-module';
import { runShares, splitRanges } from './simd-pool';
import { free, heapF32, heapOffset, type BackendWasm } from './wasm-util';

/** Tiles whose inputs one group reads: small enough for the core's L2 cache. */
const GROUP_BYTES = 128 * 1024;

/** Whether `directConv` computes this convolution (dilation 1, Co a multiple of 8). */
export function directConvApplies(info: backend_util.Conv2DInfo): boolean {
  return info.dilationHeight === 1 && info.dilationWidth === 1 && info.outChannels % 8 === 0;
}

/**
 * x [N,H,W,C] -> [N, hp, wp, C] with `top`/`left` zero rows/columns before it, zeros after:
 * the routine padImages, images split over the threads (a JavaScript loop of row copies and
 * margin fills was 10% of a 3x3 layer's time on one thread).
 */
function padded(
  simd: SimdInstance,
  backend: BackendWasm,
  x: TensorInfo,
  hp: number,
  wp: number,
  top: number,
  left: number,
): TensorInfo {
  const [n, h, w, c] = x.shape;
  const out = backend.makeOutput([n, hp, wp, c], 'float32');
  const [xAt, outAt] = [x, out].map((t) => heapOffset(backend, t));
  const pixel = 4 * c;
  const rows = Math.max(0, Math.min(h, hp - top));
  const copyBytes = Math.min(w, wp - left) * pixel;
  const [headBytes, midBytes] = [(top * wp + left) * pixel, wp * pixel - copyBytes];
  const imgOutBytes = hp * wp * pixel;
  const tailBytes = imgOutBytes - headBytes - rows * copyBytes - Math.max(0, rows - 1) * midBytes;
  const shares = splitRanges(n, wasmThreads()).map(([i0, i1]) => [
    xAt + i0 * h * w * pixel,
    outAt + i0 * imgOutBytes,
    i1 - i0,
    h * w * pixel,
    imgOutBytes,
    headBytes,
    rows,
    copyBytes,
    w * pixel,
    midBytes,
    tailBytes,
  ]);
  if (n > 0) runShares(simd, 'padImages', shares);
  return out;
}

/** Tile tables by geometry: building one is a pass of divisions per tile (1.5 ms for 32K tiles). */
const tileTables = new Map<string, Int32Array>();
/** Bytes of cached tables kept (oldest dropped first): a few MB covers a model's layers. */
const TILE_TABLE_BYTES = 16 * 1024 * 1024;
let tileTableBytes = 0;

/**
 * convTiles' tile table for a geometry: per 4 output positions, the byte offsets of their
 * window origins in the (padded) input, how many are real, and the byte offset of the first
 * one's output row. Offsets, not addresses, so that one table serves every call.
 */
function tileTable(
  n: number,
  oh: number,
  ow: number,
  sh: number,
  sw: number,
  rowsIn: number,
  colsIn: number,
  ci: number,
  co: number,
): Int32Array {
  const key = [n, oh, ow, sh, sw, rowsIn, colsIn, ci, co].join(',');
  const cached = tileTables.get(key);
  if (cached) return cached;
  const positions = n * oh * ow;
  const nTiles = Math.ceil(positions / 4);
  const table = new Int32Array(nTiles * 6);
  const origin = (p: number): number => {
    const q = p % ow;
    const r = ((p - q) / ow) % oh;
    const img = (p - q - r * ow) / (ow * oh);
    return ((img * rowsIn + r * sh) * colsIn + q * sw) * ci * 4;
  };
  for (let t = 0; t < nTiles; t++) {
    const p0 = 4 * t;
    for (let k = 0; k < 4; k++) table[6 * t + k] = origin(Math.min(p0 + k, positions - 1));
    table[6 * t + 4] = Math.min(4, positions - p0);
    table[6 * t + 5] = p0 * co * 4;
  }
  for (const [oldKey, old] of tileTables) {
    if (tileTableBytes + table.byteLength <= TILE_TABLE_BYTES) break;
    tileTables.delete(oldKey);
    tileTableBytes -= old.byteLength;
  }
  if (table.byteLength <= TILE_TABLE_BYTES) {
    tileTables.set(key, table);
    tileTableBytes += table.byteLength;
  }
  return table;
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
  const xs = top === 0 && left === 0 && hp <= h && wp <= w ? x : padded(simd, backend, x, hp, wp, top, left);
  const [rowsIn, colsIn] = xs === x ? [h, w] : [hp, wp];
  const packed = packFilter(backend, filter, kh * kw, ci, co);
  const tiles = tileTable(n, oh, ow, sh, sw, rowsIn, colsIn, ci, co);
  const nTiles = tiles.length / 6;
  const tables = backend.makeOutput([tiles.length + kh * kw], 'float32'); // i32 tiles, then taps
  const out = backend.makeOutput([n, oh, ow, co], 'float32');
  const [xAt, packedAt, tablesAt, outAt] = [xs, packed, tables, out].map((t) => heapOffset(backend, t));
  const biasAt = bias ? heapOffset(backend, bias) : 0;
  const table = new Int32Array(heapF32(backend, tables).buffer, tablesAt, tiles.length + kh * kw);
  table.set(tiles);
  // The taps carry x's address, so the cached table of offsets serves any input buffer.
  const tapsAt = tablesAt + tiles.length * 4;
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) table[tiles.length + a * kw + b] = xAt + (a * colsIn + b) * ci * 4;
  }
  // A tile's windows span about kh rows of 4 * sw pixels.
  const group = Math.max(1, Math.floor(GROUP_BYTES / (kh * 4 * sw * ci * 4)));
  const shares = splitRanges(nTiles, wasmThreads()).map(([t0, t1]) => [
    tablesAt + t0 * 24,
    t1 - t0,
    tapsAt,
    kh * kw,
    ci,
    packedAt,
    0,
    co / 8,
    co * 4,
    biasAt,
    relu ? 1 : 0,
    group,
    outAt,
  ]);
  if (nTiles > 0) runShares(simd, 'convTiles', shares);
  free(backend, packed, tables);
  if (xs !== x) free(backend, xs);
  return out;
}
