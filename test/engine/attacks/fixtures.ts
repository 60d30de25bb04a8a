/** A tiny trained victim and data for the attack tests (seconds on the cpu backend). */
import * as tf from '@tensorflow/tfjs';
import type { ModelMeta } from '../../../src-shared/domain/model';
import type { ImageSet } from '../../../src-main/engine/datasets/types';
import type { LoadedModel } from '../../../src-main/engine/models/io';
import { buildModel } from '../../../src-main/engine/models/zoo';
import { train } from '../../../src-main/engine/training/train';
import { bandImages } from '../../helpers/synthetic';

export const SHAPE: [number, number, number] = [8, 8, 1];

export function tinyMeta(built: ReturnType<typeof buildModel>): ModelMeta {
  return {
    formatVersion: 1,
    arch: 'cnn',
    archConfig: { ...built.config },
    inputShape: SHAPE,
    numClasses: 3,
    blocks: built.blocks,
    defaultAttackBlock: built.defaultAttackBlock,
    defaultDeepJudgeBlock: built.defaultDeepJudgeBlock,
    lineage: 'train(cnn,bands)',
    contentHash: '0'.repeat(64),
    createdAt: '2024-01-01T00:00:00.000Z',
  };
}

/** buildModel('cnn', 8x8x1, 3 classes, 2 blocks of width 4, hidden 8), trained 40 steps on bands. */
export async function tinyVictim(): Promise<LoadedModel> {
  const built = buildModel('cnn', { inputShape: SHAPE, numClasses: 3, seed: 1, blocks: 2, width: 4, hidden: 8 });
  await train(built.model, bandImages(96, { side: 8, classes: 3, seed: 2 }), {
    iterations: 40,
    batchSize: 16,
    learningRate: 0.05,
    seed: 7,
  });
  return { model: built.model, meta: tinyMeta(built) };
}

export function substituteSet(): ImageSet {
  return bandImages(64, { side: 8, classes: 3, seed: 5 });
}

export function heldOutSet(): ImageSet {
  return bandImages(48, { side: 8, classes: 3, seed: 9 });
}

/** Every weight's bytes, for bit-exact comparisons. */
export function weightBytes(model: tf.LayersModel): Buffer[] {
  return model.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).buffer.slice(0)));
}

export async function useCpu(): Promise<void> {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
}
