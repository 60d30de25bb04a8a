/**
 * Conv2D that trains through the unfused convolution, registered under TF.js's own class
 * name so that saved models keep the stock `Conv2D` format and every conv layer the engine
 * builds or loads trains the same way.
 *
 * Why: the stock layer always runs the fused conv op, whose custom gradient computes the
 * input gradient together with the kernel gradient, needed or not. For a network's first
 * convolution the input is the image batch, whose gradient nobody asks for: a full
 * backward-input convolution per training step thrown away (7% of a step of the demo's CNN).
 * The unfused op's gradient is evaluated per input, only for inputs on the path to the
 * trained weights. Inference (and any layout the override does not cover) keeps the stock
 * fused path; training computes conv, bias add and activation as the stock unfused
 * fallback does, with the same kernels.
 */
import * as tf from '@tensorflow/tfjs';

type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];
type LayerCtor = new (args: Conv2DArgs) => tf.layers.Layer;

// The stock class, from a fresh instance (the serialization registry holds this module's after the registration below).
const StockConv2D = tf.layers.conv2d({ filters: 1, kernelSize: 1 }).constructor as LayerCtor;

/** The stock layer's fields this override reads (set by the stock constructor and build). */
interface ConvFields {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  strides: number[];
  padding: 'valid' | 'same';
  dataFormat: string;
  dilationRate: number[];
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

export class EngineConv2D extends StockConv2D {
  /** The stock name: model.json files stay readable by any TF.js. */
  static className = 'Conv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const f = this as unknown as ConvFields;
    if (!kwargs.training || f.dataFormat !== 'channelsLast') return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const strides = f.strides as [number, number];
      const dilations = f.dilationRate as [number, number];
      let y: tf.Tensor = tf.conv2d(x, f.kernel.read() as tf.Tensor4D, strides, f.padding, 'NHWC', dilations);
      if (f.bias) y = tf.add(y, f.bias.read());
      return f.activation.apply(y);
    });
  }
}

tf.serialization.registerClass(EngineConv2D as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);

/** A Conv2D layer that trains through the unfused op (see the module comment). */
export function conv2d(args: Conv2DArgs): tf.layers.Layer {
  return new EngineConv2D(args);
}
