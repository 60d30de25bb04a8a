// Hand-assembled WebAssembly SIMD routines that work directly on the wasm backend's heap.
//
// Why: some training kernels have no fast XNNPACK equivalent (MaxPoolGrad's first-strict-max
// scatter), and a JavaScript loop over heap views runs them at ~20 ns per element: branchy
// compares on scalars, bounds checks. 128-bit SIMD does four channels per instruction with
// masks instead of branches. The backend exports its WebAssembly.Memory, so a module that
// imports that memory reads and writes tensors in place, by their heap byte offsets.
//
// How: the module is a few hundred bytes, emitted here by a minimal encoder (no toolchain at
// build or run time, nothing downloaded) and instantiated once per memory. Each routine's
// contract is written beside its body; the kernels that call it (max-pool-grad.ts) check the
// preconditions and keep a JavaScript path for everything else. Numerics are checked against
// the cpu backend in test/engine/wasm-kernels.test.ts.

import * as v8 from 'node:v8';
import { heapMemory, type BackendWasm } from './wasm-util';

// ---- a minimal encoder -------------------------------------------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

const I32 = 0x7f;
const V128 = 0x7b;

/** Instructions used below (opcodes from the WebAssembly core and SIMD specifications). */
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  mul: [0x6c],
  geU: [0x4f],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (l: number) => [0x0c, ...uleb(l)],
  brIf: (l: number) => [0x0d, ...uleb(l)],
  end: [0x0b],
  // v128.load / v128.store with a 4-byte alignment hint and no offset.
  load: [0xfd, ...uleb(0x00), 0x02, 0x00],
  store: [0xfd, ...uleb(0x0b), 0x02, 0x00],
  f32x4Splat: [0xfd, ...uleb(0x13)],
  f32x4Gt: [0xfd, ...uleb(0x44)],
  f32x4Ne: [0xfd, ...uleb(0x42)],
  f32ReinterpretI32: [0xbe],
  f32x4Lt: [0xfd, ...uleb(0x43)],
  or: [0xfd, ...uleb(0x50)],
  sub: [0x6b],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2Mul: [0xfd, ...uleb(0xf2)],
  if: [0x04, 0x40],
  f64x2PromoteLow: [0xfd, ...uleb(0x5f)],
  // i8x16.shuffle of two vectors by f32 lanes (0-3: first, 4-7: second).
  shuffle32: (lanes: number[]) => [
    0xfd,
    ...uleb(0x0d),
    ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]),
  ],
  and: [0xfd, ...uleb(0x4e)],
  andNot: [0xfd, ...uleb(0x4f)],
  bitselect: [0xfd, ...uleb(0x52)],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  f32x4Sub: [0xfd, ...uleb(0xe5)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
  f32x4Max: [0xfd, ...uleb(0xe9)],
  // Relaxed SIMD: a * b + c, fused (one rounding) where the CPU has FMA, else mul then add.
  f32x4RelaxedMadd: [0xfd, ...uleb(0x105)],
  // Loads with a constant byte offset: i32, v128, and one f32 splat to four lanes.
  i32Load: (offset: number) => [0x28, 0x02, ...uleb(offset)],
  loadAt: (offset: number) => [0xfd, ...uleb(0x00), 0x02, ...uleb(offset)],
  storeAt: (offset: number) => [0xfd, ...uleb(0x0b), 0x02, ...uleb(offset)],
  load32Splat: (offset: number) => [0xfd, ...uleb(0x09), 0x02, ...uleb(offset)],
  ltU: [0x49],
  gtU: [0x4b],
  select: [0x1b],
  shrU: [0x76],
  // Bulk memory (memory.copy, memory.fill on memory 0): V8 runs them as memmove/memset.
  memoryCopy: [0xfc, ...uleb(10), 0x00, 0x00],
  memoryFill: [0xfc, ...uleb(11), 0x00],
  f32: (v: number) => {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return [0x43, ...b];
  },
};

/**
 * maxPoolGrad2x2(x, dy, dx, windows, c4, rowBytes): one output row of a 2x2, stride-2 max
 * pool's gradient over `windows` full windows. x and dx point at the top-left pixel of the
 * first window, dy at its output pixel; c4 is the channel count times 4 (bytes per pixel, a
 * multiple of 16), rowBytes the byte stride between input rows. For every channel, dy goes
 * to the FIRST strictly greater of the window's values in row-major order (as the cpu
 * backend and PyTorch: ties go to the earliest, NaN never wins, a window of only -Infinity
 * or NaN gets nothing) and the window's other three dx values are set to 0: windows do not
 * overlap, so dx needs no zero-fill and no accumulation.
 */
