/**
 * The models an attack works on: copies of the victim, fresh models of its architecture,
 * views with extra outputs, the victim's labels, the metadata a surrogate is saved with,
 * and disposal of a surrogate when its attack fails.
 */
import * as tf from '@tensorflow/tfjs';
import { appendLineage, type ModelMeta } from '../../../src-shared/domain/model';
import type { ImageSet } from '../datasets/types';
import type { ModelMetaInput } from '../models/io';
import { ARCHITECTURES, buildModel } from '../models/zoo';
import { createRng } from '../rng';
import { predictLabels } from '../training/evaluate';
import { layerOutput } from './tail';

/**
 * A copy of a model: the same topology rebuilt from its JSON, every weight (BatchNorm moving
 * statistics included) set to the source's values. The copy owns its own variables; training
 * it never changes the source.
 */
export async function cloneModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  const topology = model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'];
  const copy = await tf.models.modelFromJSON(topology as Parameters<typeof tf.models.modelFromJSON>[0]);
  copy.setWeights(model.getWeights());
  return copy;
}

/**
 * A freshly initialised model of the victim's architecture. Zoo architectures are rebuilt
 * from the metadata with the given seed; other (imported) models get the victim's topology
 * with seeded re-initialisation: kernels Glorot-uniform, BatchNorm gamma and moving variance
 * 1, everything else 0.
 */
export async function freshModel(meta: ModelMeta, victim: tf.LayersModel, seed: number): Promise<tf.LayersModel> {
  if (ARCHITECTURES.some((a) => a.name === meta.arch)) {
    const cfg = meta.archConfig;
    const int = (k: string): number | undefined => (typeof cfg[k] === 'number' ? (cfg[k] as number) : undefined);
    return buildModel(meta.arch, {
      inputShape: meta.inputShape,
      numClasses: meta.numClasses,
      seed,
      blocks: int('blocks'),
      width: int('width'),
      depth: int('depth'),
      hidden: int('hidden'),
    }).model;
  }
  const model = await cloneModel(victim);
  const rng = createRng(seed);
  for (const w of model.weights) {
    const leaf = w.originalName.split('/').pop() ?? '';
    const shape = w.shape as number[];
    const value = tf.tidy(() => {
      if (/kernel|embeddings/.test(leaf)) return tf.initializers.glorotUniform({ seed: rng.seed() }).apply(shape);
      if (leaf === 'gamma' || leaf === 'moving_variance') return tf.ones(shape);
      return tf.zeros(shape);
    });
    w.write(value);
    value.dispose();
  }
  return model;
}

/** The model's trainable variables in order (what the optimiser updates). */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** A functional view of `model` with extra outputs at named layers (no weights copied, never dispose it). */
export function withTaps(model: tf.LayersModel, layers: string[]): tf.LayersModel {
  const outs = layers.map((l) => layerOutput(model, l));
  return tf.model({ inputs: model.inputs, outputs: [...outs, model.outputs[0]] });
}

/** The victim's argmax labels over a set (one forward pass per image). */
export function victimLabels(victim: tf.LayersModel, set: ImageSet): Int32Array {
  return predictLabels(victim, set);
}

/** `set` with other labels (images shared, not copied). */
export function relabel(set: ImageSet, labels: Int32Array, numClasses: number): ImageSet {
  return { ...set, labels, numClasses };
}

/** Metadata for saving a surrogate of the victim's architecture. */
export function derivedMeta(victimMeta: ModelMeta, lineage: string, training: Record<string, unknown>): ModelMetaInput {
  return {
    arch: victimMeta.arch,
    archConfig: { ...victimMeta.archConfig },
    blocks: [...victimMeta.blocks],
    defaultAttackBlock: victimMeta.defaultAttackBlock,
    defaultDeepJudgeBlock: victimMeta.defaultDeepJudgeBlock,
    lineage,
    ...(victimMeta.normalization
      ? { normalization: { mean: [...victimMeta.normalization.mean], std: [...victimMeta.normalization.std] } }
      : {}),
    ...(victimMeta.dataset !== undefined ? { dataset: victimMeta.dataset } : {}),
    training,
  };
}

export function derivedLineage(victimMeta: ModelMeta, step: string): string {
  return appendLineage(victimMeta.lineage, step);
}

/**
 * Runs an attack body with a surrogate it owns: on any error the surrogate is disposed
 * before the error propagates, so a cancelled or failed run leaks nothing.
 */
export async function withSurrogate<T>(
  surrogate: tf.LayersModel,
  body: () => Promise<T>,
  cleanup: () => void = () => undefined,
): Promise<T> {
  try {
    return await body();
  } catch (e) {
    surrogate.dispose();
    throw e;
  } finally {
    cleanup();
  }
}
