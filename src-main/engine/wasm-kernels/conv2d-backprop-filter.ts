// Conv2DBackpropFilter for the wasm backend (stock tfjs-backend-wasm 4.22 has none).
//
// Why: without it a conv net cannot train on wasm at all, and a scalar loop would be ~20x
// slower than the forward pass. dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci]
// * dy[n,oh,ow,co] is a reduction over every output position, computed by one of four paths:
//  1. Co a multiple of 8 (every zoo layer): `directFilterGradient`, a SIMD routine reading x
//     and dy in place, split over the threads by channel blocks: 0.6-0.9x the forward
//     convolution's time on the zoo's layers at batch 128, first layers included (their 1 or
//     3 channels are padded to 4).
//  2. Otherwise, Ci a multiple of 4: `gemmFilterGradient`, short XNNPACK GEMMs over explicit
//     patches copied by SIMD routines (1.3-1.8x the forward convolution's time).
//  3. Otherwise, up to 32 taps (first layers on 1- or 3-channel images):
//     `patchFilterGradient`, a GEMM over patches written directly transposed.
//  4. Otherwise: the gradient as a convolution, below.
//
// The convolution form: read ci as the batch and n as the channel dimension: with
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
import { wasmThreads } from '../wasm-threads';
import { backendSimdInstance, type SimdInstance, type SimdRoutines } from './simd-module';
import { runShares } from './simd-pool';
import {
  aliasOf,
  asBackend,
  free,
  heapF32,
  heapOffset,
  input,
  markOwn,
  releaseAlias,
  runKernel,
  type BackendWasm,
  type KernelArgs,
} from './wasm-util';

/** Target reduction length of one chunk's convolution. */
const TARGET_K = 8192;

/**
 * Up to this many filter taps (KH * KW * Ci: a first layer on 1- or 3-channel images) the
 * gradient is a GEMM over explicit patches instead (`patchFilterGradient`): as a convolution
 * its output is only KH x KW pixels, which left XNNPACK's tiles nearly empty (41 ms for the
 * CNN's first layer at batch 128, 12x its forward pass).
 */
const MAX_PATCH_TAPS = 32;

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

  // The four paths of the module comment.
  const simd = backendSimdInstance(backend);
  if (simd && co % 8 === 0) return directFilterGradient(simd, backend, x, dy, info);
  if (simd && ci % 4 === 0) return gemmFilterGradient(simd.routines, backend, x, dy, info);
  if (kh * kw * ci <= MAX_PATCH_TAPS) return patchFilterGradient(backend, x, dy, info);

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

/** The forward convolution's geometry as the patch-based paths read it. */
function patchGeometry(info: backend_util.Conv2DInfo) {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, inChannels: ci } = info;
  const taps = kh * kw * ci;
  const [pt, pl, co] = [info.padInfo.top, info.padInfo.left, info.outChannels];
  return { kh, kw, sh, sw, h, w, oh, ow, ci, co, pt, pl, taps, positions: n * oh * ow };
}

/** The float64 sums [taps x Co] as the float32 filter gradient of `shape` (the same layout). */
function filterOf(backend: BackendWasm, sums: Float64Array, shape: number[]): TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  heapF32(backend, out).set(sums);
  return out;
}

/**
 * dW[kh,kw,ci,co] = sum_p patch[p, (kh,kw,ci)] * dy[p, co] over the P = N*OH*OW output
 * positions: one GEMM [taps x P] . [P x Co] whose [taps x Co] result is already the filter's
 * [KH, KW, Ci, Co] layout. P is cut into chunks of TARGET_K positions (the packed dy chunk
 * stays in cache; partial sums add in float64), and each chunk's transposed patches are
 * written directly as [taps][positions] rows (zeros where the window leaves the input).
 */
