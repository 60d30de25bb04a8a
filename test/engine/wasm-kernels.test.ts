// Checks the wasm training kernels against the pure-JS cpu backend, kernel by kernel and
// through tf.grad, on odd sizes, strides 1 and 2, both padding modes, batch > 1 and several
// channels. Tolerance: max |wasm - cpu| <= 1e-4 * max(1, max |cpu|) unless stated otherwise
// (float32 sums in a different order; XNNPACK accumulates in blocks).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { channelShares } from '../../src-main/engine/wasm-kernels/conv2d-backprop-filter';
import { registerWasmTrainingKernels, wasmTrainingKernelNames } from '../../src-main/engine/wasm-kernels/index';
import {
  fusedMultiplyAdd,
  relaxedSimdAvailable,
  setFusedMultiplyAdd,
  simdInstance,
} from '../../src-main/engine/wasm-kernels/simd-module';
import { stockKernel } from '../../src-main/engine/wasm-kernels/wasm-util';

type Backend = 'cpu' | 'wasm';
const TOL = 1e-4;

/** Deterministic data: uniform in [-1, 1), or small integers when `ties` (to force equal maxima). */
function data(n: number, seed: number, ties = false): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const u = (s >>> 0) / 4294967296;
    out[i] = ties ? Math.floor(u * 4) - 2 : u * 2 - 1;
  }
  return out;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function randT(shape: number[], seed: number, ties = false): tf.Tensor {
  return tf.tensor(data(size(shape), seed, ties), shape);
}

/** Runs `f` on a backend and returns its outputs as plain arrays (all tensors disposed). */
async function on(
  backend: Backend,
  f: () => tf.Tensor | tf.Tensor[],
): Promise<Array<{ shape: number[]; v: Float32Array }>> {
  await tf.setBackend(backend);
  const outs = tf.tidy(f);
  const list = Array.isArray(outs) ? outs : [outs];
  const res = list.map((t) => ({ shape: t.shape, v: Float32Array.from(t.dataSync()) }));
  tf.dispose(list);
  return res;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function maxErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function expectSame(f: () => tf.Tensor | tf.Tensor[], tol = TOL, cpuF = f): Promise<void> {
  const ref = await on('cpu', cpuF);
  const got = await on('wasm', f);
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    expect(got[i].shape, `output ${i} shape`).toEqual(ref[i].shape);
    const err = maxErr(got[i].v, ref[i].v);
    const scale = Math.max(1, maxAbs(ref[i].v));
    expect(err, `output ${i}: max err ${err}, scale ${scale}`).toBeLessThanOrEqual(tol * scale);
  }
}

