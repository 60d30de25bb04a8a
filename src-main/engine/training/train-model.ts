/**
 * Trains a zoo architecture on a data-set directory and saves it with its metadata: the
 * workflow behind `ownership-audit train`, the demo victim and (later) reference models.
 */
import { basename, resolve } from 'node:path';
import { rmSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { appendLineage, type ModelMeta } from '../../../src-shared/domain/model';
import { activeBackend } from '../backend';
import { loadDataset, parsePartition, partition, type ImageSet } from '../datasets';
import { saveModel } from '../models/io';
import { buildModel } from '../models/zoo';
import { AuditError } from '../errors';
import { evaluate } from './evaluate';
import { checkIterations, train, type TrainOptions, type TrainProgress } from './train';

export interface TrainModelRequest {
  arch: string;
  dataDir: string;
  /** e.g. '0/2': train on a deterministic, class-stratified half of the training split. */
  partition?: string;
  /**
   * Seed of that partition. Give the same value to the attacker's `RunAttackRequest.partitionSeed`
   * so that the victim's part and the attacker's (S_LSD) come from one split and are disjoint.
   * Absent: the training seed (the behaviour before this field existed).
   */
  partitionSeed?: number;
  outDir: string;
  seed: number;
  epochs?: number;
  iterations?: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: 'sgd' | 'adam';
  schedule?: 'cosine' | 'constant';
  weightDecay?: number;
  blocks?: number;
  width?: number;
  depth?: number;
  hidden?: number;
  maxTrain?: number;
  maxTest?: number;
  /** Checkpoint every n iterations into `<outDir>.checkpoint`; resume from it when asked. */
  checkpointEvery?: number;
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /** Extra words for the lineage step, e.g. 'reference' for calibration models. */
  lineagePrefix?: string;
  /** Evaluate test accuracy every n iterations (and at the end): the learning curve in the result. */
  evaluateEvery?: number;
}

/** One point of a learning curve: test accuracy after `iteration` updates (`epoch` passes, fractional). */
export interface CurvePoint {
  iteration: number;
  epoch: number;
  testAccuracy: number;
}

export interface TrainModelResult {
  model: string;
  meta: ModelMeta;
  testAccuracy: number;
  iterations: number;
  trainSeconds: number;
  trainExamplesPerSec: number;
  /** Test accuracy along training, when `evaluateEvery` is set. */
  curve?: CurvePoint[];
}

/** The training images of a request: part k of n of the split when `partition` is set (see `partitionSeed`). */
export function trainingPart(
  train: ImageSet,
  req: Pick<TrainModelRequest, 'partition' | 'partitionSeed' | 'seed'>,
): ImageSet {
  if (!req.partition) return train;
  const { k, n } = parsePartition(req.partition);
  return partition(train, k, n, req.partitionSeed ?? req.seed);
}

export async function trainModel(req: TrainModelRequest): Promise<TrainModelResult> {
  // Before the data is read: an absurd request is refused at once.
  if (req.iterations !== undefined) checkIterations(req.iterations, 'Training iterations');
  const data = await loadDataset(req.dataDir, { maxTrain: req.maxTrain, maxTest: req.maxTest });
  if (data.train.numClasses < 2) {
    throw new AuditError('DATASET_FORMAT', `The data set has only one class (${data.classNames[0] ?? '0'})`, {
      path: data.path,
      hint: 'A classifier needs at least two classes: add the images (or labels) of the other classes.',
    });
  }
  const trainSet = trainingPart(data.train, req);
  let dataLabel = basename(resolve(req.dataDir));
  if (req.partition) {
    const { k, n } = parsePartition(req.partition);
    dataLabel += `[${k}/${n}]`;
  }
  const built = buildModel(req.arch, {
    inputShape: [trainSet.height, trainSet.width, trainSet.channels],
    numClasses: data.train.numClasses,
    seed: req.seed,
    blocks: req.blocks,
    width: req.width,
    depth: req.depth,
    hidden: req.hidden,
  });
  const model: tf.LayersModel = built.model;
  try {
    const checkpointDir = `${resolve(req.outDir)}.checkpoint`;
    const curve: CurvePoint[] = [];
    const perEpoch = Math.max(1, Math.floor(trainSet.count / Math.min(req.batchSize ?? 128, trainSet.count)));
    const every = req.evaluateEvery;
    const afterStep = every
      ? (done: number, total: number) => {
          if (done % every === 0 || done === total)
            curve.push({ iteration: done, epoch: done / perEpoch, testAccuracy: evaluate(model, data.test).accuracy });
        }
      : undefined;
    const options: TrainOptions = {
      epochs: req.epochs,
      iterations: req.iterations,
      batchSize: req.batchSize,
      learningRate: req.learningRate,
      schedule: req.schedule,
      optimizer: {
        name: req.optimizer ?? 'sgd',
        ...(req.weightDecay !== undefined ? { weightDecay: req.weightDecay } : {}),
      },
      seed: req.seed,
      signal: req.signal,
      onProgress: req.onProgress,
      checkpoint: req.checkpointEvery ? { dir: checkpointDir, every: req.checkpointEvery } : undefined,
      resume: req.resume,
      afterStep,
    };
    const result = await train(model, trainSet, options);
    const testAccuracy = evaluate(model, data.test).accuracy;
    const meta = await saveModel(model, req.outDir, {
      arch: req.arch,
      archConfig: { ...built.config },
      blocks: built.blocks,
      defaultAttackBlock: built.defaultAttackBlock,
      defaultDeepJudgeBlock: built.defaultDeepJudgeBlock,
      lineage: appendLineage(req.lineagePrefix ?? '', `train(${req.arch},${dataLabel})`),
      testAccuracy,
      dataset: dataLabel,
      seed: req.seed,
      backend: activeBackend()?.backend,
      normalization: data.normalization,
      training: {
        iterations: result.iterations,
        batchSize: req.batchSize ?? 128,
        learningRate: req.learningRate,
        optimizer: req.optimizer ?? 'sgd',
        schedule: req.schedule ?? 'cosine',
        seconds: result.elapsedMs / 1000,
      },
    });
    if (req.checkpointEvery) rmSync(checkpointDir, { recursive: true, force: true });
    return {
      model: resolve(req.outDir),
      meta,
      testAccuracy,
      iterations: result.iterations,
      trainSeconds: result.elapsedMs / 1000,
      trainExamplesPerSec: result.examplesPerSec,
      ...(every ? { curve } : {}),
    };
  } finally {
    model.dispose();
  }
}
