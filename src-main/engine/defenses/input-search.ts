/**
 * Adam on the inputs, the search behind DeepJudge's neuron fuzzing and IPGuard's boundary
 * points: each sample of a batch has its own loss and its own goal; the search runs up to
 * `steps` updates, clips the inputs to the valid range after each one, and keeps per sample
 * the first point that reached the goal (or, for a sample that never did, the point with
 * the lowest loss seen).
 *
 * One Adam state per batch, created before the first step and kept for all of them (the
 * RemovalNet code re-creates its IPGuard optimiser every step, which resets the moment
 * estimates and turns Adam into a sign-like step; not copied).
 */
import * as tf from '@tensorflow/tfjs';
import { throwIfCancelled, type RunContext } from '../context';
import { DEFAULT_OPTIMIZER, Optimizer } from '../training/optimizers';
import type { InputBounds } from './probe-data';
import { QUERY_BATCH, assertFinite, inputCount } from './query';
import type { FingerprintArray } from './types';

export interface SearchObjective {
  /** Per-sample loss to minimise, [n]. */
  loss: tf.Tensor1D;
  /** Per-sample goal reached (non-zero), [n]; evaluated at the same point as the loss. */
  reached: tf.Tensor1D;
}

export interface InputSearchOptions {
  /** Start points, [n, h, w, c]. */
  start: FingerprintArray;
  bounds: InputBounds;
  lr: number;
  /** Adam updates per sample at most. */
  steps: number;
  /**
   * The objective at x ([b, h, w, c]) for the samples `offset .. offset + b - 1`. Called
   * under a gradient tape: build it from TF.js ops on x only.
   */
  objective: (x: tf.Tensor4D, offset: number) => SearchObjective;
  ctx: RunContext;
  /** Progress stage name, e.g. 'deepjudge.extract:fuzz'. */
  stage: string;
  /** What the search is for, for error messages. */
  what: string;
  batchSize?: number;
}

export interface InputSearchResult {
  inputs: FingerprintArray;
  /** 1 where the sample reached its goal. */
  reached: Uint8Array;
  /** Forward passes spent (each counts one query per sample). */
  queries: number;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function searchInputs(o: InputSearchOptions): Promise<InputSearchResult> {
  const n = inputCount(o.start);
  const rowShape = o.start.shape.slice(1);
  const per = rowShape.reduce((p, d) => p * d, 1);
  const batch = o.batchSize ?? QUERY_BATCH;
  const out = new Float32Array(o.start.data.length);
  const reachedAll = new Uint8Array(n);
  let queries = 0;
  const lower = tf.tensor1d(o.bounds.lower);
  const upper = tf.tensor1d(o.bounds.upper);
  const batches = Math.ceil(n / batch);
  try {
    for (let bi = 0; bi < batches; bi++) {
      const offset = bi * batch;
      const b = Math.min(batch, n - offset);
      const r = await searchBatch(
        o,
        o.start.data.slice(offset * per, (offset + b) * per),
        [b, ...rowShape],
        offset,
        lower,
        upper,
        bi,
        batches,
      );
      out.set(r.inputs, offset * per);
      reachedAll.set(r.reached, offset);
      queries += r.queries;
    }
  } finally {
    tf.dispose([lower, upper]);
  }
  return { inputs: { shape: o.start.shape.slice(), data: out }, reached: reachedAll, queries };
}

async function searchBatch(
  o: InputSearchOptions,
  start: Float32Array,
  shape: number[],
  offset: number,
  lower: tf.Tensor1D,
  upper: tf.Tensor1D,
  batchIndex: number,
  batches: number,
): Promise<{ inputs: Float32Array; reached: Uint8Array; queries: number }> {
  const b = shape[0];
  const x = tf.tidy(() => tf.variable(tf.tensor4d(start, shape as [number, number, number, number]), true));
  let best: tf.Tensor4D = tf.tidy(() => x.clone() as tf.Tensor4D);
  const bestLoss = new Float64Array(b).fill(Infinity);
  const done = new Uint8Array(b);
  const optimizer = new Optimizer({ ...DEFAULT_OPTIMIZER, name: 'adam', weightDecay: 0 }, [x]);
  let queries = 0;
  try {
    // Step s evaluates the point after s updates; the last evaluation takes no update.
    for (let s = 0; s <= o.steps; s++) {
      throwIfCancelled(o.ctx, o.what);
      const update = s < o.steps;
      let lossT: tf.Tensor | undefined;
      let reachedT: tf.Tensor | undefined;
      let grads: Record<string, tf.Tensor> = {};
      const evaluate = (): tf.Scalar => {
        const r = o.objective(x as tf.Tensor4D, offset);
        lossT = tf.keep(r.loss);
        reachedT = tf.keep(r.reached);
        return r.loss.sum();
      };
      if (update) {
        const g = tf.variableGrads(evaluate, [x]);
        g.value.dispose();
        grads = g.grads;
      } else {
        tf.tidy(() => {
          evaluate();
        });
      }
      queries += b;
      const loss = lossT!.dataSync();
      const reached = reachedT!.dataSync();
      tf.dispose([lossT!, reachedT!]);
      try {
        assertFinite(loss, 1, { role: 'victim', what: o.what });
      } catch (e) {
        tf.dispose(Object.values(grads));
        throw e;
      }
      const take = new Uint8Array(b);
      let anyTake = false;
      for (let i = 0; i < b; i++) {
        if (done[i]) continue;
        if (reached[i] !== 0) {
          done[i] = 1;
          take[i] = 1;
        } else if (loss[i] < bestLoss[i]) {
          bestLoss[i] = loss[i];
          take[i] = 1;
        }
        anyTake ||= take[i] === 1;
      }
      if (anyTake) {
        const prev = best;
        best = tf.tidy(() => {
          const mask = tf.tensor1d(take, 'bool').reshape([b, 1, 1, 1]).broadcastTo(x.shape);
          return tf.where(mask, x, prev) as tf.Tensor4D;
        });
        prev.dispose();
      }
      const allDone = done.every((d) => d === 1);
      if (update && !allDone) {
        optimizer.apply(grads, o.lr);
        tf.tidy(() => x.assign(tf.minimum(tf.maximum(x, lower), upper)));
      }
      tf.dispose(Object.values(grads));
      o.ctx.progress?.({
        stage: o.stage,
        iteration: batchIndex * (o.steps + 1) + s + 1,
        total: batches * (o.steps + 1),
        values: { reached: done.reduce((p, d) => p + d, 0) },
      });
      if (allDone) break;
      await nextTurn();
    }
    return { inputs: best.dataSync() as Float32Array, reached: done, queries };
  } finally {
    optimizer.dispose();
    tf.dispose([x, best]);
  }
}