function maxPoolGrad2x2Body(): number[] {
  // params 0..5: x, dy, dx, windows, c4, rowBytes; locals 6..: q, d, off, then v128s.
  const [X, DY, DX, WINDOWS, C4, ROW] = [0, 1, 2, 3, 4, 5];
  const [Q, D, OFF, DOFF] = [6, 7, 8, 9];
  const [V0, V1, V2, V3, M, A0, A1, A2, A3, G] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  const at = (base: number, extra: number[] = []) => [...op.get(base), ...op.get(OFF), ...op.add, ...extra];
  const plusC4 = [...op.get(C4), ...op.add];
  const plusRow = [...op.get(ROW), ...op.add];
  const greater = (v: number, mask: number) => [
    ...op.get(v),
    ...op.get(M),
    ...op.f32x4Gt,
    ...op.set(mask),
    // m = mask ? v : m
    ...op.get(v),
    ...op.get(M),
    ...op.get(mask),
    ...op.bitselect,
    ...op.set(M),
  ];
  const clear = (mask: number, by: number) => [...op.get(mask), ...op.get(by), ...op.andNot, ...op.set(mask)];
  const storeMasked = (addr: number[], mask: number) => [
    ...addr,
    ...op.get(G),
    ...op.get(mask),
    ...op.and,
    ...op.store,
  ];
  const body = [
    ...op.i32(0),
    ...op.set(Q),
    ...op.block,
    ...op.loop,
    ...op.get(Q),
    ...op.get(WINDOWS),
    ...op.geU,
    ...op.brIf(1),
    ...op.i32(0),
    ...op.set(D),
    ...op.block,
    ...op.loop,
    ...op.get(D),
    ...op.get(C4),
    ...op.geU,
    ...op.brIf(1),
    // off = q * 2 * c4 + d (the window's top-left, this channel group); doff = q * c4 + d
    ...op.get(Q),
    ...op.get(C4),
    ...op.mul,
    ...op.tee(DOFF),
    ...op.get(DOFF),
    ...op.add,
    ...op.get(D),
    ...op.add,
    ...op.set(OFF),
    ...op.get(DOFF),
    ...op.get(D),
    ...op.add,
    ...op.set(DOFF),
    ...at(X),
    ...op.load,
    ...op.set(V0),
    ...at(X, plusC4),
    ...op.load,
    ...op.set(V1),
    ...at(X, plusRow),
    ...op.load,
    ...op.set(V2),
    ...at(X, [...plusRow, ...plusC4]),
    ...op.load,
    ...op.set(V3),
    ...op.f32(-Infinity),
    ...op.f32x4Splat,
    ...op.set(M),
    ...greater(V0, A0),
    ...greater(V1, A1),
    ...clear(A0, A1),
    ...greater(V2, A2),
    ...clear(A0, A2),
    ...clear(A1, A2),
    // The last compare needs no new maximum.
    ...op.get(V3),
    ...op.get(M),
    ...op.f32x4Gt,
    ...op.set(A3),
    ...clear(A0, A3),
    ...clear(A1, A3),
    ...clear(A2, A3),
    ...op.get(DY),
    ...op.get(DOFF),
    ...op.add,
    ...op.load,
    ...op.set(G),
    ...storeMasked(at(DX), A0),
    ...storeMasked(at(DX, plusC4), A1),
    ...storeMasked(at(DX, plusRow), A2),
    ...storeMasked(at(DX, [...plusRow, ...plusC4]), A3),
    ...op.get(D),
    ...op.i32(16),
    ...op.add,
    ...op.set(D),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...op.get(Q),
    ...op.i32(1),
    ...op.add,
    ...op.set(Q),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
  const locals = vec([
    [4, I32],
    [10, V128],
  ]);
  const code = [...locals, ...body, ...op.end];
  return [...uleb(code.length), ...code];
}

/**
 * sign(x, out, bytes): out = 1 where x > 0, -1 where x < 0, else 0 (0, -0 and NaN), over
 * `bytes` bytes (a multiple of 16) of float32 values.
 */
function signBody(): number[] {
  const [X, OUT, BYTES, I, V] = [0, 1, 2, 3, 4];
  const splat = (v: number) => [...op.f32(v), ...op.f32x4Splat];
  const body = [
    ...op.i32(0),
    ...op.set(I),
    ...op.block,
    ...op.loop,
    ...op.get(I),
    ...op.get(BYTES),
    ...op.geU,
    ...op.brIf(1),
    ...op.get(X),
    ...op.get(I),
    ...op.add,
    ...op.load,
    ...op.set(V),
    ...op.get(OUT),
    ...op.get(I),
    ...op.add,
    // (x > 0 ? 1 : 0) | (x < 0 ? -1 : 0), as bit masks
    ...op.get(V),
    ...splat(0),
    ...op.f32x4Gt,
    ...splat(1),
    ...op.and,
    ...op.get(V),
    ...splat(0),
    ...op.f32x4Lt,
    ...splat(-1),
    ...op.and,
    ...op.or,
    ...op.store,
    ...op.get(I),
    ...op.i32(16),
    ...op.add,
    ...op.set(I),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
  const code = [
    ...vec([
      [1, I32],
      [1, V128],
    ]),
    ...body,
    ...op.end,
  ];
  return [...uleb(code.length), ...code];
}

/** A function body: its locals (count, type) and instructions, with the size prefix. */
function functionBody(locals: [number, number][], body: number[]): number[] {
  const code = [...vec(locals.map(([count, type]) => [...uleb(count), type])), ...body, ...op.end];
  return [...uleb(code.length), ...code];
}

/** `for (i = 0; i < limit; i += step) { body }` over i32 locals. */
function forLoop(i: number, limit: number[], step: number[], body: number[]): number[] {
  return [
    ...op.i32(0),
    ...op.set(i),
    ...op.block,
    ...op.loop,
    ...op.get(i),
    ...limit,
    ...op.geU,
    ...op.brIf(1),
    ...body,
    ...op.get(i),
    ...step,
    ...op.add,
    ...op.set(i),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/** Instruction sequences, concatenated. */
function seq(...parts: number[][]): number[] {
  return parts.flat();
}

/** `while (i < limit) { body; i += step }` over an i32 local set beforehand (unsigned compare). */
function whileBelow(i: number, limit: number, step: number[], body: number[]): number[] {
  return seq(
    op.block,
    op.loop,
    op.get(i),
    op.get(limit),
    op.geU,
    op.brIf(1),
    body,
    op.get(i),
    step,
    op.add,
    op.set(i),
    op.br(0),
    op.end,
    op.end,
  );
}

/**
 * copyBlocks(src, srcStep, dst, dstStep, count, bytes): copies `count` blocks of `bytes`
 * bytes (a multiple of 16), the k-th from src + k * srcStep to dst + k * dstStep (im2col:
 * one filter tap's channels for a run of output positions).
 */
function copyBlocksBody(): number[] {
  const [SRC, SSTEP, DST, DSTEP, COUNT, BYTES, K, OFF] = [0, 1, 2, 3, 4, 5, 6, 7];
  const inner = forLoop(OFF, op.get(BYTES), op.i32(16), [
    ...op.get(DST),
    ...op.get(OFF),
    ...op.add,
    ...op.get(SRC),
    ...op.get(OFF),
    ...op.add,
    ...op.load,
    ...op.store,
  ]);
  const outer = forLoop(K, op.get(COUNT), op.i32(1), [
    ...inner,
    ...op.get(SRC),
    ...op.get(SSTEP),
    ...op.add,
    ...op.set(SRC),
    ...op.get(DST),
    ...op.get(DSTEP),
    ...op.add,
    ...op.set(DST),
  ]);
  return functionBody([[2, I32]], outer);
}

/**
 * padImages(src, dst, images, imgInBytes, imgOutBytes, headBytes, rows, copyBytes,
 * srcRowBytes, midBytes, tailBytes): copies `images` images into zero-padded ones. Image k
 * reads from src + k * imgInBytes and writes dst + k * imgOutBytes: headBytes of zeros (the
 * top margin rows and the first row's left margin), then `rows` times copyBytes of input
 * (rows srcRowBytes apart), midBytes of zeros between them (right and left margins) and
 * tailBytes of zeros after the last (its right margin and the bottom rows). Only margins are
 * written with zeros; any byte counts.
 */
function padImagesBody(): number[] {
  const [SRC, DST, IMAGES, IMG_IN, IMG_OUT, HEAD, ROWS, COPY, SROW, MID, TAIL] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [K, R, S, D] = [11, 12, 13, 14];
  const zeros = (bytes: number) =>
    seq(op.get(D), op.i32(0), op.get(bytes), op.memoryFill, op.get(D), op.get(bytes), op.add, op.set(D));
  const row = seq(
    op.get(R),
    op.if,
    zeros(MID),
    op.end,
    op.get(D),
    op.get(S),
    op.get(COPY),
    op.memoryCopy,
    op.get(D),
    op.get(COPY),
    op.add,
    op.set(D),
    op.get(S),
    op.get(SROW),
    op.add,
    op.set(S),
  );
  const image = seq(
    op.get(SRC),
    op.get(K),
    op.get(IMG_IN),
    op.mul,
    op.add,
    op.set(S),
    op.get(DST),
    op.get(K),
    op.get(IMG_OUT),
    op.mul,
    op.add,
    op.set(D),
    zeros(HEAD),
    forLoop(R, op.get(ROWS), op.i32(1), row),
    zeros(TAIL),
  );
  return functionBody([[4, I32]], forLoop(K, op.get(IMAGES), op.i32(1), image));
}

/**
 * transpose(src, rows, cols, dst): dst [cols x rows] = src [rows x cols]ᵀ, float32, rows and
 * cols multiples of 4, by 4x4 blocks (four loads, eight shuffles, four stores).
 */
function transposeBody(): number[] {
  const [SRC, ROWS, COLS, DST, RB, CB, FROM, TO] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [R0, R1, R2, R3, T0, T1, T2, T3] = [8, 9, 10, 11, 12, 13, 14, 15];
  const rowBytes = [...op.get(COLS), ...op.i32(4), ...op.mul];
  const colBytes = [...op.get(ROWS), ...op.i32(4), ...op.mul];
  const loadRow = (k: number, into: number) => [
    ...op.get(FROM),
    ...rowBytes,
    ...op.i32(k),
    ...op.mul,
    ...op.add,
    ...op.load,
    ...op.set(into),
  ];
  const shuffle = (a: number, b: number, lanes: number[], into: number) => [
    ...op.get(a),
    ...op.get(b),
    ...op.shuffle32(lanes),
    ...op.set(into),
  ];
  const storeCol = (k: number, a: number, b: number, lanes: number[]) => [
    ...op.get(TO),
    ...colBytes,
    ...op.i32(k),
    ...op.mul,
    ...op.add,
    ...op.get(a),
    ...op.get(b),
    ...op.shuffle32(lanes),
    ...op.store,
  ];
  const block = [
    // from = src + (rb * cols + cb) * 4; to = dst + (cb * rows + rb) * 4
    ...op.get(SRC),
    ...op.get(RB),
    ...op.get(COLS),
    ...op.mul,
    ...op.get(CB),
    ...op.add,
    ...op.i32(4),
    ...op.mul,
    ...op.add,
    ...op.set(FROM),
    ...op.get(DST),
    ...op.get(CB),
    ...op.get(ROWS),
    ...op.mul,
    ...op.get(RB),
    ...op.add,
    ...op.i32(4),
    ...op.mul,
    ...op.add,
    ...op.set(TO),
    ...loadRow(0, R0),
    ...loadRow(1, R1),
    ...loadRow(2, R2),
    ...loadRow(3, R3),
    ...shuffle(R0, R1, [0, 4, 1, 5], T0),
    ...shuffle(R0, R1, [2, 6, 3, 7], T1),
    ...shuffle(R2, R3, [0, 4, 1, 5], T2),
    ...shuffle(R2, R3, [2, 6, 3, 7], T3),
    ...storeCol(0, T0, T2, [0, 1, 4, 5]),
    ...storeCol(1, T0, T2, [2, 3, 6, 7]),
    ...storeCol(2, T1, T3, [0, 1, 4, 5]),
    ...storeCol(3, T1, T3, [2, 3, 6, 7]),
  ];
  // Columns outer, rows inner: each output row is written sequentially (rows inner with a
  // power-of-two row length made every store land 4 KB from the last: cache conflicts).
  const loops = forLoop(CB, op.get(COLS), op.i32(4), forLoop(RB, op.get(ROWS), op.i32(4), block));
  return functionBody(
    [
      [4, I32],
      [8, V128],
    ],
    loops,
  );
}

/**
 * columnSums(x, rows, rowBytes, acc): acc[j] += sum over rows of x[row, j], for float32 x
 * [rows x rowBytes/4] (rowBytes a multiple of 16) into float64 acc [rowBytes/4]: each value
 * is widened before it is added, so the sums are as accurate as a float64 loop's.
 */
function columnSumsBody(): number[] {
  const [X, ROWS, ROW_BYTES, ACC, R, J, AT] = [0, 1, 2, 3, 4, 5, 6];
  const V = 7;
  const addInto = (offset: number, widened: number[]) => [
    ...op.get(AT),
    ...(offset ? [...op.i32(offset), ...op.add] : []),
    ...op.get(AT),
    ...(offset ? [...op.i32(offset), ...op.add] : []),
    ...op.load,
    ...widened,
    ...op.f64x2Add,
    ...op.store,
  ];
  const inner = forLoop(J, op.get(ROW_BYTES), op.i32(16), [
    ...op.get(X),
    ...op.get(J),
    ...op.add,
    ...op.load,
    ...op.set(V),
    // at = acc + 2 * j (8 bytes per float64 for 4 bytes per float32)
    ...op.get(ACC),
    ...op.get(J),
    ...op.get(J),
    ...op.add,
    ...op.add,
    ...op.set(AT),
    ...addInto(0, [...op.get(V), ...op.f64x2PromoteLow]),
    ...addInto(16, [...op.get(V), ...op.get(V), ...op.shuffle32([2, 3, 0, 1]), ...op.f64x2PromoteLow]),
  ]);
  const outer = forLoop(R, op.get(ROWS), op.i32(1), [
    ...inner,
    ...op.get(X),
    ...op.get(ROW_BYTES),
    ...op.add,
    ...op.set(X),
  ]);
  return functionBody(
    [
      [3, I32],
      [1, V128],
    ],
    outer,
  );
}

/**
 * acc += a * b on v128 locals: f32x4.relaxed_madd in the fused flavour (one rounding where
 * the CPU has FMA: 8 instead of 16 arithmetic instructions per 4 x 8 tile step), else
 * f32x4.mul then f32x4.add (XNNPACK's own order, bit for bit).
 */
function multiplyAdd(fused: boolean, acc: number, a: number, b: number): number[] {
  return fused
    ? seq(op.get(a), op.get(b), op.get(acc), op.f32x4RelaxedMadd, op.set(acc))
    : seq(op.get(acc), op.get(a), op.get(b), op.f32x4Mul, op.f32x4Add, op.set(acc));
}

/**
 * filterGrad(jobs, nJobs, xStep, coBytes, cb0, cb1, ob0, ob1): a convolution's filter gradient
 * straight from x and dy, with no patch matrix. Each job (three i32: runs, nRuns, acc) is one
 * filter tap (kh, kw) over a chunk of output positions; each run (three i32: x, dy, count) is
 * a stretch of `count` positions along one output row, x pointing at the tap's input pixel
 * for the first of them (channel 0, stepping xStep bytes per position), dy at its gradient
 * row (channel 0, coBytes per position). For every block of 4 input channels in bytes
 * [cb0, cb1) of ci and 8 output channels in bytes [ob0, ob1) of co, the 4 x 8 products are
 * summed in float32 registers over the job's runs, in position order, and then added
 * (widened) into the float64 sums acc[ci][co] of that tap. cb0 and cb1 are multiples of 16,
 * coBytes, ob0 and ob1 of 32; every run has count >= 1. Calls on disjoint channel ranges
 * write disjoint sums, so the work can be split over threads without changing a bit.
 *
 * Why: the im2col path copied and transposed every patch before a short GEMM (1.3-1.9x the
 * forward convolution's time); this is the same 4 x 8 register tile as XNNPACK's GEMM (one
 * splat per input channel, two dy vectors per position) reading the inputs in place.
 */
function filterGradBody(fused: boolean): number[] {
  const [JOBS, NJOBS, XSTEP, COB, CB0, CB1, OB0, OB1] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [JP, JEND, RUNS, REND, ACC, CB, OB, XP, DP, CNT, BASE, ROW2] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  const A = [20, 21, 22, 23, 24, 25, 26, 27];
  const [D0, D1, S] = [28, 29, 30];
  const zero = seq(op.f32(0), op.f32x4Splat);
  const fma = (acc: number, d: number) => multiplyAdd(fused, acc, S, d);
  const position = seq(
    op.get(DP),
    op.loadAt(0),
    op.set(D0),
    op.get(DP),
    op.loadAt(16),
    op.set(D1),
    ...[0, 1, 2, 3].map((l) =>
      seq(op.get(XP), op.load32Splat(4 * l), op.set(S), fma(A[2 * l], D0), fma(A[2 * l + 1], D1)),
    ),
    op.get(XP),
    op.get(XSTEP),
    op.add,
    op.set(XP),
    op.get(DP),
    op.get(COB),
    op.add,
    op.set(DP),
  );
  // do { position } while (--cnt)
  const positions = seq(op.loop, position, op.get(CNT), op.i32(1), op.sub, op.tee(CNT), op.brIf(0), op.end);
  const run = seq(
    op.get(RUNS),
    op.i32Load(0),
    op.get(CB),
    op.add,
    op.set(XP),
    op.get(RUNS),
    op.i32Load(4),
    op.get(OB),
    op.add,
    op.set(DP),
    op.get(RUNS),
    op.i32Load(8),
    op.set(CNT),
    positions,
  );
  // acc[row] (float64) += the 8 float32 lanes of two accumulators.
  const widenAdd = (offset: number, v: number[]) =>
    seq(op.get(BASE), op.get(BASE), op.loadAt(offset), v, op.f64x2PromoteLow, op.f64x2Add, op.storeAt(offset));
  const high = (a: number) => seq(op.get(a), op.get(a), op.shuffle32([2, 3, 0, 1]));
  const flush = [0, 1, 2, 3].map((l) =>
    seq(
      widenAdd(0, op.get(A[2 * l])),
      widenAdd(16, high(A[2 * l])),
      widenAdd(32, op.get(A[2 * l + 1])),
      widenAdd(48, high(A[2 * l + 1])),
      op.get(BASE),
      op.get(ROW2),
      op.add,
      op.set(BASE),
    ),
  );
  const tile = seq(
    ...A.map((a) => seq(zero, op.set(a))),
    // runs walks the job's run table; RUNS is restored from the job below.
    op.get(JP),
    op.i32Load(0),
    op.set(RUNS),
    whileBelow(RUNS, REND, op.i32(12), run),
    // base = acc + (cb / 4) * co * 8 + ob * 2: the float64 sums of input channel cb / 4.
    op.get(ACC),
    op.get(CB),
    op.i32(2),
    op.shrU,
    op.get(ROW2),
    op.mul,
    op.add,
    op.get(OB),
    op.get(OB),
    op.add,
    op.add,
    op.set(BASE),
    ...flush,
  );
  const job = seq(
    op.get(JP),
    op.i32Load(0),
    op.get(JP),
    op.i32Load(4),
    op.i32(12),
    op.mul,
    op.add,
    op.set(REND),
    op.get(JP),
    op.i32Load(8),
    op.set(ACC),
    op.get(CB0),
    op.set(CB),
    whileBelow(CB, CB1, op.i32(16), seq(op.get(OB0), op.set(OB), whileBelow(OB, OB1, op.i32(32), tile))),
  );
  const body = seq(
    op.get(COB),
    op.get(COB),
    op.add,
    op.set(ROW2),
    op.get(JOBS),
    op.set(JP),
    op.get(JOBS),
    op.get(NJOBS),
    op.i32(12),
    op.mul,
    op.add,
    op.set(JEND),
    whileBelow(JP, JEND, op.i32(12), job),
  );
  return functionBody(
    [
      [12, I32],
      [11, V128],
    ],
    body,
  );
}

/**
 * columnDots(x, y, rows, rowBytes, acc, blockRows): for float32 x and y [rows x rowBytes/4]
 * (rowBytes a multiple of 16), adds the column sums of x and of x * y, each value widened to
 * float64 before it is added (a product of two float32 is exact in float64), into float64
 * sums: the rows of block k (blockRows rows each) into acc + k * 4 * rowBytes, the C sums of x
 * first, then the C sums of x * y. A caller that splits the rows over threads at block
 * boundaries and adds the blocks in order gets the same sums for any split.
 */
function columnDotsBody(): number[] {
  const [X, Y, ROWS, ROW_BYTES, ACC, BLOCK_ROWS] = [0, 1, 2, 3, 4, 5];
  const [R, J, AT, HALF, IN_BLOCK] = [6, 7, 8, 9, 10];
  const [VX, VY, PX] = [11, 12, 13];
  const high = (v: number) => seq(op.get(v), op.get(v), op.shuffle32([2, 3, 0, 1]));
  const sumAt = (offset: number, extra: number[], value: number[]) =>
    seq(op.get(AT), extra, op.get(AT), extra, op.loadAt(offset), value, op.f64x2Add, op.storeAt(offset));
  const plusHalf = seq(op.get(HALF), op.add);
  // One widened pair of lanes: acc[x] += px, acc[x * y] += px * py.
  const pair = (offset: number, xs: number[], ys: number[]) =>
    seq(
      xs,
      op.f64x2PromoteLow,
      op.set(PX),
      sumAt(offset, [], op.get(PX)),
      sumAt(offset, plusHalf, seq(op.get(PX), ys, op.f64x2PromoteLow, op.f64x2Mul)),
    );
  const inner = forLoop(
    J,
    op.get(ROW_BYTES),
    op.i32(16),
    seq(
      op.get(X),
      op.get(J),
      op.add,
      op.load,
      op.set(VX),
      op.get(Y),
      op.get(J),
      op.add,
      op.load,
      op.set(VY),
      // at = acc + 2 * j (8 bytes per float64 for 4 bytes per float32)
      op.get(ACC),
      op.get(J),
      op.get(J),
      op.add,
      op.add,
      op.set(AT),
      pair(0, op.get(VX), op.get(VY)),
      pair(16, high(VX), high(VY)),
    ),
  );
  const outer = forLoop(
    R,
    op.get(ROWS),
    op.i32(1),
    seq(
      inner,
      op.get(X),
      op.get(ROW_BYTES),
      op.add,
      op.set(X),
      op.get(Y),
      op.get(ROW_BYTES),
      op.add,
      op.set(Y),
      // if (++inBlock >= blockRows) { acc += 4 * rowBytes; inBlock = 0 }
      op.get(IN_BLOCK),
      op.i32(1),
      op.add,
      op.tee(IN_BLOCK),
      op.get(BLOCK_ROWS),
      op.geU,
      op.if,
      op.get(ACC),
      op.get(ROW_BYTES),
      op.i32(4),
      op.mul,
      op.add,
      op.set(ACC),
      op.i32(0),
      op.set(IN_BLOCK),
      op.end,
    ),
  );
  const body = seq(op.get(ROW_BYTES), op.get(ROW_BYTES), op.add, op.set(HALF), op.i32(0), op.set(IN_BLOCK), outer);
  return functionBody(
    [
      [5, I32],
      [3, V128],
    ],
    body,
  );
}

/**
 * affine2(a, b, rows, rowBytes, params, out): out = a * p[0] + (b - p[1]) * p[2] + p[3] per
 * column, for float32 a, b and out [rows x rowBytes/4] (rowBytes a multiple of 16) and params
 * [4 x rowBytes/4] (four per-channel coefficient rows). BatchNorm's input gradient in one
 * pass; b - p[1] is formed first (x minus the batch mean), so nothing large cancels.
 */
function affine2Body(): number[] {
  const [A, B, ROWS, ROW_BYTES, P, OUT] = [0, 1, 2, 3, 4, 5];
  const [R, J] = [6, 7];
  const at = (base: number) => seq(op.get(base), op.get(J), op.add);
  const param = (k: number) =>
    seq(op.get(P), op.get(J), op.add, ...(k ? [op.get(ROW_BYTES), op.i32(k), op.mul, op.add] : []), op.load);
  const inner = forLoop(
    J,
    op.get(ROW_BYTES),
    op.i32(16),
    seq(
      at(OUT),
      at(A),
      op.load,
      param(0),
      op.f32x4Mul,
      at(B),
      op.load,
      param(1),
      op.f32x4Sub,
      param(2),
      op.f32x4Mul,
      op.f32x4Add,
      param(3),
      op.f32x4Add,
      op.store,
    ),
  );
  const outer = forLoop(
    R,
    op.get(ROWS),
    op.i32(1),
    seq(inner, ...[A, B, OUT].map((v) => seq(op.get(v), op.get(ROW_BYTES), op.add, op.set(v)))),
  );
  return functionBody([[2, I32]], outer);
}

/**
 * scaleShift(x, rows, rowBytes, params, out): out = x * s + t per channel over `rows` rows of
 * rowBytes bytes (a multiple of 16), with s the first rowBytes of params and t the next
 * (BatchNorm's folded form; the same float32 product then sum as XNNPACK's vmulcaddc).
 */
function scaleShiftBody(): number[] {
  const [X, ROWS, ROW_BYTES, P, OUT] = [0, 1, 2, 3, 4];
  const [R, J] = [5, 6];
  const at = (base: number) => seq(op.get(base), op.get(J), op.add);
  const inner = forLoop(
    J,
    op.get(ROW_BYTES),
    op.i32(16),
    seq(
      at(OUT),
      at(X),
      op.load,
      at(P),
      op.load,
      op.f32x4Mul,
      at(P),
      op.get(ROW_BYTES),
      op.add,
      op.load,
      op.f32x4Add,
      op.store,
    ),
  );
  const outer = forLoop(
    R,
    op.get(ROWS),
    op.i32(1),
    seq(inner, ...[X, OUT].map((v) => seq(op.get(v), op.get(ROW_BYTES), op.add, op.set(v)))),
  );
  return functionBody([[2, I32]], outer);
}

/**
 * relu(x, out, bytes): out = max(x, 0) over `bytes` bytes (a multiple of 16) of float32, as
 * the stock kernel: NaN stays NaN, -0 becomes +0.
 */
function reluBody(): number[] {
  const [X, OUT, BYTES, I] = [0, 1, 2, 3];
  const V = 4;
  const loop = forLoop(
    I,
    op.get(BYTES),
    op.i32(16),
    seq(
      op.get(OUT),
      op.get(I),
      op.add,
      op.get(X),
      op.get(I),
      op.add,
      op.load,
      op.tee(V),
      // x where x > 0, else +0 (all bits clear); then x where x is NaN
      op.get(V),
      op.f32(0),
      op.f32x4Splat,
      op.f32x4Gt,
      op.and,
      op.get(V),
      op.get(V),
      op.get(V),
      op.f32x4Ne,
      op.and,
      op.or,
      op.store,
    ),
  );
  return functionBody(
    [
      [1, I32],
      [1, V128],
    ],
    loop,
  );
}

/** multiply(a, b, out, bytes): out = a * b elementwise over `bytes` bytes (a multiple of 16) of float32. */
function multiplyBody(): number[] {
  const [A, B, OUT, BYTES, I] = [0, 1, 2, 3, 4];
  const at = (base: number) => [...op.get(base), ...op.get(I), ...op.add];
  const loop = forLoop(I, op.get(BYTES), op.i32(16), [
    ...at(OUT),
    ...at(A),
    ...op.load,
    ...at(B),
    ...op.load,
    ...op.f32x4Mul,
    ...op.store,
  ]);
  return functionBody([[1, I32]], loop);
}

/**
 * step(x, out, bytes, alphaBits): out = 1 where x > 0, NaN where x is NaN, else alpha (the
 * float32 whose bits are alphaBits), over `bytes` bytes (a multiple of 16) of float32, as the
 * stock Step kernel (ReLU's derivative for alpha = 0).
 */
function stepBody(): number[] {
  return stepLikeBody(false);
}

/**
 * reluGrad(x, out, bytes, dy): out = dy * step(x), the stock ReLU gradient (mul(dy, step(x)),
 * the same products bit for bit) in one pass instead of two.
 */
function reluGradBody(): number[] {
  return stepLikeBody(true);
}

function stepLikeBody(timesDy: boolean): number[] {
  // reluGrad's fourth parameter is dy's address; step's is alpha's bits.
  const [X, OUT, BYTES, FOURTH, I] = [0, 1, 2, 3, 4];
  const [V, ONE, ALPHA] = [5, 6, 7];
  const stepValue = [
    // r = x > 0 ? 1 : alpha; then x where x != x (NaN)
    ...op.get(V),
    ...op.get(ONE),
    ...op.get(ALPHA),
    ...op.get(V),
    ...op.f32(0),
    ...op.f32x4Splat,
    ...op.f32x4Gt,
    ...op.bitselect,
    ...op.get(V),
    ...op.get(V),
    ...op.f32x4Ne,
    ...op.bitselect,
  ];
  const loop = forLoop(I, op.get(BYTES), op.i32(16), [
    ...op.get(OUT),
    ...op.get(I),
    ...op.add,
    ...op.get(X),
    ...op.get(I),
    ...op.add,
    ...op.load,
    ...op.set(V),
    ...(timesDy ? [...op.get(FOURTH), ...op.get(I), ...op.add, ...op.load] : []),
    ...stepValue,
    ...(timesDy ? op.f32x4Mul : []),
    ...op.store,
  ]);
  const alpha = timesDy ? op.f32(0) : [...op.get(FOURTH), ...op.f32ReinterpretI32];
  const body = [...op.f32(1), ...op.f32x4Splat, ...op.set(ONE), ...alpha, ...op.f32x4Splat, ...op.set(ALPHA), ...loop];
  return functionBody(
    [
      [1, I32],
      [3, V128],
    ],
    body,
  );
}

/**
 * convTiles(tiles, nTiles, taps, nTaps, cin, packed, ob0, ob1, coBytes, bias, relu, group,
 * outBase): a convolution's output, 4 positions x 8 output channels per register tile,
 * reading the (explicitly padded) input in place. Each tile (six i32: x0, x1, x2, x3, lanes,
 * out) gives the byte offset of each of its 4 positions' window origin, how many of the 4 are
 * real (the last tile may have fewer; the others repeat a real position and are not stored)
 * and the byte offset from outBase where lane 0's output row starts (lane k's is k * coBytes
 * further). taps holds nTaps i32 byte addresses of the window's taps for an origin at offset
 * 0 (the input's address plus the tap's offset), so a table of offsets serves any buffers;
 * for every tap, cin input channels are read at consecutive floats. packed holds the filter
 * as [co block][tap][ci][8] float32. For output-channel blocks [ob0, ob1): acc = bias (if
 * bias != 0, else 0) + sum over taps and channels in that order, then max(acc, 0) if relu !=
 * 0, stored at outBase + out + k * coBytes + 32 * block. Tiles go in groups of `group`, all
 * blocks of a group before the next group (its inputs stay in cache). Calls on disjoint
 * blocks or tiles write disjoint outputs.
 */
function convTilesBody(fused: boolean): number[] {
  const [TILES, NTILES, TAPS, NTAPS, CIN, PACKED, OB0, OB1, COB, BIAS, RELU, GROUP, OUTBASE] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
  ];
  const [OB, TP, TEND, WB, WP, T, TAPEND, P0, P1, P2, P3, CNT, OUT, LANES, GSTART, GEND] = [
    13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
  ];
  const A = [29, 30, 31, 32, 33, 34, 35, 36];
  const [B0, B1, W0, W1, S] = [37, 38, 39, 40, 41];
  const P = [P0, P1, P2, P3];
  const fma = (acc: number, w: number) => multiplyAdd(fused, acc, S, w);
  const channel = seq(
    op.get(WP),
    op.loadAt(0),
    op.set(W0),
    op.get(WP),
    op.loadAt(16),
    op.set(W1),
    ...P.map((p, k) => seq(op.get(p), op.load32Splat(0), op.set(S), fma(A[2 * k], W0), fma(A[2 * k + 1], W1))),
    ...P.map((p) => seq(op.get(p), op.i32(4), op.add, op.set(p))),
    op.get(WP),
    op.i32(32),
    op.add,
    op.set(WP),
  );
  // do { channel } while (--cnt), for cin >= 1
  const channels = seq(op.loop, channel, op.get(CNT), op.i32(1), op.sub, op.tee(CNT), op.brIf(0), op.end);
  const tap = seq(
    ...P.map((p, k) => seq(op.get(TP), op.i32Load(4 * k), op.get(T), op.i32Load(0), op.add, op.set(p))),
    op.get(CIN),
    op.set(CNT),
    channels,
  );
  const store = [0, 1, 2, 3].map((k) =>
    seq(
      op.get(LANES),
      op.i32(k),
      op.gtU,
      op.if,
      op.get(OUT),
      op.get(A[2 * k]),
      op.storeAt(0),
      op.get(OUT),
      op.get(A[2 * k + 1]),
      op.storeAt(16),
      op.end,
      op.get(OUT),
      op.get(COB),
      op.add,
      op.set(OUT),
    ),
  );
  const zero = seq(op.f32(0), op.f32x4Splat);
  const relu = seq(op.get(RELU), op.if, ...A.map((a) => seq(op.get(a), zero, op.f32x4Max, op.set(a))), op.end);
  const tile = seq(
    ...A.map((a, i) => seq(op.get(i % 2 === 0 ? B0 : B1), op.set(a))),
    op.get(WB),
    op.set(WP),
    op.get(TAPS),
    op.set(T),
    whileBelow(T, TAPEND, op.i32(4), tap),
    relu,
    op.get(TP),
    op.i32Load(16),
    op.set(LANES),
    // out = outBase + tile's out + 32 * block
    op.get(OUTBASE),
    op.get(TP),
    op.i32Load(20),
    op.add,
    op.get(OB),
    op.i32(32),
    op.mul,
    op.add,
    op.set(OUT),
    ...store,
  );
  const block = seq(
    // wb = packed + ob * nTaps * cin * 32
    op.get(PACKED),
    op.get(OB),
    op.get(NTAPS),
    op.mul,
    op.get(CIN),
    op.mul,
    op.i32(32),
    op.mul,
    op.add,
    op.set(WB),
    zero,
    op.set(B0),
    zero,
    op.set(B1),
    op.get(BIAS),
    op.if,
    op.get(BIAS),
    op.get(OB),
    op.i32(32),
    op.mul,
    op.add,
    op.tee(WP),
    op.loadAt(0),
    op.set(B0),
    op.get(WP),
    op.loadAt(16),
    op.set(B1),
    op.end,
    op.get(GSTART),
    op.set(TP),
    whileBelow(TP, GEND, op.i32(24), tile),
  );
  // Groups of `group` tiles, every block of a group before the next (its inputs stay cached).
  const groupLoop = seq(
    // gEnd = min(gStart + group * 24, tEnd)
    op.get(GSTART),
    op.get(GROUP),
    op.i32(24),
    op.mul,
    op.add,
    op.tee(GEND),
    op.get(TEND),
    op.get(GEND),
    op.get(TEND),
    op.ltU,
    op.select,
    op.set(GEND),
    op.get(OB0),
    op.set(OB),
    whileBelow(OB, OB1, op.i32(1), block),
    op.get(GEND),
    op.set(GSTART),
  );
  const body = seq(
    op.get(TILES),
    op.get(NTILES),
    op.i32(24),
    op.mul,
    op.add,
    op.set(TEND),
    op.get(TAPS),
    op.get(NTAPS),
    op.i32(4),
    op.mul,
    op.add,
    op.set(TAPEND),
    op.get(TILES),
    op.set(GSTART),
    op.block,
    op.loop,
    op.get(GSTART),
    op.get(TEND),
    op.geU,
    op.brIf(1),
    groupLoop,
    op.br(0),
    op.end,
    op.end,
  );
  return functionBody(
    [
      [16, I32],
      [13, V128],
    ],
    body,
  );
}

/**
 * The memory import's limits: `(memory 0)` for the single-threaded build's memory; for the
 * threaded build's shared memory `(memory 0 65536 shared)`, since a shared import must be
 * declared shared and bounded (65536 pages is wasm32's 4 GiB, at least any real maximum).
 */
function memoryLimits(shared: boolean): number[] {
  return shared ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
}

/** Every routine the module exports: its name, how many i32 parameters it takes, its body. */
const ROUTINES: ReadonlyArray<[name: string, params: number, body: (fused: boolean) => number[]]> = [
  ['maxPoolGrad2x2', 6, maxPoolGrad2x2Body],
  ['sign', 3, signBody],
  ['copyBlocks', 6, copyBlocksBody],
  ['transpose', 4, transposeBody],
  ['columnSums', 4, columnSumsBody],
  ['filterGrad', 8, filterGradBody],
  ['columnDots', 6, columnDotsBody],
  ['affine2', 6, affine2Body],
  ['multiply', 4, multiplyBody],
  ['step', 4, stepBody],
  ['reluGrad', 4, reluGradBody],
  ['convTiles', 13, convTilesBody],
  ['padImages', 11, padImagesBody],
  ['scaleShift', 5, scaleShiftBody],
  ['relu', 3, reluBody],
];

function moduleBytes(shared: boolean, fused: boolean): Uint8Array<ArrayBuffer> {
  // One function type per routine (i32 parameters, no results): simpler than sharing them.
  const types = ROUTINES.map(([, params]) => [0x60, ...vec(Array.from({ length: params }, () => [I32])), ...vec([])]);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    // (import "env" "memory" (memory …)): the backend's memory, whatever its size.
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, ...memoryLimits(shared)]])),
    ...section(3, vec(ROUTINES.map((_, i) => uleb(i)))),
    ...section(7, vec(ROUTINES.map(([name], i) => [...str(name), 0x00, ...uleb(i)]))),
    ...section(10, vec(ROUTINES.map(([, , body]) => body(fused)))),
  ];
  return new Uint8Array(bytes);
}