const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  x: [number, number, number, number];
  f: [number, number, number, number];
  s: [number, number];
  pad: Pad;
}
const convCases: ConvCase[] = [
  { x: [2, 7, 7, 3], f: [3, 3, 3, 4], s: [1, 1], pad: 'same' },
  { x: [2, 7, 7, 3], f: [3, 3, 3, 4], s: [1, 1], pad: 'valid' },
  { x: [3, 9, 8, 2], f: [3, 3, 2, 5], s: [2, 2], pad: 'same' },
  { x: [3, 9, 8, 2], f: [3, 3, 2, 5], s: [2, 2], pad: 'valid' },
  { x: [2, 12, 11, 4], f: [3, 2, 4, 3], s: [2, 3], pad: 'valid' }, // trailing rows/cols dropped
  { x: [2, 10, 10, 3], f: [4, 4, 3, 2], s: [3, 3], pad: 'same' }, // even filter, asymmetric pad
  {
    x: [2, 6, 5, 2],
    f: [3, 3, 2, 3],
    s: [1, 2],
    pad: [
      [0, 0],
      [2, 1],
      [0, 3],
      [0, 0],
    ],
  },
  { x: [4, 5, 5, 1], f: [5, 5, 1, 6], s: [1, 1], pad: 'valid' }, // single channel, 1x1 output
  // Large enough for Conv2DBackpropFilter to split the output rows into several chunks.
  { x: [64, 20, 20, 2], f: [3, 3, 2, 3], s: [1, 1], pad: 'same' },
  { x: [128, 21, 20, 2], f: [3, 3, 2, 3], s: [2, 2], pad: 'valid' },
  { x: [96, 17, 15, 3], f: [3, 3, 3, 2], s: [2, 1], pad: 'same' },
  // The filter gradient's three paths. Channels a multiple of 4: short GEMMs over SIMD-copied
  // patches, here with 25 full position chunks, a last chunk whose length is not a multiple
  // of 4 (the transpose's JavaScript tail), a single odd-sized chunk, explicit padding.
  { x: [64, 20, 20, 4], f: [3, 3, 4, 3], s: [1, 1], pad: 'same' },
  { x: [51, 10, 9, 4], f: [3, 3, 4, 5], s: [1, 1], pad: 'same' },
  { x: [3, 9, 9, 8], f: [3, 3, 8, 6], s: [2, 2], pad: 'same' },
  {
    x: [2, 6, 5, 4],
    f: [3, 3, 4, 3],
    s: [1, 2],
    pad: [
      [0, 0],
      [2, 1],
      [0, 3],
      [0, 0],
    ],
  },
  // Strides larger than the filter: some phases of Conv2DBackpropInput's split have no taps.
  { x: [2, 7, 6, 4], f: [1, 1, 4, 3], s: [2, 2], pad: 'same' },
  { x: [2, 10, 9, 4], f: [2, 2, 4, 3], s: [3, 3], pad: 'valid' },
  // Channels a multiple of 4 and filters a multiple of 8: the SIMD routine reading x and dy
  // in place, here with 5 row chunks, two channel and two filter blocks, strides, explicit
  // padding, a stride larger than the filter, and a filter column that no output reaches.
  { x: [32, 20, 20, 8], f: [3, 3, 8, 16], s: [1, 1], pad: 'same' },
  { x: [3, 9, 9, 4], f: [3, 3, 4, 8], s: [2, 2], pad: 'same' },
  { x: [5, 11, 10, 12], f: [3, 3, 12, 24], s: [2, 1], pad: 'valid' },
  {
    x: [2, 6, 5, 4],
    f: [3, 3, 4, 8],
    s: [1, 2],
    pad: [
      [0, 0],
      [2, 1],
      [0, 3],
      [0, 0],
    ],
  },
  { x: [2, 10, 9, 8], f: [2, 2, 8, 8], s: [3, 3], pad: 'valid' },
  {
    x: [2, 4, 2, 4],
    f: [1, 5, 4, 8],
    s: [1, 2],
    pad: [
      [0, 0],
      [0, 0],
      [3, 3],
      [0, 0],
    ],
  },
  // The same routine on first layers: 1 or 3 channels, padded to 4.
  { x: [8, 12, 12, 3], f: [3, 3, 3, 8], s: [1, 1], pad: 'same' },
  { x: [4, 9, 9, 1], f: [3, 3, 1, 16], s: [2, 2], pad: 'valid' },
  // Other channel counts: up to 32 taps a GEMM over transposed patches (the cases above);
  // beyond, the convolution form, here with several row chunks.
  { x: [96, 17, 15, 5], f: [3, 3, 5, 2], s: [2, 1], pad: 'valid' },
];
const label = (c: ConvCase): string => `x${c.x.join('x')} f${c.f.join('x')} s${c.s.join(',')} ${JSON.stringify(c.pad)}`;

function convOutShape(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad).outShape;
}

