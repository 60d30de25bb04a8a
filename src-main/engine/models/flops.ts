/**
 * Forward FLOPs of a Layers model per example, counting a multiply-add as 2 FLOPs in
 * convolutions and dense layers (what dominates; BN, pooling and activations are left
 * out, as in the usual GFLOP/s figures). A training step is counted as 3x forward.
 */
import type * as tf from '@tensorflow/tfjs';

interface ConvLike {
  kernelSize?: number[];
  filters?: number;
}

export function forwardFlopsPerExample(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const out = layer.outputShape as number[];
    if (cls === 'Conv2D') {
      const cin = (layer.input as tf.SymbolicTensor).shape[3] as number;
      const conv = layer as unknown as ConvLike;
      const [kh, kw] = conv.kernelSize ?? [1, 1];
      flops += 2 * (out[1] * out[2] * out[3]) * kh * kw * cin;
    } else if (cls === 'Dense') {
      const inShape = (layer.input as tf.SymbolicTensor).shape;
      flops += 2 * (inShape[inShape.length - 1] as number) * (out[out.length - 1] as number);
    }
  }
  return flops;
}
