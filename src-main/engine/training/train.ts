/**
 * The training loop for victims and reference models: mini-batch SGD with momentum (or
 * Adam) under a cosine schedule, softmax cross-entropy on logits, progress callbacks,
 * cancellation through an AbortSignal, checkpoint and resume, and a guard that stops the
 * run with a clear reason when the loss stops being finite.
 *
 * Determinism: the batch order of epoch e is a pure function of (seed, e), and nothing in
 * a step draws random numbers, so the same options and seed give the same weights on the
 * same backend, and a resumed run continues exactly where the interrupted one stopped.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../datasets/types';
import { yieldToEventLoop } from '../context';
import { AuditError } from '../errors';
import { createRng, shuffledIndices } from '../rng';
import { batchTensors } from './batch';
import { hasCheckpoint, readCheckpoint, writeCheckpoint } from './checkpoint';
import { DEFAULT_OPTIMIZER, Optimizer, type OptimizerConfig } from './optimizers';
import { learningRateAt, type ScheduleName } from './schedule';

export interface TrainOptions {
  /** Passes over the data; ignored when `iterations` is given. */
  epochs?: number;
  iterations?: number;
  batchSize?: number;
  learningRate?: number;
  schedule?: ScheduleName;
  warmupIterations?: number;
  optimizer?: Partial<OptimizerConfig>;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /** Report every n iterations (and at the last one). */
  progressEvery?: number;
  /** Write a checkpoint to `dir` every `every` iterations and when cancelled. */
  checkpoint?: { dir: string; every: number };
  /** Continue from the checkpoint in `checkpoint.dir` when there is one. */
  resume?: boolean;
  /** Only these variables are updated (fine-tuning); default all trainable weights. */
  trainableVariables?: tf.Variable[];
  /** Called after every update with the number of iterations done (e.g. to evaluate a learning curve). */
  afterStep?: (done: number, total: number) => void;
}

export interface TrainProgress {
  iteration: number;
  totalIterations: number;
  epoch: number;
  /** Mean loss and accuracy over the batches since the last report. */
  loss: number;
  accuracy: number;
  learningRate: number;
  examplesPerSec: number;
  elapsedMs: number;
}

export interface TrainResult {
  iterations: number;
  resumedFrom: number;
  finalLoss: number;
  elapsedMs: number;
  examplesPerSec: number;
}

const DEFAULTS = {
  batchSize: 128,
  learningRate: 0.05,
  schedule: 'cosine' as ScheduleName,
  seed: 0,
  progressEvery: 10,
  warmupIterations: 0,
};

/**
 * Most iterations a training or attack may ask for: 10 million is a thousand times the
 * paper's budgets and days of compute; 1e12 would run for ever without a word.
 */
export const MAX_ITERATIONS = 10_000_000;

/** Refuses an iteration count that is not a whole number in 0..MAX_ITERATIONS. */
export function checkIterations(n: number, what = 'Iterations'): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_ITERATIONS) {
    throw new AuditError('INVALID_ARGUMENT', `${what} must be a whole number from 0 to ${MAX_ITERATIONS}, got ${n}`, {
      hint: `Ask for at most ${MAX_ITERATIONS} iterations (the paper trains for a few thousand); lower --iterations or --epochs.`,
    });
  }
}

export function iterationsFor(opts: Pick<TrainOptions, 'epochs' | 'iterations' | 'batchSize'>, count: number): number {
  if (opts.iterations !== undefined) return opts.iterations;
  const perEpoch = Math.max(1, Math.floor(count / (opts.batchSize ?? DEFAULTS.batchSize)));
  return Math.round((opts.epochs ?? 1) * perEpoch);
}

