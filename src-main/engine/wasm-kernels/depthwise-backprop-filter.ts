// DepthwiseConv2dNativeBackpropFilter for the wasm backend (missing from stock 4.22).
//
// Why: without it a depthwise-separable net (MobileNet-style) cannot train on wasm.
//
// How: a direct loop over Float32Array views of the wasm heap,
//   dW[kh,kw,c,q] = sum_{n,oh,ow} x[n, oh*sh+kh*dh-pt, ow*sw+kw*dw-pl, c] * dy[n,oh,ow,c*M+q],
// iterating (n, oh, ow, kh, kw) outside and channels innermost (contiguous accesses), with a
// Float64 accumulator the size of the filter so long sums keep cpu-backend accuracy.
// Depthwise convs are cheap (no reduction over channels), so this is not a bottleneck.
import { backend_util } from '@tensorflow/tfjs';
import type { DepthwiseConv2dNativeBackpropFilterAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { asBackend, heapF32, input, markOwn, type KernelArgs } from './wasm-util';

function depthwiseBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const dy = input(args, 'dy');
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const m = co / c;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;

  const acc = new Float64Array(kh * kw * co);
  const xv = heapF32(backend, x);
  const dyv = heapF32(backend, dy);
  for (let b = 0; b < nb; b++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++) {
        const dyBase = ((b * oh + r) * ow + q) * co;
        for (let i = 0; i < kh; i++) {
          const xr = r * sh + i * dh - pt;
          if (xr < 0 || xr >= h) continue;
          for (let j = 0; j < kw; j++) {
            const xc = q * sw + j * dw - pl;
            if (xc < 0 || xc >= w) continue;
            const xBase = ((b * h + xr) * w + xc) * c;
            const wBase = (i * kw + j) * co;
            if (m === 1) {
              for (let d = 0; d < c; d++) acc[wBase + d] += xv[xBase + d] * dyv[dyBase + d];
            } else {
              for (let d = 0; d < c; d++) {
                const xd = xv[xBase + d];
                for (let k = 0; k < m; k++) acc[wBase + d * m + k] += xd * dyv[dyBase + d * m + k];
              }
            }
          }
        }
      }
    }
  }
  const out = backend.makeOutput(filterShape, 'float32');
  heapF32(backend, out).set(acc);
  return out;
}

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: markOwn(depthwiseBackpropFilter as unknown as KernelConfig['kernelFunc']),
};
