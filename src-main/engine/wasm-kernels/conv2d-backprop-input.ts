// Conv2DBackpropInput for the wasm backend, as a forward XNNPACK convolution.
//
// Why: the stock kernel is a scalar C++ loop, several times slower than the forward conv, and
// it runs once per conv layer per training step.
//
// How: dx[n,i,j,ci] = sum_{kh,kw,co} dy[n,oh,ow,co] * W[kh,kw,ci,co] with i = oh*s + kh - pt.
// Zero-dilate dy by the stride (dyd[n, oh*s, ow*s, :] = dy[n, oh, ow, :]), then
//   dx = conv2d(dyd, W', stride 1, pads (KH-1-pt, H+KH-1-Hd-top, KW-1-pl, ...))
// with W'[a,b,co,ci] = W[KH-1-a, KW-1-b, ci, co] (spatially flipped, in/out swapped). The
// bottom/right pads make the output exactly the input shape. A pad that would be negative
// (explicit padding larger than the filter) is clamped to 0 and the surplus is sliced off.
// Stride > 1 wastes (s*s - 1)/(s*s) of the multiply-adds on zeros; acceptable, the
// reference models only use stride 1 convolutions.
import { backend_util } from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { asBackend, free, heapF32, input, markOwn, runKernel, type BackendWasm, type KernelArgs } from './wasm-util';

/** dy [N,OH,OW,C] -> [N,(OH-1)*sh+1,(OW-1)*sw+1,C] with zeros between the rows/columns. */
function zeroDilate(backend: BackendWasm, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  const [n, oh, ow, c] = dy.shape;
  const hd = (oh - 1) * sh + 1;
  const wd = (ow - 1) * sw + 1;
  const out = backend.makeOutput([n, hd, wd, c], 'float32');
  const src = heapF32(backend, dy);
  const dst = heapF32(backend, out);
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const srcRow = ((b * oh + r) * ow) * c;
      const dstRow = ((b * hd + r * sh) * wd) * c;
      for (let q = 0; q < ow; q++) {
        const s0 = srcRow + q * c;
        dst.set(src.subarray(s0, s0 + c), dstRow + q * sw * c);
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
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;

  const dyd = sh > 1 || sw > 1 ? zeroDilate(backend, dy, sh, sw) : dy;
  const hd = dyd.shape[1];
  const wd = dyd.shape[2];
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = h + kh - 1 - hd - top;
  const right = w + kw - 1 - wd - left;
  const topC = Math.max(0, top);
  const leftC = Math.max(0, left);

  const flipped = runKernel(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
  const wT = runKernel(backend, 'Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
  free(backend, flipped);
  const r = runKernel(
    backend,
    'Conv2D',
    { x: dyd, filter: wT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [topC, Math.max(0, bottom)],
        [leftC, Math.max(0, right)],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    },
  );
  free(backend, wT);
  if (dyd !== dy) free(backend, dyd);

  if (r.shape[1] === h && r.shape[2] === w && topC === top && leftC === left) return r;
  const out = runKernel(backend, 'Slice', { x: r }, { begin: [0, topC - top, leftC - left, 0], size: [n, h, w, ci] });
  free(backend, r);
  return out;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: markOwn(conv2DBackpropInput as unknown as KernelConfig['kernelFunc']),
};
