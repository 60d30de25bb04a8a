// Conv2DBackpropFilter for the wasm backend (stock tfjs-backend-wasm 4.22 has none).
//
// Why: without it a conv net cannot train on wasm at all, and a scalar loop would be ~20x
// slower than the forward pass. The filter gradient is itself a convolution, so we hand it
// to the backend's XNNPACK Conv2D.
//
// How: dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co].
// Read ci as the batch and n as the channel dimension:
//   x'  = transpose(x,  [3,1,2,0])  -> [Ci, H, W, N]      (conv input)
//   dy' = transpose(dy, [1,2,0,3])  -> [OH, OW, N, Co]    (conv filter)
//   r   = conv2d(x', dy', stride 1, dilation = original stride, explicit pads (pt, pb', pl, pr'))
//       -> [Ci, KH', KW', Co], and dW = transpose(r[:, :KH, :KW, :], [1,2,0,3]).
// pb' is chosen so that KH' == KH; when the forward conv dropped trailing input rows (valid
// padding with a size not fitting the stride) pb' would be negative, so it is clamped to 0
// and the extra output rows are sliced off. Only dilation 1 is supported, like the op itself.
import { backend_util } from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { asBackend, free, input, markOwn, runKernel, type KernelArgs } from './wasm-util';

function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const dy = input(args, 'dy');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    args.attrs as unknown as Conv2DBackpropFilterAttrs;
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
  const { inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const pb = Math.max(0, kh + (oh - 1) * sh - h - pt);
  const pr = Math.max(0, kw + (ow - 1) * sw - w - pl);

  const xT = runKernel(backend, 'Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyT = runKernel(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const r = runKernel(
    backend,
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [pt, pb],
        [pl, pr],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [sh, sw],
    },
  );
  free(backend, xT, dyT);

  let src = r;
  if (r.shape[1] !== kh || r.shape[2] !== kw) {
    src = runKernel(backend, 'Slice', { x: r }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] });
    free(backend, r);
  }
  const out = runKernel(backend, 'Transpose', { x: src }, { perm: [1, 2, 0, 3] });
  free(backend, src);
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: markOwn(conv2DBackpropFilter as unknown as KernelConfig['kernelFunc']),
};