function patchFilterGradient(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { kh, kw, sh, sw, h, w, oh, ow, ci, co, pt, pl, taps, positions } = patchGeometry(info);
  const perChunk = Math.min(positions, TARGET_K);
  const acc = new Float64Array(taps * co);
  const patches = backend.makeOutput([taps, perChunk], 'float32');
  for (let p0 = 0; p0 < positions; p0 += perChunk) {
    const len = Math.min(perChunk, positions - p0);
    // Views are re-taken after every kernel call: an allocation may move the heap.
    const xv = heapF32(backend, x);
    const pv = heapF32(backend, patches);
    const q0 = p0 % ow;
    const r0 = ((p0 - q0) / ow) % oh;
    const img0 = (p0 - q0 - r0 * ow) / (ow * oh);
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        for (let c = 0; c < ci; c++) {
          let dst = ((a * kw + b) * ci + c) * len;
          // Walk the positions (img, r, q) of the chunk with counters: no division per element.
          let [img, r, q] = [img0, r0, q0];
          for (let done = 0; done < len;) {
            const run = Math.min(ow - q, len - done);
            const i = r * sh - pt + a;
            if (i < 0 || i >= h) {
              pv.fill(0, dst, dst + run);
            } else {
              // Columns j = (q + k) * sw - pl + b inside [0, w) for k in [lo, hi); zeros around.
              const lo = Math.min(run, Math.max(0, Math.ceil((pl - b) / sw) - q));
              const hi = Math.max(lo, Math.min(run, Math.ceil((w + pl - b) / sw) - q));
              if (lo > 0) pv.fill(0, dst, dst + lo);
              if (hi < run) pv.fill(0, dst + hi, dst + run);
              let src = ((img * h + i) * w + (q + lo) * sw - pl + b) * ci + c;
              if (sw === 1 && ci === 1) pv.set(xv.subarray(src, src + hi - lo), dst + lo);
              else for (let k = lo; k < hi; k++, src += sw * ci) pv[dst + k] = xv[src];
            }
            dst += run;
            done += run;
            q += run;
            if (q === ow) {
              q = 0;
              if (++r === oh) {
                r = 0;
                img++;
              }
            }
          }
        }
      }
    }
    addChunkProduct(backend, acc, patches, taps, len, dy, p0, co);
  }
  free(backend, patches);
  return filterOf(backend, acc, [kh, kw, ci, co]);
}

/**
 * Bytes of x and dy one job of `directFilterGradient` reads: each of its register tiles reads
 * them again, so they should stay in the core's L2 cache.
 */
const CHUNK_BYTES = 256 * 1024;

/**
 * dW by the SIMD routine `filterGrad` (simd-module.ts), reading x and dy in place: the output
 * rows are cut into chunks of about CHUNK_BYTES of inputs, and for each chunk and filter tap
 * a table lists the runs of output positions whose window tap lies inside the input (the
 * padding contributes nothing, so it is skipped). Sums are float32 within a job (at most a
 * chunk's positions), float64 across jobs, in the same order for any split of the work.
 */
function directFilterGradient(
  simd: SimdInstance,
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { kh, kw, sh, sw, h, w, oh, ow, co, pt, pl } = patchGeometry(info);
  // The routine reads input channels in fours: other counts get zero channels appended.
  const ci = Math.ceil(info.inChannels / 4) * 4;
  const taps = kh * kw * ci;
  const xs = ci === info.inChannels ? x : padChannels(backend, x, ci);
  const outRows = info.batchSize * oh;
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / (4 * (ci + co) * ow)));
  const maxJobs = Math.ceil(outRows / rowsPerChunk) * kh * kw;
  const maxRuns = outRows * kh * kw;
  // Valid output columns [lo, hi) of each kernel column b: the window's column inside the input.
  const columns = Array.from({ length: kw }, (_, b) => [
    Math.max(0, Math.ceil((pl - b) / sw)),
    Math.min(ow, Math.ceil((w + pl - b) / sw)),
  ]);
  // Tables of i32 and sums of float64, in heap buffers sized in 4-byte words.
  const runs = backend.makeOutput([maxRuns * 3], 'float32');
  const jobs = backend.makeOutput([maxJobs * 3], 'float32');
  const sums = backend.makeOutput([taps * co * 2], 'float32');
  const [xAt, dyAt, runsAt, jobsAt, sumsAt] = [xs, dy, runs, jobs, sums].map((t) => heapOffset(backend, t));
  const heap = heapF32(backend, runs).buffer;
  const runTable = new Int32Array(heap, runsAt, maxRuns * 3);
  const jobTable = new Int32Array(heap, jobsAt, maxJobs * 3);
  new Float64Array(heap, sumsAt, taps * co).fill(0);
  let [nRuns, nJobs] = [0, 0];
  for (let g0 = 0; g0 < outRows; g0 += rowsPerChunk) {
    const g1 = Math.min(outRows, g0 + rowsPerChunk);
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const [lo, hi] = columns[b];
        if (hi <= lo) continue;
        const first = nRuns;
        // g counts output rows over the batch: image g / oh, row g % oh.
        for (let g = g0; g < g1; g++) {
          const r = g % oh;
          const i = r * sh - pt + a;
          if (i < 0 || i >= h) continue;
          const img = (g - r) / oh;
          runTable[3 * nRuns] = xAt + ((img * h + i) * w + lo * sw - pl + b) * ci * 4;
          runTable[3 * nRuns + 1] = dyAt + (g * ow + lo) * co * 4;
          runTable[3 * nRuns + 2] = hi - lo;
          nRuns++;
        }
        if (nRuns === first) continue;
        jobTable[3 * nJobs] = runsAt + first * 12;
        jobTable[3 * nJobs + 1] = nRuns - first;
        jobTable[3 * nJobs + 2] = sumsAt + (a * kw + b) * ci * co * 8;
        nJobs++;
      }
    }
  }
  const shares = channelShares(ci / 4, co / 8, wasmThreads()).map(([cb0, cb1, ob0, ob1]) => [
    jobsAt,
    nJobs,
    sw * ci * 4,
    co * 4,
    cb0 * 16,
    cb1 * 16,
    ob0 * 32,
    ob1 * 32,
  ]);
  runShares(simd, 'filterGrad', shares);
  const result = Float64Array.from(new Float64Array(heapF32(backend, sums).buffer, sumsAt, taps * co));
  free(backend, runs, jobs, sums);
  if (xs !== x) free(backend, xs);
  return filterOf(backend, dropChannels(result, kh * kw, ci, info.inChannels, co), [kh, kw, info.inChannels, co]);
}

