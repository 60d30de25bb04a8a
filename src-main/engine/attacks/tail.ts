/**
 * F^{l+} as a plain function for gradient searches over the latent (RemovalNet's Algorithm
 * 1), in inference mode, without building a model.
 *
 * Why not the split model's tail: TF.js Conv2D layers always run the fused conv op, whose
 * custom gradient computes the kernel gradient together with the input gradient even when
 * only the input's is asked for. In a latent search (ten gradient steps per iteration, no
 * weight update) that wasted kernel gradient is about a third of the convolution work. Here
 * Conv2D layers with a linear or ReLU activation run the unfused `tf.conv2d`, whose gradient
 * is evaluated per input, so only the input gradient is computed. Every other layer runs its
 * own call (eagerly, `training` off); results equal the model's.
 */
import * as tf from '@tensorflow/tfjs';
import { checkBlock } from '../models/split';

type Node = { outboundLayer: tf.layers.Layer; inputTensors: tf.SymbolicTensor[]; outputTensors: tf.SymbolicTensor[] };

interface Conv2DConfig {
  strides: number | number[];
  padding: 'valid' | 'same';
  dataFormat?: 'channelsFirst' | 'channelsLast';
  dilationRate?: number | number[];
  activation?: string;
  useBias?: boolean;
}

/**
 * The symbolic tensors of `model`'s own graph (walking back from its outputs). A layer shared
 * with other views (a split tail re-applies layers) has several inbound nodes, and then
 * `layer.output` throws; the model's own node is the one whose output is in this set.
 */
export function graphTensors(model: tf.LayersModel): Map<number, tf.SymbolicTensor> {
  const seen = new Map<number, tf.SymbolicTensor>();
  const stack: tf.SymbolicTensor[] = [...model.outputs];
  while (stack.length > 0) {
    const t = stack.pop() as tf.SymbolicTensor;
    if (seen.has(t.id)) continue;
    seen.set(t.id, t);
    stack.push(...(t.inputs ?? []));
  }
  return seen;
}

/** The output of layer `name` in `model`'s own graph (safe when the layer is shared with other views). */
export function layerOutput(model: tf.LayersModel, name: string): tf.SymbolicTensor {
  for (const t of graphTensors(model).values()) if (t.sourceLayer.name === name) return t;
  return model.getLayer(name).getOutputAt(0) as tf.SymbolicTensor;
}

/** Returns z -> logits of `model` after `block` (a split point); callers dispose what it returns. */
export function inferenceTail(model: tf.LayersModel, block: string): (z: tf.Tensor) => tf.Tensor {
  checkBlock(model, block);
  const blockLayer = model.getLayer(block);
  const own = graphTensors(model);
  const blockOut = layerOutput(model, block);
  // The layers after the block, each with the node it is applied through in `model`'s own graph.
  const plan: { layer: tf.layers.Layer; node: Node; conv?: Conv2DConfig }[] = [];
  const known = new Set<number>([blockOut.id]);
  for (const layer of model.layers.slice(model.layers.indexOf(blockLayer) + 1)) {
    const node = (layer.inboundNodes as unknown as Node[]).find(
      (n) => n.outboundLayer === layer && n.outputTensors.some((t) => own.has(t.id)),
    );
    if (!node || !node.inputTensors.every((t) => known.has(t.id))) continue;
    node.outputTensors.forEach((t) => known.add(t.id));
    const cfg = layer.getClassName() === 'Conv2D' ? (layer.getConfig() as unknown as Conv2DConfig) : undefined;
    const fast =
      cfg &&
      (cfg.dataFormat ?? 'channelsLast') === 'channelsLast' &&
      (cfg.activation === 'linear' || cfg.activation === 'relu');
    plan.push({ layer, node, conv: fast ? cfg : undefined });
  }
  const outputId = model.outputs[0].id;

  return (z: tf.Tensor) =>
    tf.tidy(() => {
      const values = new Map<number, tf.Tensor>([[blockOut.id, z]]);
      for (const { layer, node, conv } of plan) {
        const inputs = node.inputTensors.map((t) => values.get(t.id) as tf.Tensor);
        let out: tf.Tensor | tf.Tensor[];
        if (conv) {
          const [kernel, bias] = layer.getWeights();
          const pair = (v: number | number[] | undefined): [number, number] =>
            Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v ?? 1, v ?? 1];
          let y: tf.Tensor = tf.conv2d(
            inputs[0] as tf.Tensor4D,
            kernel as tf.Tensor4D,
            pair(conv.strides),
            conv.padding,
            'NHWC',
            pair(conv.dilationRate),
          );
          if (conv.useBias && bias) y = y.add(bias);
          out = conv.activation === 'relu' ? tf.relu(y) : y;
        } else {
          out = layer.apply(inputs.length === 1 ? inputs[0] : inputs) as tf.Tensor | tf.Tensor[];
        }
        const outs = Array.isArray(out) ? out : [out];
        node.outputTensors.forEach((t, i) => values.set(t.id, outs[i]));
      }
      return values.get(outputId) as tf.Tensor;
    });
}
