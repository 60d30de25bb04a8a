// Transposed ("backward-input") convolution as a stride-1 forward convolution.
//
// Why: Conv2DBackpropInput and AvgPoolGrad are both transposed convolutions of dy, and the
// wasm backend only has fast *forward* convolutions (conv2d.ts's Conv2D, XNNPACK's
// DepthwiseConv2dNative).
//
// How: dx[i] = sum_k dy[(i + pt - k) / s] * w[k] over taps k where the division is exact.
// Zero-dilate dy by the stride (dyd[oh*s] = dy[oh]), then run a forward conv of dyd with the
// spatially flipped filter, stride 1, pads top = K-1-pt and bottom = H+K-1-Hd-top (same for
// columns), which yields exactly the input size H. Pads that would be negative (explicit
// padding larger than the filter) are clamped to 0 and the surplus rows/columns sliced off.
// Stride > 1 spends (s*s-1)/(s*s) of the multiply-adds on the inserted zeros.
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { conv2dForward } from './conv2d';
import { free, heapF32, runKernel, type BackendWasm } from './wasm-util';

/** dy [N,OH,OW,C] -> [N,(OH-1)*sh+1,(OW-1)*sw+1,C] with zeros between the rows/columns. */
export function zeroDilate(backend: BackendWasm, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  const [n, oh, ow, c] = dy.shape;
  const hd = (oh - 1) * sh + 1;
  const wd = (ow - 1) * sw + 1;
  const out = backend.makeOutput([n, hd, wd, c], 'float32');
  const src = heapF32(backend, dy);
  const dst = heapF32(backend, out);
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const srcRow = (b * oh + r) * ow * c;
      const dstRow = (b * hd + r * sh) * wd * c;
      for (let q = 0; q < ow; q++) {
        const s0 = srcRow + q * c;
        dst.set(src.subarray(s0, s0 + c), dstRow + q * sw * c);
      }
    }
  }
  return out;
}

export interface TransposedConvGeometry {
  /** Size [N, H, W, C] of the result (the forward op's input). */
  outShape: number[];
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * Runs the forward wasm kernel `kernel` ('Conv2D' or 'DepthwiseConv2dNative') on the
 * zero-dilated dy with the (already flipped) `filter`, returning a tensor of g.outShape.
 */
export function transposedConv(
  backend: BackendWasm,
  kernel: string,
  dy: TensorInfo,
  filter: TensorInfo,
  g: TransposedConvGeometry,
): TensorInfo {
  const [n, h, w, c] = g.outShape;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = g;
  const dyd = sh > 1 || sw > 1 ? zeroDilate(backend, dy, sh, sw) : dy;
  const top = kh - 1 - g.padTop;
  const left = kw - 1 - g.padLeft;
  const bottom = h + kh - 1 - dyd.shape[1] - top;
  const right = w + kw - 1 - dyd.shape[2] - left;
  const topC = Math.max(0, top);
  const leftC = Math.max(0, left);
  const attrs: NamedAttrMap = {
    strides: [1, 1],
    pad: [
      [0, 0],
      [topC, Math.max(0, bottom)],
      [leftC, Math.max(0, right)],
      [0, 0],
    ],
    dataFormat: 'NHWC',
    dilations: [1, 1],
  };
  const r =
    kernel === 'Conv2D'
      ? conv2dForward(backend, dyd, filter, attrs as unknown as Parameters<typeof conv2dForward>[3])
      : runKernel(backend, kernel, { x: dyd, filter }, attrs);
  if (dyd !== dy) free(backend, dyd);
  if (r.shape[1] === h && r.shape[2] === w && topC === top && leftC === left) return r;
  const out = runKernel(backend, 'Slice', { x: r }, { begin: [0, topC - top, leftC - left, 0], size: [n, h, w, c] });
  free(backend, r);
  return out;
}
