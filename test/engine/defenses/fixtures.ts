/**
 * Tiny models for the defence tests: a trained 2-block CNN victim on 8x8 band images, a
 * lightly fine-tuned copy of it, an independently trained model of the same architecture
 * (another seed), and untrained models of other shapes. Built once per test file.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { ModelMeta } from '../../../src-shared/domain/model';
import type { RunContext } from '../../../src-main/engine/context';
import type { ImageSet } from '../../../src-main/engine/datasets/types';
import type { LoadedModel } from '../../../src-main/engine/models/io';
import { buildModel } from '../../../src-main/engine/models/zoo';
import { train } from '../../../src-main/engine/training/train';
import { bandImages } from '../../helpers/synthetic';

export const SIDE = 8;
export const CLASSES = 4;

export async function useCpu(): Promise<void> {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
}

export function ctx(seed = 7, extra: Partial<RunContext> = {}): RunContext {
  return { seed, ...extra };
}

interface TinyOptions {
  arch?: string;
  seed: number;
  width?: number;
  blocks?: number;
  classes?: number;
  name: string;
}

/** A zoo model wrapped as a LoadedModel with made-up metadata (hash derived from the name). */
export function tiny(o: TinyOptions): LoadedModel {
  const arch = o.arch ?? 'cnn';
  const classes = o.classes ?? CLASSES;
  const built = buildModel(arch, {
    inputShape: [SIDE, SIDE, 1],
    numClasses: classes,
    seed: o.seed,
    blocks: o.blocks ?? 2,
    width: o.width ?? 4,
    depth: 1,
    hidden: 16,
  });
  const meta: ModelMeta = {
    formatVersion: 1,
    arch,
    archConfig: { ...built.config },
    inputShape: [SIDE, SIDE, 1],
    numClasses: classes,
    blocks: built.blocks,
    defaultAttackBlock: built.defaultAttackBlock,
    defaultDeepJudgeBlock: built.defaultDeepJudgeBlock,
    lineage: o.name,
    contentHash: createHash('sha256').update(o.name).digest('hex'),
    createdAt: '2024-01-01T00:00:00.000Z',
  };
  return { model: built.model, meta };
}

export interface Zoo {
  train: ImageSet;
  test: ImageSet;
  victim: LoadedModel;
  /** The victim's weights, fine-tuned a few steps at a small learning rate. */
  finetuned: LoadedModel;
  /** Same architecture, another seed, trained the same way. */
  independent: LoadedModel;
  /** Same block names, another architecture (untrained). */
  otherArch: LoadedModel;
}

let cached: Promise<Zoo> | undefined;

/** The shared models of one test file (built on first use). */
export function zoo(): Promise<Zoo> {
  cached ??= (async () => {
    const trainSet = bandImages(256, { side: SIDE, classes: CLASSES, seed: 11 });
    const testSet = bandImages(96, { side: SIDE, classes: CLASSES, seed: 12 });
    const victim = tiny({ seed: 1, name: 'victim' });
    await train(victim.model, trainSet, { iterations: 25, batchSize: 16, learningRate: 0.05, seed: 1 });
    const independent = tiny({ seed: 2, name: 'independent' });
    await train(independent.model, trainSet, { iterations: 25, batchSize: 16, learningRate: 0.05, seed: 2 });
    const finetuned = tiny({ seed: 3, name: 'finetuned' });
    finetuned.model.setWeights(deepCopy(victim.model.getWeights()));
    await train(finetuned.model, trainSet, { iterations: 3, batchSize: 16, learningRate: 0.005, seed: 3 });
    const otherArch = tiny({ arch: 'vgg', seed: 4, name: 'vgg' });
    return { train: trainSet, test: testSet, victim, finetuned, independent, otherArch };
  })();
  return cached;
}

/** Runs `fn` several times and returns how many tensors it left behind (after one warm-up run). */
export async function tensorsLeftBy(fn: () => Promise<unknown>, times = 3): Promise<number> {
  await fn();
  const before = tf.memory().numTensors;
  for (let i = 0; i < times; i++) await fn();
  return tf.memory().numTensors - before;
}

/**
 * Copies of the values: TF.js tensors from getWeights() share their storage with the
 * model's variables (and clone() shares it too), so editing one in place would edit both.
 */
export function deepCopy(ts: tf.Tensor[]): tf.Tensor[] {
  return ts.map((t) => tf.tensor(Float32Array.from(t.dataSync()), t.shape));
}

/** The victim with one weight made NaN (for the non-finite checks). */
export function poisoned(source: LoadedModel, layer: string): LoadedModel {
  const m = tiny({ seed: 9, name: `poisoned-${layer}` });
  m.model.setWeights(deepCopy(source.model.getWeights()));
  const l = m.model.getLayer(layer);
  const [k, ...rest] = deepCopy(l.getWeights());
  const values = Float32Array.from(k.dataSync());
  values[0] = NaN;
  l.setWeights([tf.tensor(values, k.shape), ...rest]);
  return m;
}