export interface SimdRoutines {
  maxPoolGrad2x2(x: number, dy: number, dx: number, windows: number, c4: number, rowBytes: number): void;
  sign(x: number, out: number, bytes: number): void;
  copyBlocks(src: number, srcStep: number, dst: number, dstStep: number, count: number, bytes: number): void;
  transpose(src: number, rows: number, cols: number, dst: number): void;
  columnSums(x: number, rows: number, rowBytes: number, acc: number): void;
  columnDots(x: number, y: number, rows: number, rowBytes: number, acc: number, blockRows: number): void;
  affine2(a: number, b: number, rows: number, rowBytes: number, params: number, out: number): void;
  multiply(a: number, b: number, out: number, bytes: number): void;
  scaleShift(x: number, rows: number, rowBytes: number, params: number, out: number): void;
  relu(x: number, out: number, bytes: number): void;
  step(x: number, out: number, bytes: number, alphaBits: number): void;
  reluGrad(x: number, out: number, bytes: number, dy: number): void;
  convTiles(
    tiles: number,
    nTiles: number,
    taps: number,
    nTaps: number,
    cin: number,
    packed: number,
    ob0: number,
    ob1: number,
    coBytes: number,
    bias: number,
    relu: number,
    group: number,
    outBase: number,
  ): void;
  padImages(
    src: number,
    dst: number,
    images: number,
    imgInBytes: number,
    imgOutBytes: number,
    headBytes: number,
    rows: number,
    copyBytes: number,
    srcRowBytes: number,
    midBytes: number,
    tailBytes: number,
  ): void;
  filterGrad(
    jobs: number,
    nJobs: number,
    xStep: number,
    ciBytes: number,
    coBytes: number,
    ob0: number,
    ob1: number,
  ): void;
}

