// DepthwiseConv2dNativeBackpropInput for the wasm backend (missing from stock 4.22).
//
// Why: without it the gradient cannot flow through a depthwise conv on wasm.
//
// How: a gather loop over Float32Array views of the wasm heap: for every input pixel (n,i,j)
// the filter taps (kh,kw) whose output position oh = (i + pt - kh*dh) / sh is an integer in
// range contribute dy[n,oh,ow,c*M+q] * W[kh,kw,c,q] to dx[n,i,j,c]. Channels are innermost
// (contiguous) and each pixel is summed in a Float64 scratch row before being stored, so the
// result matches the cpu backend to float32 rounding.
import { backend_util } from '@tensorflow/tfjs';
import type { DepthwiseConv2dNativeBackpropInputAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { asBackend, heapF32, input, markOwn, type KernelArgs } from './wasm-util';

function depthwiseBackpropInput(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const dy = input(args, 'dy');
  const filter = input(args, 'filter');
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
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

  const dx = backend.makeOutput(inputShape, 'float32');
  const dyv = heapF32(backend, dy);
  const fv = heapF32(backend, filter);
  const dxv = heapF32(backend, dx);
  const acc = new Float64Array(c);
  for (let b = 0; b < nb; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        acc.fill(0);
        for (let a = 0; a < kh; a++) {
          const rs = i + pt - a * dh;
          if (rs < 0 || rs % sh !== 0) continue;
          const r = rs / sh;
          if (r >= oh) continue;
          for (let e = 0; e < kw; e++) {
            const qs = j + pl - e * dw;
            if (qs < 0 || qs % sw !== 0) continue;
            const q = qs / sw;
            if (q >= ow) continue;
            const dyBase = ((b * oh + r) * ow + q) * co;
            const wBase = (a * kw + e) * co;
            if (m === 1) {
              for (let d = 0; d < c; d++) acc[d] += dyv[dyBase + d] * fv[wBase + d];
            } else {
              for (let d = 0; d < c; d++) {
                let s = 0;
                for (let k = 0; k < m; k++) s += dyv[dyBase + d * m + k] * fv[wBase + d * m + k];
                acc[d] += s;
              }
            }
          }
        }
        dxv.set(acc, ((b * h + i) * w + j) * c);
      }
    }
  }
  return dx;
}

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: markOwn(depthwiseBackpropInput as unknown as KernelConfig['kernelFunc']),
};