/** x [N,H,W,C] with zero channels appended up to `to`. */
function padChannels(backend: BackendWasm, x: TensorInfo, to: number): TensorInfo {
  const c = x.shape[3];
  const pixels = x.shape[0] * x.shape[1] * x.shape[2];
  const out = backend.makeOutput([...x.shape.slice(0, 3), to], 'float32');
  const [xv, ov] = [x, out].map((t) => heapF32(backend, t));
  ov.fill(0);
  for (let p = 0; p < pixels; p++) for (let k = 0; k < c; k++) ov[p * to + k] = xv[p * c + k];
  return out;
}

/** Sums [taps][padded][co] without the appended channels: [taps][channels][co]. */
function dropChannels(sums: Float64Array, taps: number, padded: number, channels: number, co: number): Float64Array {
  if (padded === channels) return sums;
  const out = new Float64Array(taps * channels * co);
  for (let t = 0; t < taps; t++)
    out.set(sums.subarray(t * padded * co, (t * padded + channels) * co), t * channels * co);
  return out;
}

/**
 * Splits a grid of ciBlocks x coBlocks register tiles into at most `threads` shares of equal
 * size, [cb0, cb1, ob0, ob1) in blocks: by output-channel blocks where there are enough,
 * otherwise by input-channel blocks. Each share writes its own sums, so any split gives the
 * same bits.
 */
export function channelShares(ciBlocks: number, coBlocks: number, threads: number): number[][] {
  const split = (blocks: number, parts: number): number[][] =>
    Array.from({ length: parts }, (_, k) => [Math.floor((k * blocks) / parts), Math.floor(((k + 1) * blocks) / parts)]);
  const byCo = coBlocks >= threads || coBlocks >= ciBlocks;
  const parts = Math.max(1, Math.min(threads, byCo ? coBlocks : ciBlocks));
  return byCo
    ? split(coBlocks, parts).map(([o0, o1]) => [0, ciBlocks, o0, o1])
    : split(ciBlocks, parts).map(([c0, c1]) => [c0, c1, 0, coBlocks]);
}

/** Output positions per GEMM of `gemmFilterGradient` (tuned on the zoo's layers: the packed panel stays in cache). */
const POSITIONS_PER_GEMM = 1024;

/**
 * The positions [p0, p0 + len) of the flattened N x OH x OW output grid, cut into runs along
 * one output row: fn(img, row, q0, q1, at) for columns q0..q1-1, `at` counting from 0 at p0.
 */
function rowRuns(
  p0: number,
  len: number,
  oh: number,
  ow: number,
  fn: (img: number, row: number, q0: number, q1: number, at: number) => void,
): void {
  let q = p0 % ow;
  let r = ((p0 - q) / ow) % oh;
  let img = (p0 - q - r * ow) / (ow * oh);
  for (let at = 0; at < len;) {
    const q1 = Math.min(ow, q + len - at);
    fn(img, r, q, q1, at);
    at += q1 - q;
    q = 0;
    if (++r === oh) {
      r = 0;
      img++;
    }
  }
}