/** The routines instantiated on one memory, with what a helper thread needs to do the same. */
export interface SimdInstance {
  routines: SimdRoutines;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Whether the memory is shared (the threaded build): only then can other threads use it. */
  shared: boolean;
  /** Whether the convolution tiles multiply-add with relaxed SIMD (see `fusedMultiplyAdd`). */
  fused: boolean;
}

/** Environment variable: "0" keeps the plain flavour (mul, then add) where relaxed SIMD exists. */
export const FMA_ENV = 'OWNERSHIP_AUDIT_FMA';

/** (func (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2))) */
const RELAXED_PROBE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(1, vec([[0x60, ...vec([[V128], [V128], [V128]]), ...vec([[V128]])]])),
  ...section(3, vec([uleb(0)])),
  ...section(10, vec([functionBody([], seq(op.get(0), op.get(1), op.get(2), op.f32x4RelaxedMadd))])),
]);

let relaxedSimd: boolean | undefined;

/**
 * Whether this runtime's WebAssembly has relaxed SIMD. Electron's V8 ships it on; Node 20's
 * V8 (11.3) has it behind --experimental-wasm-relaxed-simd, which is turned on here. V8 reads
 * its wasm feature flags when it validates a module, so setting one at run time takes effect
 * for modules compiled afterwards (the probe checks that it did); nothing else changes.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxedSimd !== undefined) return relaxedSimd;
  const validates = (): boolean => {
    try {
      return WebAssembly.validate(RELAXED_PROBE);
    } catch {
      return false;
    }
  };
  relaxedSimd = validates();
  if (!relaxedSimd && typeof process !== 'undefined' && process.versions?.node !== undefined) {
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      relaxedSimd = validates();
    } catch {
      relaxedSimd = false;
    }
  }
  return relaxedSimd;
}

let fusedChoice: boolean | undefined;

/**
 * Whether kernels get the fused flavour: the convolution and filter-gradient tiles use
 * f32x4.relaxed_madd, which V8 compiles to an FMA instruction on CPUs that have one (every
 * x86-64 since 2013, every arm64): 1.15-1.2x the training throughput of the vggbn32 and cnn28
 * bench models on this machine. Results then differ from the plain flavour (mul, then add;
 * XNNPACK's bits) in the last bits of each sum, and the same seed gives the same bits for any
 * thread count on one machine. Used where the runtime has relaxed SIMD, unless
 * OWNERSHIP_AUDIT_FMA=0.
 */