export async function train(model: tf.LayersModel, data: ImageSet, options: TrainOptions = {}): Promise<TrainResult> {
  const o = { ...DEFAULTS, ...definedOnly(options) };
  const optimizerConfig: OptimizerConfig = { ...DEFAULT_OPTIMIZER, ...o.optimizer };
  const batchSize = Math.min(o.batchSize, data.count);
  if (!(batchSize >= 1) || !(o.learningRate > 0)) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `Invalid training options: batch size ${o.batchSize}, learning rate ${o.learningRate}`,
      {
        hint: 'Use a batch size of at least 1 and a positive learning rate.',
      },
    );
  }
  const perEpoch = Math.max(1, Math.floor(data.count / batchSize));
  const total = iterationsFor({ ...o, batchSize }, data.count);
  checkIterations(total, 'Training iterations');
  const vars = o.trainableVariables ?? model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new Optimizer(optimizerConfig, vars);
  const optionsKey = JSON.stringify({
    total,
    batchSize,
    lr: o.learningRate,
    schedule: o.schedule,
    opt: optimizerConfig,
    seed: o.seed,
    n: data.count,
  });

  let start = 0;
  if (o.resume && o.checkpoint && hasCheckpoint(o.checkpoint.dir)) {
    start = readCheckpoint(o.checkpoint.dir, model, optimizer, optionsKey).iteration;
  }
  const saveCheckpoint = async (iteration: number) => {
    if (o.checkpoint)
      await writeCheckpoint(o.checkpoint.dir, model, optimizer, {
        formatVersion: 1,
        iteration,
        optimizerStep: iteration,
        optionsKey,
      });
  };

  const t0 = performance.now();
  const batchAt = batchPlan(data.count, batchSize, o.seed);
  let windowLoss = 0;
  let windowCorrect = 0;
  let windowCount = 0;
  let windowStart = t0;
  let lastLoss = NaN;
  let lastCheckpoint = start;

  try {
    for (let it = start; it < total; it++) {
      await yieldToEventLoop();
      if (o.signal?.aborted) {
        await saveCheckpoint(it);
        throw new AuditError('CANCELLED', `Training cancelled at iteration ${it} of ${total}`, {
          hint: o.checkpoint
            ? `Run again with resume to continue from the checkpoint in ${o.checkpoint.dir}.`
            : 'Run again to start over.',
        });
      }
      const epoch = Math.floor(it / perEpoch);
      const idx = batchAt(it);
      const lr = learningRateAt(o.schedule, o.learningRate, it, total, o.warmupIterations);
      const [loss, correct] = trainStep(model, data, idx, vars, optimizer, lr);
      if (!Number.isFinite(loss)) {
        throw new AuditError(
          'TRAINING_DIVERGED',
          `The loss became ${loss} at iteration ${it + 1} (learning rate ${lr.toPrecision(3)})`,
          {
            hint:
              'Lower the learning rate, check that the data are normalised and free of NaN, or resume from the last checkpoint' +
              (o.checkpoint ? ` (iteration ${lastCheckpoint} in ${o.checkpoint.dir}).` : '.'),
          },
        );
      }
      lastLoss = loss;
      windowLoss += loss;
      windowCorrect += correct;
      windowCount++;
      const done = it + 1;
      o.afterStep?.(done, total);
      if (o.onProgress && (done % o.progressEvery === 0 || done === total)) {
        const now = performance.now();
        o.onProgress({
          iteration: done,
          totalIterations: total,
          epoch,
          loss: windowLoss / windowCount,
          accuracy: windowCorrect / (windowCount * batchSize),
          learningRate: lr,
          examplesPerSec: (windowCount * batchSize * 1000) / Math.max(1e-9, now - windowStart),
          elapsedMs: now - t0,
        });
        windowLoss = windowCorrect = windowCount = 0;
        windowStart = now;
      }
      if (o.checkpoint && done % o.checkpoint.every === 0 && done < total) {
        await saveCheckpoint(done);
        lastCheckpoint = done;
      }
    }
    if (o.checkpoint && total > start) await saveCheckpoint(total);
  } finally {
    optimizer.dispose();
  }
  const elapsedMs = performance.now() - t0;
  return {
    iterations: total,
    resumedFrom: start,
    finalLoss: lastLoss,
    elapsedMs,
    examplesPerSec: ((total - start) * batchSize * 1000) / Math.max(1e-9, elapsedMs),
  };
}

/**
 * The example indices of every iteration: epoch e visits a seeded shuffle of all examples
 * (a pure function of (seed, e)) in `floor(count / batchSize)` full batches; the remainder
 * of the shuffle is left out of that epoch (PyTorch's `drop_last=True`). Exported so that
 * the parity harness feeds PyTorch exactly the batches the engine trains on.
 */
export function batchPlan(count: number, batchSize: number, seed: number): (iteration: number) => Int32Array {
  const perEpoch = Math.max(1, Math.floor(count / batchSize));
  let order: Int32Array | undefined;
  let orderEpoch = -1;
  return (it) => {
    const epoch = Math.floor(it / perEpoch);
    if (epoch !== orderEpoch) {
      order = shuffledIndices(count, createRng(seed * 1_000_003 + epoch));
      orderEpoch = epoch;
    }
    const pos = (it % perEpoch) * batchSize;
    return order!.subarray(pos, pos + batchSize);
  };
}

/**
 * The training objective of one batch and its gradients with respect to `vars`: mean
 * softmax cross-entropy of the logits (PyTorch's `F.cross_entropy`), with the model in
 * training mode (batch statistics in BatchNorm, whose moving averages this updates).
 * Returns the loss, the gradients by variable name and a kept [loss, correct] tensor;
 * the caller disposes all three.
 */
export function lossAndGradients(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  vars: tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap; stats: tf.Tensor1D } {
  let stats: tf.Tensor1D | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor2D;
    const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, logits.shape[1]), logits) as tf.Scalar;
    // Kept out of the gradient tape's disposal: read together with the loss below.
    stats = tf.keep(tf.stack([loss, logits.argMax(-1).equal(y).sum().cast('float32')])) as tf.Tensor1D;
    return loss;
  }, vars);
  return { value, grads, stats: stats! };
}

/** One forward/backward/update; returns [loss, correct predictions] with a single sync. */
export function trainStep(
  model: tf.LayersModel,
  data: ImageSet,
  idx: ArrayLike<number>,
  vars: tf.Variable[],
  optimizer: Optimizer,
  lr: number,
): [number, number] {
  const { x, y } = batchTensors(data, idx);
  try {
    const { value, grads, stats } = lossAndGradients(model, x, y, vars);
    try {
      optimizer.apply(grads, lr);
      const [loss, correct] = stats.dataSync();
      return [loss, correct];
    } finally {
      tf.dispose([value, stats, ...Object.values(grads)]);
    }
  } finally {
    tf.dispose([x, y]);
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
