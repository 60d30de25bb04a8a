// Per-channel affine map y = x * scale[c] + shift[c] on the wasm backend.
//
// Why: BatchNorm (inference and the training forward) and the channel-broadcast multiply/add
// of BatchNorm gradients are per-channel affine maps over an NHWC tensor. The stock C++
// BatchNorm computes a broadcast index per element (~14 ms for a 128x32x32x32 tensor), while
// a channel-wise multiply-add runs at memory speed (~1-3 ms).
//
// How: with channels a multiple of 4 and the SIMD routines, the routine scaleShift
// (simd-module.ts) over row ranges split across the engine's threads (XNNPACK's pool stays
// at one thread, see wasm-threads.ts). Otherwise XNNPACK's channel-wise multiply-add: x
// viewed as [1, 1, R, C] (R = size / C), a [1,1,C,1] filter holding `scale` and a [C] bias
// holding `shift`, through the backend's own FusedDepthwiseConv2D; the filter/bias are fresh
// tensors each call and are freed immediately, which also drops the XNNPACK operator cached
// on them. Both compute the float32 product, then the float32 sum.
import type { TensorInfo } from '@tensorflow/tfjs';
import { wasmThreads } from '../wasm-threads';
import { backendSimdInstance } from './simd-module';
import { runShares, splitRanges } from './simd-pool';
import { free, heapF32, heapOffset, runKernel, sizeOf, view, type BackendWasm } from './wasm-util';

/** Channels of a per-channel parameter broadcast against the last axis: C, 1, or -1 if not. */
export function channelParamSize(param: TensorInfo, c: number): number {
  const n = sizeOf(param.shape);
  if (n === 1) return 1;
  const s = param.shape;
  for (let i = 0; i < s.length - 1; i++) if (s[i] !== 1) return -1;
  return s.length > 0 && s[s.length - 1] === c ? c : -1;
}

export function channelAffine(
  backend: BackendWasm,
  x: TensorInfo,
  scale: Float32Array | Float64Array,
  shift: Float32Array | Float64Array | null,
): TensorInfo {
  const c = x.shape[x.shape.length - 1];
  const r = sizeOf(x.shape) / c;
  const simd = backendSimdInstance(backend);
  if (simd && c % 4 === 0 && r > 0) {
    const params = backend.makeOutput([2, c], 'float32');
    const pv = heapF32(backend, params);
    pv.set(scale);
    if (shift !== null) pv.set(shift, c);
    else pv.fill(0, c);
    const out = backend.makeOutput([...x.shape], 'float32');
    const [xAt, paramsAt, outAt] = [x, params, out].map((t) => heapOffset(backend, t));
    const rowBytes = 4 * c;
    // Rows per share: at least ~32K elements, or waking a helper costs more than it saves.
    const shares = splitRanges(r, Math.min(wasmThreads(), Math.ceil((r * c) / 32768))).map(([r0, r1]) => [
      xAt + r0 * rowBytes,
      r1 - r0,
      rowBytes,
      paramsAt,
      outAt + r0 * rowBytes,
    ]);
    runShares(simd, 'scaleShift', shares);
    free(backend, params);
    return out;
  }
  const filter = backend.makeOutput([1, 1, c, 1], 'float32');
  heapF32(backend, filter).set(scale);
  const inputs: Record<string, TensorInfo> = { x: view(x, [1, 1, r, c]), filter };
  let bias: TensorInfo | null = null;
  if (shift !== null) {
    bias = backend.makeOutput([c], 'float32');
    heapF32(backend, bias).set(shift);
    inputs.bias = bias;
  }
  const out = runKernel(backend, 'FusedDepthwiseConv2D', inputs, {
    strides: [1, 1],
    pad: 'valid',
    dilations: [1, 1],
    dataFormat: 'NHWC',
    activation: 'linear',
  });
  free(backend, filter);
  if (bias !== null) free(backend, bias);
  out.shape = [...x.shape];
  return out;
}

/** Below this many elements the stock broadcasting loop is cheaper than building an operator. */
const MIN_BROADCAST_SIZE = 16384;

/**
 * For a binary op on (a, b): if one operand is a float32 tensor of the full broadcast shape and
 * the other a per-channel vector/scalar along its last axis (of rank <= the full rank), returns
 * them with the vector's values; otherwise null (the caller uses the stock kernel).
 */
export function splitChannelOperands(
  backend: BackendWasm,
  a: TensorInfo,
  b: TensorInfo,
): { full: TensorInfo; values: Float64Array; fullIsA: boolean } | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const pick = (full: TensorInfo, vec: TensorInfo, fullIsA: boolean): ReturnType<typeof splitChannelOperands> => {
    const rank = full.shape.length;
    if (rank === 0 || vec.shape.length > rank || sizeOf(full.shape) <= sizeOf(vec.shape)) return null;
    const c = full.shape[rank - 1];
    const n = channelParamSize(vec, c);
    if (n < 0 || sizeOf(full.shape) < MIN_BROADCAST_SIZE) return null;
    const v = heapF32(backend, vec);
    const values = new Float64Array(c);
    for (let i = 0; i < c; i++) values[i] = n === 1 ? v[0] : v[i];
    return { full, values, fullIsA };
  };
  return pick(a, b, true) ?? pick(b, a, false);
}