export function fusedMultiplyAdd(): boolean {
  fusedChoice ??= process.env[FMA_ENV] !== '0' && relaxedSimdAvailable();
  return fusedChoice;
}

/** The flavour in words, for logs and results files. */
export function multiplyAddFlavour(): string {
  return fusedMultiplyAdd() ? 'fused multiply-add (relaxed SIMD)' : 'multiply, then add';
}

/** Picks the flavour kernels use from now on (tests and benchmarks; false: plain). */
export function setFusedMultiplyAdd(on: boolean): void {
  fusedChoice = on && relaxedSimdAvailable();
}

const instances = new WeakMap<WebAssembly.Memory, Map<boolean, SimdInstance | null>>();

/**
 * The routines bound to `memory` (in the flavour `fused`, by default `fusedMultiplyAdd()`),
 * or null where this engine cannot run them (no SIMD in its WebAssembly): callers then keep
 * their JavaScript path.
 */
export function simdInstance(memory: WebAssembly.Memory, fused = fusedMultiplyAdd()): SimdInstance | null {
  let flavours = instances.get(memory);
  if (!flavours) instances.set(memory, (flavours = new Map()));
  if (flavours.has(fused)) return flavours.get(fused) ?? null;
  let found: SimdInstance | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const module = new WebAssembly.Module(moduleBytes(shared, fused));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    found = { routines: instance.exports as unknown as SimdRoutines, module, memory, shared, fused };
  } catch {
    found = null;
  }
  flavours.set(fused, found);
  return found;
}

/** The routines on the wasm backend's heap, or null where they cannot run (callers keep a JavaScript path). */
export function backendSimd(backend: BackendWasm): SimdRoutines | null {
  return backendSimdInstance(backend)?.routines ?? null;
}

/** The routines on the wasm backend's heap with their module and memory (for helper threads), or null. */
export function backendSimdInstance(backend: BackendWasm): SimdInstance | null {
  const memory = heapMemory(backend);
  return memory ? simdInstance(memory) : null;
}
