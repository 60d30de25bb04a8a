/**
 * Batched model queries for the defences: inputs held as plain float arrays go to the model
 * in batches (128 by default), every tensor is freed before the next batch, outputs come back
 * as plain arrays, and NaN or Infinity in an output stops the run with MODEL_NOT_FINITE
 * rather than turning into a meaningless score.
 */
import * as tf from '@tensorflow/tfjs';
import { throwIfCancelled, type RunContext } from '../context';
import { AuditError } from '../errors';
import { checkBlock } from '../models/split';
import { firstNonFinite } from './math';
import type { FingerprintArray } from './types';

export const QUERY_BATCH = 128;

/** Which model a query went to, for messages ('victim', 'suspect'). */
export type ModelRole = 'victim' | 'suspect';

export interface QueryOptions {
  role: ModelRole;
  /** What the outputs are for, for the error message ('DeepJudge fingerprints'). */
  what: string;
  batchSize?: number;
  /** Rows per model.predict call inside a batch (TF.js's default is 32). */
  predictBatch?: number;
  /** Applied to each batch of raw outputs inside the same tidy (e.g. channel means). */
  map?: (out: tf.Tensor) => tf.Tensor;
  /** Checked for cancellation between batches. */
  ctx?: RunContext;
}

/** Rows of an NHWC array. */
export function inputCount(inputs: FingerprintArray): number {
  return inputs.shape[0] ?? 0;
}

/**
 * Runs `model` over every row of `inputs` ([n, h, w, c]) and returns the (mapped) outputs
 * as [n, ...]. Spends n queries.
 */
export function queryModel(model: tf.LayersModel, inputs: FingerprintArray, opts: QueryOptions): FingerprintArray {
  const n = inputCount(inputs);
  const rowShape = inputs.shape.slice(1);
  const per = rowShape.reduce((p, d) => p * d, 1);
  const batch = opts.batchSize ?? QUERY_BATCH;
  const parts: Float32Array[] = [];
  let outRow: number[] | undefined;
  for (let start = 0; start < n; start += batch) {
    if (opts.ctx) throwIfCancelled(opts.ctx, opts.what);
    const end = Math.min(n, start + batch);
    const out = tf.tidy(() => {
      const x = tf.tensor(inputs.data.slice(start * per, end * per), [end - start, ...rowShape]);
      const y = (
        opts.predictBatch ? model.predict(x, { batchSize: opts.predictBatch }) : model.predict(x)
      ) as tf.Tensor;
      return opts.map ? opts.map(y) : y;
    });
    outRow ??= out.shape.slice(1);
    parts.push(out.dataSync() as Float32Array);
    out.dispose();
  }
  const rowLen = (outRow ?? []).reduce((p, d) => p * d, 1);
  const data = new Float32Array(n * rowLen);
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.length;
  }
  assertFinite(data, rowLen, opts);
  return { shape: [n, ...(outRow ?? [])], data };
}

/** Throws MODEL_NOT_FINITE when any output is NaN or infinite. */
export function assertFinite(data: ArrayLike<number>, rowLen: number, opts: Pick<QueryOptions, 'role' | 'what'>): void {
  const bad = firstNonFinite(data);
  if (bad < 0) return;
  const row = Math.floor(bad / Math.max(1, rowLen));
  throw new AuditError(
    'MODEL_NOT_FINITE',
    `The ${opts.role} model produced a non-finite output (${data[bad]}) on input ${row} of the ${opts.what}`,
    {
      hint: `Check the ${opts.role} model's weights (an attack that diverged leaves NaN) and that its inputs are normalised as the model expects.`,
    },
  );
}

/** Per-channel mean of a block output: [n, ..., C] -> [n, C] (the spatial mean DeepJudge compares). */
export function channelMeans(t: tf.Tensor): tf.Tensor2D {
  const c = t.shape[t.shape.length - 1];
  if (t.rank === 2) return t as tf.Tensor2D;
  return t.reshape([t.shape[0], -1, c]).mean(1) as tf.Tensor2D;
}

const heads = new WeakMap<tf.LayersModel, Map<string, tf.LayersModel>>();

/**
 * input -> block output (F^{l-}) of `model`, cached per model and block: building it adds no
 * tensors and shares the model's layers, and reusing it keeps repeated scoring from growing
 * the layers' node lists. Throws UNKNOWN_BLOCK for a missing block or one that is not a
 * split point.
 */
export function blockHead(model: tf.LayersModel, block: string): tf.LayersModel {
  let byBlock = heads.get(model);
  const cached = byBlock?.get(block);
  if (cached) return cached;
  checkBlock(model, block);
  const head = tf.model({
    inputs: model.inputs,
    outputs: model.getLayer(block).output as tf.SymbolicTensor,
    name: `${model.name}_dj_${block}`,
  });
  if (!byBlock) heads.set(model, (byBlock = new Map()));
  byBlock.set(block, head);
  return head;
}

/** Output shape of a named layer without the batch dimension, or undefined when there is no such layer. */
export function layerOutputShape(model: tf.LayersModel, name: string): number[] | undefined {
  const layer = model.layers.find((l) => l.name === name);
  if (!layer) return undefined;
  const shape = layer.outputShape;
  if (!Array.isArray(shape) || Array.isArray(shape[0])) return undefined;
  return (shape as (number | null)[]).slice(1).map((d) => d ?? -1);
}
