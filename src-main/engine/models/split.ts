/**
 * Splits a classifier at a named block: F = F^{l+} o F^{l-}. RemovalNet's latent level
 * and DeepJudge's white-box metrics both need the block's activations (the head, F^{l-})
 * and, for RemovalNet, the tail F^{l+} applied to a modified latent.
 *
 * Both halves share the original model's layers and weights (no copies): training the
 * model updates them. Do not dispose the halves: that would dispose the shared weights;
 * dispose the original model when done.
 */
import * as tf from '@tensorflow/tfjs';
import { AuditError } from '../errors';
import { isSplitPoint } from './validate';

export interface SplitModel {
  block: string;
  /** input -> block output (F^{l-}). */
  head: tf.LayersModel;
  /** block output -> logits (F^{l+}). */
  tail: tf.LayersModel;
  /** Shape of one latent, without the batch dimension. */
  latentShape: number[];
}

export function checkBlock(model: tf.LayersModel, block: string): void {
  const names = model.layers.map((l) => l.name);
  if (!names.includes(block)) {
    throw new AuditError('UNKNOWN_BLOCK', `The model has no layer named "${block}"`, {
      hint: `Pick a split point among: ${names.join(', ')}.`,
    });
  }
  if (!isSplitPoint(model, block)) {
    throw new AuditError(
      'UNKNOWN_BLOCK',
      `Layer "${block}" is not a split point: some path from input to output bypasses it`,
      {
        hint: 'Choose a layer every path passes through, such as the output of a stage.',
      },
    );
  }
}

export function splitAtBlock(model: tf.LayersModel, block: string): SplitModel {
  checkBlock(model, block);
  const blockLayer = model.getLayer(block);
  // The layer's output in the model's own graph (node 0): an earlier split re-applied later
  // layers to a new input and gave them more inbound nodes, where `.output` would throw.
  const blockOut = blockLayer.getOutputAt(0) as tf.SymbolicTensor;
  const head = tf.model({ inputs: model.inputs, outputs: blockOut, name: `${model.name}_head_${block}` });

  // Rebuild the part after the block on a fresh input, re-applying the same layer objects
  // (shared weights) in topological order, as Keras does when it clones a graph.
  const latentShape = (blockOut.shape as (number | null)[]).slice(1) as number[];
  const latentInput = tf.input({ shape: latentShape, name: `${block}_latent` });
  const mapped = new Map<number, tf.SymbolicTensor>([[blockOut.id, latentInput]]);
  const resolveTensor = (t: tf.SymbolicTensor): tf.SymbolicTensor | undefined => mapped.get(t.id);

  const order = model.layers;
  const start = order.indexOf(blockLayer);
  for (const layer of order.slice(start + 1)) {
    const node = layer.inboundNodes[0];
    if (!node) continue;
    const inputs = node.inputTensors.map(resolveTensor);
    if (inputs.some((t) => t === undefined)) continue; // belongs to the head side only
    const applied = layer.apply(inputs.length === 1 ? inputs[0]! : (inputs as tf.SymbolicTensor[])) as
      tf.SymbolicTensor | tf.SymbolicTensor[];
    const outs = Array.isArray(applied) ? applied : [applied];
    node.outputTensors.forEach((t, i) => mapped.set(t.id, outs[i]));
  }
  const tailOut = model.outputs.map((o) => mapped.get(o.id));
  if (tailOut.some((t) => t === undefined)) {
    throw new AuditError('UNKNOWN_BLOCK', `The model cannot be split at "${block}"`, {
      hint: 'Choose another split point.',
    });
  }
  const tail = tf.model({
    inputs: latentInput,
    outputs: tailOut as tf.SymbolicTensor[],
    name: `${model.name}_tail_${block}`,
  });
  return { block, head, tail, latentShape };
}
