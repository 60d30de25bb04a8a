// Conv2D and FusedConv2D for the wasm backend: the direct SIMD convolution where it applies.
//
// Why: the register-tiled routine of direct-conv.ts ran the zoo's convolutions in 0.7-0.85x
// XNNPACK's time at batch 128 (first layers and 1x1 convolutions about 0.3-0.6x). In the plain
// flavour it makes the same sums in the same order, so its outputs are bit-identical to
// XNNPACK's (test/engine/wasm-kernels.test.ts checks that); the fused flavour (simd-module.ts,
// `fusedMultiplyAdd`) rounds once per multiply-add. On more threads it splits its tiles over
// the engine's helper threads while XNNPACK's pool stays at one thread (see wasm-threads.ts,
// "Which threads").
//
// How: NHWC float32 convolutions with dilation 1, output channels a multiple of 8, and for
// FusedConv2D an optional [Co] bias with a linear or ReLU activation, take the direct routine;
// everything else the stock kernel. The plain flavour also leaves convolutions under
// MIN_POSITIONS output positions to XNNPACK (packing the filter on every call costs more than
// its cached operator saves, and the bits are the same); the fused one takes every size, so
// that an example's output does not depend on its batch. transposed-conv.ts (the input
// gradients) calls `conv2dForward` too.
import { backend_util } from '@tensorflow/tfjs';
import type { Conv2DAttrs, FusedConv2DAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { directConv, directConvApplies } from './direct-conv';
import { backendSimdInstance } from './simd-module';
import { asBackend, input, markOwn, runKernel, type BackendWasm, type KernelArgs } from './wasm-util';

/** Output positions (N x OH x OW) from which the plain flavour's direct routine is used. */
const MIN_POSITIONS = 1024;

type ConvGeometry = Pick<Conv2DAttrs, 'strides' | 'pad' | 'dilations' | 'dimRoundingMode'>;

/**
 * y = conv(x, filter) (+ bias) (then ReLU): the direct routine where it applies, else null
 * (the caller runs the stock kernel).
 */
function directOrNull(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | null,
  relu: boolean,
  attrs: ConvGeometry & { dataFormat?: string },
): TensorInfo | null {
  if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const simd = backendSimdInstance(backend);
  if (!simd || !directConvApplies(info)) return null;
  // The fused flavour rounds differently from XNNPACK, so it takes every size: an example's
  // output must not depend on how many others share its batch (an API's answers one by one
  // against the model's in batches of 128 are the same bits).
  if (!simd.fused && info.batchSize * info.outHeight * info.outWidth < MIN_POSITIONS) return null;
  if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== info.outChannels)) return null;
  return directConv(simd, backend, x, filter, bias, relu, info);
}

/** A plain NHWC convolution on the wasm backend (the direct routine or the stock kernel). */
export function conv2dForward(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: ConvGeometry & { dataFormat?: string },
): TensorInfo {
  return (
    directOrNull(backend, x, filter, null, false, attrs) ?? runKernel(backend, 'Conv2D', { x, filter }, { ...attrs })
  );
}

function conv2D(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  return conv2dForward(backend, input(args, 'x'), input(args, 'filter'), args.attrs as unknown as Conv2DAttrs);
}

function fusedConv2D(args: KernelArgs): TensorInfo {
  const backend = asBackend(args);
  const x = input(args, 'x');
  const filter = input(args, 'filter');
  const bias = (args.inputs.bias as TensorInfo | undefined) ?? null;
  const attrs = args.attrs as unknown as FusedConv2DAttrs;
  const plain =
    args.inputs.preluActivationWeights == null && (attrs.activation === 'linear' || attrs.activation === 'relu');
  const direct = plain ? directOrNull(backend, x, filter, bias, attrs.activation === 'relu', attrs) : null;
  return direct ?? runKernel(backend, 'FusedConv2D', args.inputs as Record<string, TensorInfo>, { ...attrs });
}

export const conv2DConfig: KernelConfig = {
  kernelName: 'Conv2D',
  backendName: 'wasm',
  kernelFunc: markOwn(conv2D as unknown as KernelConfig['kernelFunc']),
};

export const fusedConv2DConfig: KernelConfig = {
  kernelName: 'FusedConv2D',
  backendName: 'wasm',
  kernelFunc: markOwn(fusedConv2D as unknown as KernelConfig['kernelFunc']),
};
