// Tile for the wasm backend, as block copies on the wasm heap.
//
// Why: the tfjs BatchNorm gradient broadcasts 1/sqrt(var) with tile([1,1,1,C] -> [N,H,W,C]);
// the stock C++ kernel computes a source index per element and took ~1 s per VGG training
// step (a third of it). Tiling is pure data movement and should run at memcpy speed.
//
// How: (1) every innermost row of the input is copied reps[last] times to its place in the
// output; (2) from the second-innermost axis outwards, the block already written for the
// first copy along that axis is replicated reps[axis]-1 times with copyWithin. Each output
// element is written once, always by contiguous copies. float32/int32 only (bool/string go to
// the stock kernel).
import type { KernelConfig, TensorInfo, TileAttrs } from '@tensorflow/tfjs';
import { asBackend, input, markOwn, runKernel, type KernelArgs } from './wasm-util';

function tile(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const { reps } = args.attrs as unknown as TileAttrs;
  const rank = x.shape.length;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || rank === 0 || reps.length !== rank) {
    return runKernel(backend, 'Tile', { x }, { reps });
  }
  const inShape = x.shape;
  const outShape = inShape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  if (outShape.some((d) => d === 0)) return out;
  const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;

  // Output strides.
  const ostr = new Array<number>(rank);
  ostr[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) ostr[i] = ostr[i + 1] * outShape[i + 1];

  // (1) Innermost rows: for every input index (i0..i_{r-2}) copy the row reps[r-1] times.
  const rowLen = inShape[rank - 1];
  const rowReps = reps[rank - 1];
  const nRows = src.length / rowLen;
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  for (let row = 0; row < nRows; row++) {
    let o = 0;
    for (let i = 0; i < rank - 1; i++) o += idx[i] * ostr[i];
    const s = src.subarray(row * rowLen, (row + 1) * rowLen);
    for (let k = 0; k < rowReps; k++) dst.set(s, o + k * rowLen);
    for (let i = rank - 2; i >= 0; i--) {
      if (++idx[i] < inShape[i]) break;
      idx[i] = 0;
    }
  }

  // (2) Replicate along each outer axis, innermost first.
  for (let axis = rank - 2; axis >= 0; axis--) {
    if (reps[axis] === 1) continue;
    const block = inShape[axis] * ostr[axis]; // first copy along `axis`
    // Iterate over the input-range indices of the axes outside `axis`.
    const outer = new Array<number>(axis).fill(0);
    let nOuter = 1;
    for (let i = 0; i < axis; i++) nOuter *= inShape[i];
    for (let t = 0; t < nOuter; t++) {
      let o = 0;
      for (let i = 0; i < axis; i++) o += outer[i] * ostr[i];
      // Doubling copies: 1 -> 2 -> 4 ... blocks, then the remainder.
      let done = 1;
      while (done < reps[axis]) {
        const n = Math.min(done, reps[axis] - done);
        dst.copyWithin(o + done * block, o, o + n * block);
        done += n;
      }
      for (let i = axis - 1; i >= 0; i--) {
        if (++outer[i] < inShape[i]) break;
        outer[i] = 0;
      }
    }
  }
  return out;
}

export const tileConfig: KernelConfig = {
  kernelName: 'Tile',
  backendName: 'wasm',
  kernelFunc: markOwn(tile as unknown as KernelConfig['kernelFunc']),
};
