/**
 * The one gradient step every attack takes: the gradients of its objective with respect to
 * the trained variables, applied by the loop's optimiser at the iteration's learning rate,
 * and the step's figures read back with a single sync; everything made on the way is
 * disposed. The loop then checks that every figure is finite (loop.ts, the divergence guard).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../datasets/types';
import { batchTensors } from '../training/batch';
import type { Optimizer } from '../training/optimizers';
import { lossAndGradients } from '../training/train';
import type { StepArgs, StepOutput } from './loop';

/** What an attack's objective gives for one batch, computed under the gradient tape. */
export interface Objective {
  /** The loss to minimise. */
  loss: tf.Scalar;
  /** Scalars to read back after the update (stacked in this order), usually the loss and its terms. */
  report: tf.Tensor[];
}

/** A step's loss, its gradients by variable name, and the kept figures to read back. */
interface StepGradients {
  value: tf.Scalar;
  grads: tf.NamedTensorMap;
  stats: tf.Tensor;
}

function objectiveGradients(objective: () => Objective, vars: tf.Variable[]): StepGradients {
  let stats: tf.Tensor | undefined;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const { loss, report } = objective();
      // Kept out of the tape's disposal: read after the update.
      stats = tf.keep(tf.stack(report));
      return loss;
    }, vars);
    return { value, grads, stats: stats! };
  } catch (e) {
    stats?.dispose();
    throw e;
  }
}

/** Applies the gradients at `lr`, reads the figures, and disposes the loss, the gradients and the figures. */
function applyGradients(optimizer: Optimizer, lr: number, g: StepGradients): tf.TypedArray {
  try {
    optimizer.apply(g.grads, lr);
    return g.stats.dataSync();
  } finally {
    tf.dispose([g.value, g.stats, ...Object.values(g.grads)]);
  }
}

/**
 * One update of `vars` on `objective()`: returns the `report` figures, read after the
 * update. The objective's tensors live in the tape's scope; inputs it closes over are the
 * caller's to dispose.
 */
export function gradientStep(
  optimizer: Optimizer,
  lr: number,
  vars: tf.Variable[],
  objective: () => Objective,
): tf.TypedArray {
  return applyGradients(optimizer, lr, objectiveGradients(objective, vars));
}

/**
 * The supervised step of fine-tuning, pruning and negative models: the mean softmax
 * cross-entropy of `model` on the batch of `set` (the objective victims train with,
 * training/train.ts's `lossAndGradients`), one update; figures: loss and batch accuracy.
 */
export function crossEntropyStep(
  model: tf.LayersModel,
  set: ImageSet,
  vars: tf.Variable[],
  { indices, lr, optimizer }: StepArgs,
): StepOutput {
  const { x, y } = batchTensors(set, indices);
  try {
    const [loss, correct] = applyGradients(optimizer, lr, lossAndGradients(model, x, y, vars));
    return { values: { loss, accuracy: correct / indices.length }, forward: indices.length, backward: indices.length };
  } finally {
    tf.dispose([x, y]);
  }
}
