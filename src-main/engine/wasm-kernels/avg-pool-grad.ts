// AvgPoolGrad for the wasm backend, as an XNNPACK depthwise convolution.
//
// Why: the stock kernel is a scalar gather loop, 10-15x slower than the forward pool
// (34 ms for 2x2/2 and 98 ms for 3x3/1 'same' on a 128x32x32x32 tensor).
//
// How: dx[i] = sum over the windows containing i of dy[window] / (fh*fw), i.e. the transposed
// convolution of dy with a uniform fh x fw filter per channel: run transposedConv (zero-
// dilation for strides, pads chosen for the exact input size) with the backend's
// DepthwiseConv2dNative and a [fh,fw,C,1] filter of 1/(fh*fw). The divisor is fh*fw even for
// windows that overlap the 'same' padding, exactly like the cpu and stock wasm kernels (tfjs
// semantics; the forward pool divides those windows by the count of valid pixels instead).
import { backend_util } from '@tensorflow/tfjs';
import type { AvgPoolGradAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { transposedConv } from './transposed-conv';
import { asBackend, free, heapF32, input, markOwn, runKernel, type KernelArgs } from './wasm-util';

function avgPoolGrad(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const dy = input(args, 'dy');
  const x = input(args, 'input');
  const { filterSize, strides, pad } = args.attrs as unknown as AvgPoolGradAttrs;
  if (dy.dtype !== 'float32') return runKernel(backend, 'AvgPoolGrad', { dy, input: x }, { filterSize, strides, pad });
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad);
  const { filterHeight: fh, filterWidth: fw, inChannels: c } = info;
  const filter = backend.makeOutput([fh, fw, c, 1], 'float32');
  heapF32(backend, filter).fill(1 / (fh * fw));
  const dx = transposedConv(backend, 'DepthwiseConv2dNative', dy, filter, {
    outShape: x.shape,
    filterHeight: fh,
    filterWidth: fw,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  });
  free(backend, filter);
  return dx;
}

export const avgPoolGradConfig: KernelConfig = {
  kernelName: 'AvgPoolGrad',
  backendName: 'wasm',
  kernelFunc: markOwn(avgPoolGrad as unknown as KernelConfig['kernelFunc']),
};