describe('wasm training kernels vs cpu', () => {
  beforeAll(async () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels(); // idempotent
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('compiles the SIMD routines for both builds and both flavours (else every kernel silently takes its slow path)', () => {
    // Node 20's V8 has relaxed SIMD behind a flag that relaxedSimdAvailable() turns on.
    expect(relaxedSimdAvailable()).toBe(true);
    expect(fusedMultiplyAdd()).toBe(process.env.OWNERSHIP_AUDIT_FMA !== '0');
    const memories = [
      new WebAssembly.Memory({ initial: 1 }),
      new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }),
    ];
    for (const [memory, fused] of memories.flatMap((m) => [true, false].map((f) => [m, f] as const))) {
      const simd = simdInstance(memory, fused);
      expect(simd, `shared ${memory.buffer instanceof SharedArrayBuffer}, fused ${fused}`).not.toBeNull();
      expect(simd!.fused).toBe(fused);
      expect(Object.keys(simd!.routines).sort()).toEqual(
        [
          'affine2',
          'columnDots',
          'columnSums',
          'convTiles',
          'copyBlocks',
          'filterGrad',
          'maxPoolGrad2x2',
          'multiply',
          'padImages',
          'relu',
          'reluGrad',
          'scaleShift',
          'sign',
          'step',
          'transpose',
        ].sort(),
      );
    }
  });

  it("splits the filter gradient's register tiles into disjoint shares covering every tile", () => {
    // [cb0, cb1, ob0, ob1) in blocks of 4 input and 8 output channels.
    expect(channelShares(8, 8, 1)).toEqual([[0, 8, 0, 8]]);
    expect(channelShares(8, 8, 2)).toEqual([
      [0, 8, 0, 4],
      [0, 8, 4, 8],
    ]);
    expect(channelShares(4, 3, 2)).toEqual([
      [0, 4, 0, 1],
      [0, 4, 1, 3],
    ]);
    // One output block: split by input blocks; never more shares than blocks.
    expect(channelShares(6, 1, 4)).toEqual([
      [0, 1, 0, 1],
      [1, 3, 0, 1],
      [3, 4, 0, 1],
      [4, 6, 0, 1],
    ]);
    expect(channelShares(1, 1, 2)).toEqual([[0, 1, 0, 1]]);
  });

  it('registers every kernel for the wasm backend', () => {
    for (const name of wasmTrainingKernelNames) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  // The forward convolution's direct routine (conv2d.ts): from 1,024 output positions, output
  // channels a multiple of 8; a position count not a multiple of 4 (a last tile with fewer
  // lanes), first-layer channel counts, strides, 'valid' with dropped columns, explicit pads.
  const forwardCases: ConvCase[] = [
    { x: [16, 12, 12, 3], f: [3, 3, 3, 8], s: [1, 1], pad: 'same' },
    { x: [9, 15, 13, 4], f: [3, 3, 4, 16], s: [1, 1], pad: 'valid' },
    { x: [20, 17, 16, 8], f: [3, 3, 8, 8], s: [2, 2], pad: 'same' },
    { x: [80, 11, 10, 5], f: [2, 3, 5, 16], s: [2, 3], pad: 'valid' },
    { x: [64, 8, 8, 16], f: [1, 1, 16, 24], s: [2, 2], pad: 'same' },
    {
      x: [30, 9, 9, 4],
      f: [3, 3, 4, 8],
      s: [1, 1],
      pad: [
        [0, 0],
        [2, 0],
        [1, 3],
        [0, 0],
      ],
    },
  ];
  it.each(forwardCases.map((c) => [label(c), c] as const))('Conv2D and FusedConv2D %s', async (_name, c) => {
    await expectSame(() => {
      const x = randT(c.x, 81);
      const f = randT(c.f, 82);
      const bias = randT([c.f[3]], 83);
      const conv = (activation?: 'relu' | 'linear', b?: tf.Tensor) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: f as tf.Tensor4D,
          strides: c.s,
          pad: c.pad,
          bias: b,
          activation,
        });
      return [
        tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad),
        conv('relu', bias),
        conv('linear', bias),
        conv('relu'),
      ];
    });
  });

  it("gives XNNPACK's own bits on zoo layers in the plain flavour (the same sums in the same order); the fused one differs only by rounding", async () => {
    await tf.setBackend('wasm');
    const fusedBefore = fusedMultiplyAdd();
    const backend = tf.backend() as never;
    const info = (t: tf.Tensor) => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }) as never;
    for (const [xs, fs, strides] of [
      [[128, 8, 8, 64], [3, 3, 64, 64], 1],
      [[128, 16, 16, 32], [3, 3, 32, 64], 2],
      [[128, 12, 12, 3], [3, 3, 3, 16], 1],
    ] as Array<[number[], number[], number]>) {
      tf.tidy(() => {
        const x = randT(xs, 84);
        const f = randT(fs, 85);
        const bias = randT([fs[3]], 86);
        const attrs = { strides, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'relu' };
        const conv = (fused: boolean) => {
          setFusedMultiplyAdd(fused);
          const y = tf.fused.conv2d({
            x: x as tf.Tensor4D,
            filter: f as tf.Tensor4D,
            strides,
            pad: 'same',
            bias,
            activation: 'relu',
          });
          setFusedMultiplyAdd(false);
          return y;
        };
        const ours = conv(false);
        const stock = stockKernel('FusedConv2D')({
          inputs: { x: info(x), filter: info(f), bias: info(bias) },
          backend,
          attrs: attrs as never,
        });
        const theirs = tf.engine().makeTensorFromTensorInfo(stock as never);
        expect(Array.from(ours.dataSync()), xs.join('x')).toEqual(Array.from(theirs.dataSync()));
        // The fused flavour: one rounding per multiply-add where the CPU has FMA (every
        // x86-64 since 2013, every arm64), so some bits differ, and only by rounding.
        const fusedOut = conv(true);
        const [a, b] = [fusedOut, theirs].map((t) => t.dataSync() as Float32Array);
        expect(
          a.some((v, i) => v !== b[i]),
          `fused ${xs.join('x')}`,
        ).toBe(true);
        expect(maxErr(a, b) / maxAbs(b), `fused ${xs.join('x')}`).toBeLessThan(1e-5);
      });
    }
    setFusedMultiplyAdd(fusedBefore);
  });

  it("gives an example's convolution the same bits alone as in a batch of 130, in both flavours", async () => {
    await tf.setBackend('wasm');
    const fusedBefore = fusedMultiplyAdd();
    for (const fused of [true, false]) {
      setFusedMultiplyAdd(fused);
      tf.tidy(() => {
        const x = randT([130, 8, 8, 4], 87);
        const f = randT([3, 3, 4, 16], 88);
        const batch = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same');
        for (const i of [0, 77, 129]) {
          const alone = tf.conv2d(tf.slice(x, [i], [1]) as tf.Tensor4D, f as tf.Tensor4D, 1, 'same');
          expect(Array.from(alone.dataSync()), `fused ${fused}, example ${i}`).toEqual(
            Array.from(tf.slice(batch, [i], [1]).dataSync()),
          );
        }
      });
    }
    setFusedMultiplyAdd(fusedBefore);
  });

  it.each(convCases.map((c) => [label(c), c] as const))('Conv2DBackpropFilter %s', async (_name, c) => {
    const dyShape = convOutShape(c);
    await expectSame(() =>
      run(
        'Conv2DBackpropFilter',
        { x: randT(c.x, 1), dy: randT(dyShape, 2) },
        {
          strides: c.s,
          pad: c.pad,
          dataFormat: 'NHWC',
          filterShape: c.f,
        },
      ),
    );
  });

  it.each(convCases.map((c) => [label(c), c] as const))('Conv2DBackpropInput %s', async (_name, c) => {
    const dyShape = convOutShape(c);
    await expectSame(() =>
      run(
        'Conv2DBackpropInput',
        { dy: randT(dyShape, 3), filter: randT(c.f, 4) },
        {
          strides: c.s,
          pad: c.pad,
          dataFormat: 'NHWC',
          inputShape: c.x,
        },
      ),
    );
  });

  const poolCases: Array<{
    x: [number, number, number, number];
    k: [number, number];
    s: [number, number];
    pad: 'same' | 'valid';
  }> = [
    { x: [2, 8, 8, 3], k: [2, 2], s: [2, 2], pad: 'valid' },
    { x: [2, 7, 9, 3], k: [2, 2], s: [2, 2], pad: 'same' }, // size not a multiple of the stride
    { x: [2, 7, 9, 3], k: [2, 2], s: [2, 2], pad: 'valid' },
    { x: [3, 9, 7, 2], k: [3, 3], s: [2, 2], pad: 'same' }, // overlapping windows
    { x: [1, 6, 5, 4], k: [3, 2], s: [1, 1], pad: 'same' },
    { x: [2, 11, 10, 5], k: [3, 3], s: [3, 2], pad: 'valid' },
    // 2x2 stride 2 over a multiple of 4 channels: the SIMD routine (simd-module.ts), alone
    // where full windows tile the input, beside the JavaScript path at partial edge windows,
    // and with rows and columns no window reads (their gradient must be 0).
    { x: [2, 8, 8, 8], k: [2, 2], s: [2, 2], pad: 'valid' },
    { x: [2, 7, 9, 8], k: [2, 2], s: [2, 2], pad: 'same' },
    { x: [2, 7, 9, 4], k: [2, 2], s: [2, 2], pad: 'valid' },
  ];

  it.each(poolCases)('MaxPoolGrad k$k s$s $pad x$x', async (c) => {
    for (const ties of [false, true]) {
      await expectSame(() => {
        const x = randT(c.x, 5, ties);
        const y = tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad);
        return run(
          'MaxPoolGrad',
          { dy: randT(y.shape, 6), input: x, output: y },
          { filterSize: c.k, strides: c.s, pad: c.pad },
        );
      });
    }
  });

  it('MaxPoolGrad 2x2 on the SIMD path: NaN never wins, a window of only -Infinity/NaN gets nothing', async () => {
    const values = [
      // per window (2x2) and channel: [top-left, top-right, bottom-left, bottom-right]
      [NaN, 1, 2, 2],
      [-Infinity, -Infinity, -Infinity, -Infinity],
      [NaN, NaN, NaN, NaN],
      [3, NaN, 3, -1],
    ];
    // x [1, 2, 2, 4]: channel c holds window c's values.
    const x = new Float32Array(16);
    values.forEach((w, c) => w.forEach((v, k) => (x[k * 4 + c] = v)));
    const f = () => {
      const xt = tf.tensor4d(x, [1, 2, 2, 4]);
      return run(
        'MaxPoolGrad',
        { dy: tf.tensor4d([10, 20, 30, 40], [1, 1, 1, 4]), input: xt, output: tf.maxPool(xt, 2, 2, 'valid') },
        { filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
      );
    };
    const [ref] = await on('cpu', f);
    const [got] = await on('wasm', f);
    expect(Array.from(got.v)).toEqual(Array.from(ref.v));
    // channel 0: first 2 (bottom-left); 1 and 2: nothing; 3: first 3 (top-left)
    expect(Array.from(got.v)).toEqual([0, 0, 0, 40, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0]);
  });

  it.each([[[2, 3, 5, 7]], [[4, 8]], [[3]]])(
    'Sign %j (the SIMD routine, and the JS tail for size %% 4)',
    async (shape) => {
      await expectSame(() => tf.sign(tf.concat([randT(shape, 9, true).flatten(), randT(shape, 10).flatten()])), 0);
    },
  );

  it('Sign of 0, -0, NaN, infinities and subnormals equals the cpu backend', async () => {
    const values = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 3.5, -2, 1e-38, -1e38, 0];
    const f = () => tf.sign(tf.tensor1d(values));
    const [ref] = await on('cpu', f);
    const [got] = await on('wasm', f);
    // Compared as strings so that NaN equals NaN and 0 equals -0 only if both give the same.
    expect(Array.from(got.v, String)).toEqual(Array.from(ref.v, String));
  });

  it('Step of 0, -0, NaN, infinities and subnormals equals the cpu backend, with and without alpha', async () => {
    const values = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 3.5, -2, 1e-38, -1e38, 0, 7];
    for (const alpha of [0, 0.25]) {
      const f = () => tf.step(tf.tensor1d(values), alpha);
      const [ref] = await on('cpu', f);
      const [got] = await on('wasm', f);
      expect(Array.from(got.v, String), `alpha ${alpha}`).toEqual(Array.from(ref.v, String));
    }
    await expectSame(() => tf.step(randT([7, 33, 33, 5], 71))); // large and odd: SIMD and a tail
  });

  it("ReLU's gradient in one pass equals the cpu backend's dy * step(x), NaN, zeros and infinities included", async () => {
    const xs = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 3.5, -2, 1e-38, -1e38, 0, 7];
    const dys = [Infinity, -3, 2, NaN, Infinity, -1, 5, -0.5, 4, 1e-30, Infinity, -Infinity, 0];
    const grad = (x: tf.Tensor, dy: tf.Tensor) => tf.grad((t: tf.Tensor) => tf.relu(t))(x, dy);
    const f = () => grad(tf.tensor1d(xs), tf.tensor1d(dys));
    const [ref] = await on('cpu', f);
    const [got] = await on('wasm', f);
    expect(Array.from(got.v, String)).toEqual(Array.from(ref.v, String));
    // Large and odd-sized: the SIMD routine, then a tail.
    await expectSame(() => grad(randT([7, 33, 33, 5], 72), randT([7, 33, 33, 5], 73)));
    expect(tf.getKernel('ReluGradient', 'wasm')).toBeDefined();
  });

  it('Relu of 0, -0, NaN, infinities and subnormals equals the cpu backend (the SIMD routine and its tail)', async () => {
    const values = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 3.5, -2, 1e-38, -1e38, 0, 7];
    // Repeated past the size where the routine runs (and shifted, so every value meets every lane).
    const long = Array.from({ length: 40001 }, (_, i) => values[i % values.length]);
    for (const list of [values, long]) {
      const f = () => tf.relu(tf.tensor1d(list));
      const [ref] = await on('cpu', f);
      const [got] = await on('wasm', f);
      expect(Array.from(got.v, String)).toEqual(Array.from(ref.v, String));
    }
    await expectSame(() => tf.relu(randT([7, 33, 33, 5], 74)), 0);
  });

  it.each(poolCases)('AvgPoolGrad k$k s$s $pad x$x', async (c) => {
    await expectSame(() => {
      const x = randT(c.x, 7);
      const y = tf.avgPool(x as tf.Tensor4D, c.k, c.s, c.pad);
      return run('AvgPoolGrad', { dy: randT(y.shape, 8), input: x }, { filterSize: c.k, strides: c.s, pad: c.pad });
    });
  });

  const dwCases: Array<{
    x: [number, number, number, number];
    f: [number, number, number, number];
    s: number;
    d: number;
    pad: 'same' | 'valid';
  }> = [
    { x: [2, 7, 7, 3], f: [3, 3, 3, 1], s: 1, d: 1, pad: 'same' },
    { x: [2, 9, 8, 3], f: [3, 3, 3, 2], s: 2, d: 1, pad: 'same' },
    { x: [3, 9, 8, 2], f: [3, 2, 2, 3], s: 2, d: 1, pad: 'valid' },
    { x: [2, 9, 9, 4], f: [3, 3, 4, 1], s: 1, d: 2, pad: 'same' },
    { x: [2, 9, 9, 2], f: [2, 3, 2, 2], s: 1, d: 2, pad: 'valid' },
  ];

  it.each(dwCases)('DepthwiseConv2dNativeBackpropFilter/Input f$f s$s d$d $pad', async (c) => {
    const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, c.d, c.pad, undefined, true).outShape;
    const attrs = { strides: c.s, dilations: c.d, pad: c.pad };
    const wasmF = (): tf.Tensor[] => [
      run(
        'DepthwiseConv2dNativeBackpropFilter',
        { x: randT(c.x, 9), dy: randT(outShape, 10) },
        { ...attrs, filterShape: c.f },
      ),
      run(
        'DepthwiseConv2dNativeBackpropInput',
        { dy: randT(outShape, 11), filter: randT(c.f, 12) },
        { ...attrs, inputShape: c.x },
      ),
    ];
    // The cpu kernels ignore dilations (tfjs only differentiates dilation 1), so the dilated
    // cases are checked against the equivalent dilation-1 problem with a zero-dilated filter.
    const d = c.d;
    const fd: [number, number, number, number] = [(c.f[0] - 1) * d + 1, (c.f[1] - 1) * d + 1, c.f[2], c.f[3]];
    const taps = (t: tf.Tensor): tf.Tensor => tf.stridedSlice(t, [0, 0, 0, 0], fd, [d, d, 1, 1]);
    const dilateFilter = (t: tf.Tensor): tf.Tensor => {
      const buf = tf.buffer(fd);
      const v = t.arraySync() as number[][][][];
      for (let i = 0; i < c.f[0]; i++)
        for (let j = 0; j < c.f[1]; j++)
          for (let k = 0; k < c.f[2]; k++) for (let m = 0; m < c.f[3]; m++) buf.set(v[i][j][k][m], i * d, j * d, k, m);
      return buf.toTensor();
    };
    const cpuF = (): tf.Tensor[] => {
      const a1 = { strides: c.s, dilations: 1, pad: c.pad };
      return [
        taps(
          run(
            'DepthwiseConv2dNativeBackpropFilter',
            { x: randT(c.x, 9), dy: randT(outShape, 10) },
            { ...a1, filterShape: fd },
          ),
        ),
        run(
          'DepthwiseConv2dNativeBackpropInput',
          { dy: randT(outShape, 11), filter: dilateFilter(randT(c.f, 12)) },
          { ...a1, inputShape: c.x },
        ),
      ];
    };
    await expectSame(wasmF, TOL, d === 1 ? wasmF : cpuF);
  });

  it('BatchMatMul with transposed operands', async () => {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      await expectSame(() => {
        const a = randT(ta ? [37, 13] : [13, 37], 13);
        const b = randT(tb ? [9, 37] : [37, 9], 14);
        const a3 = randT(ta ? [1, 37, 13] : [1, 13, 37], 15);
        const b3 = randT(tb ? [1, 9, 37] : [1, 37, 9], 16);
        const ab = randT(ta ? [3, 37, 13] : [3, 13, 37], 17);
        const bb = randT(tb ? [3, 9, 37] : [3, 37, 9], 18);
        // Wide right operand: computed as (B·Aᵀ)ᵀ, with a transpose of the result.
        const aw = randT(ta ? [16, 8] : [8, 16], 19);
        const bw = randT(tb ? [200, 16] : [16, 200], 20);
        // Tall left operand transposed: tiled JS transpose of A (7 columns: not a multiple of 4).
        const at = randT(ta ? [300, 7] : [7, 300], 21);
        const bt = randT(tb ? [5, 300] : [300, 5], 22);
        // Every dimension a multiple of 4: the SIMD transpose, tall and wide.
        const a4 = randT(ta ? [128, 36] : [36, 128], 23);
        const b4 = randT(tb ? [24, 128] : [128, 24], 24);
        // 1,032 result rows and 16 columns: the GEMM as conv2d.ts's direct 1x1 convolution.
        const ag = randT(ta ? [40, 1032] : [1032, 40], 25);
        const bg = randT(tb ? [16, 40] : [40, 16], 26);
        return [
          tf.matMul(a, b, ta, tb),
          tf.matMul(a3, b3, ta, tb),
          tf.matMul(ab, bb, ta, tb),
          tf.matMul(aw, bw, ta, tb),
          tf.matMul(at, bt, ta, tb),
          tf.matMul(a4, b4, ta, tb),
          tf.matMul(ag, bg, ta, tb),
        ];
      });
    }
  });

  it('Tile (broadcast of a channel vector and general reps, float32 and int32)', async () => {
    await expectSame(() => [
      tf.tile(randT([1, 1, 1, 5], 41), [3, 4, 2, 1]),
      tf.tile(randT([2, 3], 42), [3, 2]),
      tf.tile(randT([4], 43), [3]),
      tf.tile(randT([2, 1, 3], 44), [2, 3, 1]),
      tf.tile(randT([2, 3, 1, 2], 45), [1, 2, 3, 2]),
      tf.tile(tf.tensor([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [2, 2]).toFloat(),
    ]);
  });

  it('Sum and Mean over leading axes (and the stock fallbacks)', async () => {
    await expectSame(() => {
      const x = randT([5, 7, 6, 3], 46);
      return [
        tf.sum(x, [0, 1, 2]),
        tf.sum(x, [1, 0], true),
        tf.sum(x, 0),
        tf.mean(x, [0, 1, 2]),
        tf.mean(x, [0, 1, 2], true),
        tf.mean(x, [0]),
        tf.sum(x, [1, 2]), // not leading: stock kernel
        tf.mean(x, -1),
        tf.sum(x), // full reduction: stock kernel
        tf.sum(tf.tensor([1, 2, 3, 4], [2, 2], 'int32'), 0).toFloat(),
      ];
    });
  });

  it('Sum and Mean over leading axes of a multiple of 4 channels (the SIMD column sums)', async () => {
    await expectSame(() => {
      const x = randT([9, 7, 6, 8], 47);
      return [tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1, 2], true), tf.sum(x, 0), tf.mean(x, [0, 1])];
    });
  });

  it('the SIMD column sums add in float64: 2^24 + 1 + 1 stays exact where a float32 sum stops at 2^24', async () => {
    const f = () => tf.sum(tf.tensor2d([16777216, 16777216, 16777216, 16777216, 1, 1, 1, 1, 1, 1, 1, 1], [3, 4]), 0);
    const [got] = await on('wasm', f);
    expect(Array.from(got.v)).toEqual([16777218, 16777218, 16777218, 16777218]);
  });

  it('FusedBatchNorm with vector, scalar and missing parameters', async () => {
    await expectSame(() => {
      const x = randT([3, 5, 4, 6], 51);
      const m = randT([6], 52);
      const v = tf.add(tf.abs(randT([6], 53)), 0.5);
      const o = randT([6], 54);
      const s = randT([6], 55);
      return [
        tf.batchNorm(x, m, v, o, s, 1e-3),
        tf.batchNorm(x, m, v, undefined, undefined, 1e-3),
        tf.batchNorm(
          x,
          tf.reshape(m, [1, 1, 1, 6]),
          tf.reshape(v, [1, 1, 1, 6]),
          tf.fill([1, 1, 1, 6], 0.3),
          tf.reshape(s, [1, 1, 1, 6]),
          1e-5,
        ),
        tf.batchNorm(x, tf.scalar(0.2), tf.scalar(1.5), tf.scalar(0.3), tf.scalar(2), 1e-3),
        tf.batchNorm(randT([7, 6], 56), m, v, o, s, 1e-3),
        tf.batchNorm(x, randT([4, 6], 57), tf.add(tf.abs(randT([4, 6], 58)), 0.5)), // stock path
      ];
    });
  });

  it('FusedBatchNorm on a multiple of 4 channels (the SIMD routine): fround(x * s) + t to the bit', async () => {
    const x = data(64 * 9 * 9 * 8, 81);
    const [m, v, o, g] = [82, 83, 84, 85].map((seed) => data(8, seed));
    const f = () =>
      tf.batchNorm(
        tf.tensor4d(x, [64, 9, 9, 8]),
        tf.tensor1d(m),
        tf.add(tf.abs(tf.tensor1d(v)), 0.5),
        tf.tensor1d(o),
        tf.tensor1d(g),
        1e-3,
      );
    const [got] = await on('wasm', f);
    // The kernel folds the parameters in double precision, then rounds s and t to float32.
    const s = Array.from(m, (_, j) => g[j] / Math.sqrt(Math.fround(Math.abs(v[j]) + 0.5) + 1e-3));
    const t = s.map((sj, j) => Math.fround(o[j] - m[j] * sj));
    const want = Float32Array.from(x, (xi, i) => Math.fround(Math.fround(xi * Math.fround(s[i % 8])) + t[i % 8]));
    expect(got.v).toEqual(want);
    await expectSame(f);
  });

  it('Multiply/Add/Sub with per-channel broadcasts (and the stock fallbacks)', async () => {
    await expectSame(() => {
      const x = randT([4, 32, 32, 6], 61); // above the size where the XNNPACK path kicks in
      const v = randT([6], 62);
      const v4 = randT([1, 1, 1, 6], 63);
      const outs: tf.Tensor[] = [];
      for (const [p, q] of [
        [x, v],
        [v, x],
        [x, v4],
        [v4, x],
        [x, tf.scalar(1.5)],
        [tf.scalar(-2), x],
        [x, randT([4, 32, 32, 6], 64)], // equal shapes: stock
        [randT([4, 32, 32, 8], 75), randT([8], 76)], // channels a multiple of 4: the SIMD routine
        [randT([1, 1, 8], 77), randT([4, 32, 32, 8], 78)],
        [randT([5, 37, 37, 11], 69), randT([5, 37, 37, 11], 70)], // large equal shapes: SIMD, odd size
        [randT([3, 5, 4, 6], 68), v], // small: stock
        [x, randT([32, 6], 65)], // other broadcast: stock
        [randT([2, 6], 66), randT([3, 1, 6], 67)], // vector rank > full rank: stock
      ] as Array<[tf.Tensor, tf.Tensor]>) {
        outs.push(tf.mul(p, q), tf.add(p, q), tf.sub(p, q));
      }
      outs.push(tf.mul(tf.tensor([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor([2, 3], [2], 'int32')).toFloat());
      return outs;
    });
  });

  it('gradients of a small conv net match cpu through tf.grads', async () => {
    const x = data(3 * 9 * 9 * 2, 21);
    const w1 = data(3 * 3 * 2 * 4, 22);
    const w2 = data(3 * 3 * 4 * 5, 23);
    const dw = data(3, 24);
    const wd = data(4 * 4 * 5 * 3, 25);
    await expectSame(() => {
      const f = (...xs: tf.Tensor[]): tf.Scalar => {
        const [xi, k1, k2, kd, d] = xs;
        let h = tf.relu(tf.conv2d(xi as tf.Tensor4D, k1 as tf.Tensor4D, 1, 'same'));
        h = tf.maxPool(h, 2, 2, 'same'); // 9 -> 5, edge windows partial
        h = tf.avgPool(h, 2, 1, 'same'); // 5 -> 5
        h = tf.conv2d(h, k2 as tf.Tensor4D, 1, 'valid'); // 5 -> 3
        h = tf.conv2d(h, tf.ones([2, 2, 5, 5]) as tf.Tensor4D, 2, 'same'); // 3 -> 2, stride 2
        h = tf.depthwiseConv2d(h, tf.reshape(d, [1, 3, 1, 1]).tile([1, 1, 5, 1]) as tf.Tensor4D, 1, 'same');
        const flat = tf.reshape(h, [3, 2 * 2 * 5]);
        const logits = tf.matMul(flat, tf.reshape(kd, [20, 12]).slice([0, 0], [20, 3]));
        return tf.sum(tf.square(logits)) as tf.Scalar;
      };
      return tf.grads(f)([
        tf.tensor4d(x, [3, 9, 9, 2]),
        tf.tensor4d(w1, [3, 3, 2, 4]),
        tf.tensor4d(w2, [3, 3, 4, 5]),
        tf.tensor(wd, [4, 4, 5, 3]),
        tf.tensor(dw, [3]),
      ]);
    });
  });

  it('does not leak tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const x = randT([2, 9, 9, 3], 31);
    const w = randT([3, 3, 3, 4], 32);
    const d = randT([3, 3, 3, 2], 33);
    const step = (): void => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
        const h = tf.maxPool(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), 2, 2, 'same');
        const k = tf.depthwiseConv2d(a as tf.Tensor4D, c as tf.Tensor4D, 1, 'valid');
        return tf.add(
          tf.sum(tf.matMul(tf.reshape(h, [2, -1]), tf.reshape(h, [2, -1]), false, true)),
          tf.sum(k),
        ) as tf.Scalar;
      })([x, w, d]);
      tf.dispose(g);
    };
    step();
    const before = tf.memory();
    for (let i = 0; i < 5; i++) step();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([x, w, d]);
  });
});
