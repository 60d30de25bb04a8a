// Conv2DBackpropInput for the wasm backend, as a forward XNNPACK convolution.
//
// Why: the stock kernel is a scalar C++ loop, several times slower than the forward conv, and
// it runs once per conv layer per training step.
//
// How: dx[n,i,j,ci] = sum_{kh,kw,co} dy[n,oh,ow,co] * W[kh,kw,ci,co] with i = oh*s + kh - pt,
// a transposed convolution: a stride-1 XNNPACK Conv2D of the zero-dilated dy with
// W'[a,b,co,ci] = W[KH-1-a, KW-1-b, ci, co] (spatially flipped, in/out swapped; built by a JS
// loop, the filter is small), padded so the output is exactly the input shape (see
// transposed-conv.ts). Stride > 1 wastes (s*s - 1)/(s*s) of the multiply-adds on zeros;
// acceptable, the reference models only use stride 1 convolutions.
import { backend_util } from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { transposedConv } from './transposed-conv';
import { asBackend, free, heapF32, input, markOwn, type BackendWasm, type KernelArgs } from './wasm-util';

/** W [KH,KW,Ci,Co] -> W' [KH,KW,Co,Ci], W'[a,b,o,c] = W[KH-1-a, KW-1-b, c, o] (small: a JS loop). */
function flipAndSwap(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const out = backend.makeOutput([kh, kw, co, ci], 'float32');
  const src = heapF32(backend, filter);
  const dst = heapF32(backend, out);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const s0 = ((kh - 1 - a) * kw + (kw - 1 - b)) * ci * co;
      const d0 = (a * kw + b) * co * ci;
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) dst[d0 + o * ci + c] = src[s0 + c * co + o];
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
  const wT = flipAndSwap(backend, filter);
  const dx = transposedConv(backend, 'Conv2D', dy, wT, {
    outShape: info.inShape,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  });
  free(backend, wT);
  return dx;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: markOwn(conv2DBackpropInput as unknown as KernelConfig['kernelFunc']),
};