/**
 * dW as GEMMs over explicit patches, for filters with many taps. Per chunk of
 * POSITIONS_PER_GEMM output positions: patches [positions x taps] (im2col: each tap's Ci
 * channels copied as one block, zeros where the window leaves the input), dyᵀ [Co x
 * positions], and C = dyᵀ · patches [Co x taps] added (float64) into dW.
 *
 * Why: the convolution form (above) reduces over K = rows x OW x N in one XNNPACK call, and
 * XNNPACK does not block K: its packed panel of K x 8 floats did not fit in cache, which
 * held the filter gradient at about half the forward convolution's GFLOP/s. Short GEMMs keep
 * the panel in cache; the copies run as SIMD routines (simd-module.ts), which is why this
 * path needs Ci to be a multiple of 4 (a chunk whose length is not transposes in JavaScript).
 */
function gemmFilterGradient(
  simd: SimdRoutines,
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { kh, kw, sh, sw, h, w, oh, ow, ci, co, pt, pl, taps, positions } = patchGeometry(info);
  const perChunk = Math.min(positions, POSITIONS_PER_GEMM);
  const acc = new Float64Array(taps * co);
  const patches = backend.makeOutput([perChunk, taps], 'float32');
  const patchesT = backend.makeOutput([taps, perChunk], 'float32');
  const [xAt, patchesAt, patchesTAt] = [x, patches, patchesT].map((t) => heapOffset(backend, t));
  for (let p0 = 0; p0 < positions; p0 += perChunk) {
    const len = Math.min(perChunk, positions - p0);
    // Views are re-taken after every kernel call: an allocation may move the heap.
    const [pv, tv] = [patches, patchesT].map((t) => heapF32(backend, t));
    pv.fill(0, 0, len * taps);
    rowRuns(p0, len, oh, ow, (img, r, q0, q1, at) => {
      for (let a = 0; a < kh; a++) {
        const i = r * sh - pt + a;
        if (i < 0 || i >= h) continue;
        for (let b = 0; b < kw; b++) {
          // Columns j = q * sw - pl + b inside [0, w) for q in [lo, hi).
          const lo = Math.max(q0, Math.ceil((pl - b) / sw));
          const hi = Math.min(q1, Math.ceil((w + pl - b) / sw));
          if (hi <= lo) continue;
          const src = ((img * h + i) * w + lo * sw - pl + b) * ci;
          const dst = (at + lo - q0) * taps + (a * kw + b) * ci;
          simd.copyBlocks(xAt + src * 4, sw * ci * 4, patchesAt + dst * 4, taps * 4, hi - lo, ci * 4);
        }
      }
    });
    // [positions x taps] -> [taps x positions], the GEMM's left operand.
    if (len % 4 === 0) simd.transpose(patchesAt, len, taps, patchesTAt);
    else for (let p = 0; p < len; p++) for (let t = 0; t < taps; t++) tv[t * len + p] = pv[p * taps + t];
    addChunkProduct(backend, acc, patchesT, taps, len, dy, p0, co);
  }
  free(backend, patches, patchesT);
  return filterOf(backend, acc, [kh, kw, ci, co]);
}

/**
 * acc [taps x Co] += left [taps x len] · dy's rows p0 .. p0+len (one GEMM per chunk of
 * output positions; partial sums added in float64). The right operand is what XNNPACK packs
 * (and caches by tensor id): a fresh alias of dy's rows, Co wide, cheap to pack.
 */
function addChunkProduct(
  backend: BackendWasm,
  acc: Float64Array,
  left: TensorInfo,
  taps: number,
  len: number,
  dy: TensorInfo,
  p0: number,
  co: number,
): void {
  const a = aliasOf(backend, left, 0, [1, taps, len]);
  const b = aliasOf(backend, dy, p0 * co, [1, len, co]);
  const part = runKernel(backend, 'BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  releaseAlias(backend, a);
  releaseAlias(backend, b);
  const partial = heapF32(backend, part);
  for (let k = 0; k < acc.length; k++) acc[k] += partial[k];
  free(backend, part);
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: markOwn(conv2DBackpropFilter as unknown as KernelConfig['kernelFunc']),
};
