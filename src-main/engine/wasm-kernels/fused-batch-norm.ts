// FusedBatchNorm (tf.batchNorm) for the wasm backend, as one XNNPACK channel-wise pass.
//
// Why: the stock kernel took ~13% of VGG-with-BatchNorm inference (a scalar loop with a
// broadcast index per element); see channel-affine.ts.
//
// How: fold the parameters into y = x * s[c] + t[c] with s = scale / sqrt(var + eps) and
// t = offset - mean * s (computed in double precision on C values), then run channelAffine.
// Rounding differs from (x - mean) * s + offset by about 2^-24 * |mean * s|, negligible for
// activations. Parameters that are not per-channel vectors (or scalars) along the last axis,
// and non-float32 inputs, go to the stock kernel.
import type { FusedBatchNormAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { channelAffine, channelParamSize } from './channel-affine';
import { asBackend, heapF32, input, markOwn, runKernel, sizeOf, type KernelArgs } from './wasm-util';

function fusedBatchNorm(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const mean = input(args, 'mean');
  const variance = input(args, 'variance');
  const offset = args.inputs.offset;
  const scale = args.inputs.scale;
  const { varianceEpsilon } = args.attrs as unknown as FusedBatchNormAttrs;
  const params = [mean, variance, offset, scale].filter((t): t is TensorInfo => t != null);
  const c = x.shape.length > 0 ? x.shape[x.shape.length - 1] : 0;
  const ok =
    x.dtype === 'float32' &&
    c > 0 &&
    sizeOf(x.shape) > 0 &&
    params.every((p) => p.dtype === 'float32' && channelParamSize(p, c) > 0);
  if (!ok) {
    const inputs: Record<string, TensorInfo> = { x, mean, variance };
    if (offset != null) inputs.offset = offset;
    if (scale != null) inputs.scale = scale;
    return runKernel(backend, 'FusedBatchNorm', inputs, { varianceEpsilon });
  }
  const at = (p: TensorInfo | undefined, fallback: number): ((i: number) => number) => {
    if (p == null) return () => fallback;
    const v = heapF32(backend, p);
    return v.length === 1 ? () => v[0] : (i) => v[i];
  };
  const m = at(mean, 0);
  const vr = at(variance, 1);
  const o = at(offset, 0);
  const g = at(scale, 1);
  const s = new Float64Array(c);
  const t = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    s[i] = g(i) / Math.sqrt(vr(i) + varianceEpsilon);
    t[i] = o(i) - m(i) * s[i];
  }
  return channelAffine(backend, x, s, t);
}

export const fusedBatchNormConfig: KernelConfig = {
  kernelName: 'FusedBatchNorm',
  backendName: 'wasm',
  kernelFunc: markOwn(fusedBatchNorm as unknown as KernelConfig['kernelFunc']),
};
