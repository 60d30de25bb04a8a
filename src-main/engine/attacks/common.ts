/**
 * What every attack shares: copying the victim, building fresh models of its architecture,
 * labelling the substitute set with the victim, deterministic batch orders, and the attack
 * loop (progress, fidelity curve, checkpoint and resume, cancellation, divergence guard,
 * compute accounting, trajectory).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { appendLineage, type ModelMeta } from '../../../src-shared/domain/model';
import { resolveParams, type ParamSpec, type ParamValues } from '../../../src-shared/params';
import { yieldToEventLoop, type ProgressEvent, type RunContext } from '../context';
import type { ImageSet } from '../datasets/types';
import { AuditError } from '../errors';
import { saveModel, type ModelMetaInput } from '../models/io';
import { ARCHITECTURES, buildModel } from '../models/zoo';
import { createRng, shuffledIndices, type Rng } from '../rng';
import { hasCheckpoint, readCheckpoint, writeCheckpoint, type CheckpointState } from '../training/checkpoint';
import { predictLabels } from '../training/evaluate';
import { Optimizer, type OptimizerConfig, DEFAULT_OPTIMIZER } from '../training/optimizers';
import { learningRateAt } from '../training/schedule';
import { layerOutput } from './tail';
import type { AttackCompute, AttackRequest, CurvePoint } from './types';

export const DEFAULT_BATCH_SIZE = 128;

// ---------------------------------------------------------------------------------------
// parameters

/**
 * The request's params checked against the spec and merged over its defaults (strings as a
 * CLI passes them are accepted); unknown keys and out-of-range values are INVALID_ARGUMENT.
 */
export function paramsOf(specs: readonly ParamSpec[], given: ParamValues): ParamValues {
  const r = resolveParams(specs, given);
  if (!r.ok) {
    throw new AuditError('INVALID_ARGUMENT', `Invalid attack parameters: ${r.problems.join('; ')}`, {
      hint: `Parameters: ${specs.map((s) => `${s.key} (${s.type === 'enum' ? s.choices.join('|') : s.type}, default ${String(s.default)})`).join(', ')}.`,
    });
  }
  return r.values;
}

export function num(p: ParamValues, key: string): number {
  const v = p[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new AuditError('INVALID_ARGUMENT', `Attack parameter ${key} must be a number, got ${JSON.stringify(v)}`, {
      hint: "Resolve the parameters with resolveParams against the attack's params.",
    });
  }
  return v;
}

export function str(p: ParamValues, key: string): string {
  return String(p[key]);
}

export function checkRequest(req: AttackRequest): void {
  if (!Number.isInteger(req.iterations) || req.iterations < 0) {
    throw new AuditError('INVALID_ARGUMENT', `Iterations must be a non-negative whole number, got ${req.iterations}`, {
      hint: 'The paper runs 1000 iterations.',
    });
  }
  if (req.substitute.count < 1) {
    throw new AuditError('INVALID_ARGUMENT', 'The substitute set is empty', {
      hint: 'Give the attacker some data (S_LTD or S_LSD).',
    });
  }
  const [h, w, c] = req.victim.meta.inputShape;
  for (const [name, set] of [
    ['substitute', req.substitute],
    ['held-out', req.heldOut],
  ] as const) {
    if (set && (set.height !== h || set.width !== w || set.channels !== c)) {
      throw new AuditError(
        'DATASET_MISMATCH',
        `The ${name} images are ${set.height}x${set.width}x${set.channels}, the victim takes ${h}x${w}x${c}`,
        {
          hint: "Adapt the data to the victim's input first (adaptToInput).",
        },
      );
    }
  }
  if (req.batchSize !== undefined && (!Number.isInteger(req.batchSize) || req.batchSize < 1)) {
    throw new AuditError('INVALID_ARGUMENT', `Invalid batch size ${req.batchSize}`, {
      hint: 'Use a positive whole number (the paper: 128).',
    });
  }
  if (req.checkpoint && (!Number.isInteger(req.checkpoint.every) || req.checkpoint.every < 1)) {
    throw new AuditError('INVALID_ARGUMENT', `Invalid checkpoint interval ${req.checkpoint.every}`, {
      hint: 'Checkpoint every n >= 1 iterations.',
    });
  }
}

/** The split point of a request, checked against the victim's layers. */
export function requestBlock(req: AttackRequest): string {
  const block = req.block ?? req.victim.meta.defaultAttackBlock;
  if (!req.victim.model.layers.some((l) => l.name === block)) {
    throw new AuditError('UNKNOWN_BLOCK', `The victim has no layer named "${block}"`, {
      hint: `Pick one of its blocks: ${req.victim.meta.blocks.join(', ')}.`,
    });
  }
  return block;
}

// ---------------------------------------------------------------------------------------
// models

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

// ---------------------------------------------------------------------------------------
// randomness

/** Mixes integers into one 32-bit seed (for per-iteration generators). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/**
 * Mini-batch indices of iteration `it`: epochs of shuffled full batches (the order of epoch
 * e a pure function of (seed, e)), so a resumed run draws the same batches.
 */
export class BatchOrder {
  private order: Int32Array | undefined;
  private epoch = -1;
  readonly perEpoch: number;

  constructor(
    readonly count: number,
    readonly batchSize: number,
    private readonly seed: number,
  ) {
    this.perEpoch = Math.max(1, Math.floor(count / batchSize));
  }

  indices(it: number): Int32Array {
    const epoch = Math.floor(it / this.perEpoch);
    if (epoch !== this.epoch || !this.order) {
      this.order = shuffledIndices(this.count, createRng(mixSeed(this.seed, 0xba7c4, epoch)));
      this.epoch = epoch;
    }
    const pos = (it % this.perEpoch) * this.batchSize;
    return this.order.subarray(pos, pos + this.batchSize);
  }
}

// ---------------------------------------------------------------------------------------
// the loop

export interface StepArgs {
  iteration: number;
  indices: Int32Array;
  lr: number;
  /** A generator private to this iteration (a pure function of the seed and the iteration). */
  rng: Rng;
  optimizer: Optimizer;
}

export interface StepOutput {
  /** Named figures of the step; `loss` is required. All must be finite. */
  values: Record<string, number>;
  /** Per-example forward / backward passes this step spent (see AttackCompute). */
  forward: number;
  backward: number;
}

export interface LoopSpec {
  /** Stage name for progress events (the attack id). */
  stage: string;
  surrogate: tf.LayersModel;
  /** Variables the optimiser updates (default: all trainable weights). */
  vars?: tf.Variable[];
  optimizer: Partial<OptimizerConfig>;
  learningRate: number;
  /** Cosine period as a multiple of the iterations (1 anneals to 0 at the end; the RemovalNet code uses 1.5). */
  cosineSpan?: number;
  /** Examples to draw batches from. */
  poolSize: number;
  /** Everything that changes the result, for refusing a resume with other options. */
  optionsKey: Record<string, unknown>;
  step(a: StepArgs): StepOutput;
  /** Runs after every update (pruning masks, frozen statistics). */
  afterUpdate?: () => void;
  /** Work done once before the loop (e.g. labelling queries), counted in a fresh run only. */
  setup?: { forward: number; backward: number };
  /** Metadata for trajectory models (their lineage gets `@<iteration>`). */
  modelMeta: ModelMetaInput;
}

export interface LoopResult {
  compute: AttackCompute;
  curve?: CurvePoint[];
  trajectory?: string[];
}

interface AttackCheckpointState extends CheckpointState {
  attack: string;
  compute: AttackCompute;
  curve: CurvePoint[];
  trajectory: string[];
}

const STATE_DIR = 'state';
const TRAJECTORY_DIR = 'trajectory';

export function trajectoryDir(dir: string, iteration: number): string {
  return join(dir, TRAJECTORY_DIR, `iter-${String(iteration).padStart(6, '0')}`);
}

/**
 * Runs `spec.step` for `req.iterations` iterations over deterministic batches, with SGD /
 * Adam under a cosine schedule, and everything around it that the Attack contract promises.
 */
export async function runAttackLoop(ctx: RunContext, req: AttackRequest, spec: LoopSpec): Promise<LoopResult> {
  const total = req.iterations;
  const batchSize = Math.min(req.batchSize ?? DEFAULT_BATCH_SIZE, spec.poolSize);
  const optimizerConfig: OptimizerConfig = { ...DEFAULT_OPTIMIZER, ...spec.optimizer };
  const vars = spec.vars ?? trainableVariables(spec.surrogate);
  const optimizer = new Optimizer(optimizerConfig, vars);
  const span = Math.max(total, Math.round(total * (spec.cosineSpan ?? 1)));
  const order = new BatchOrder(spec.poolSize, batchSize, ctx.seed);
  const progressEvery = req.progressEvery ?? Math.max(1, Math.round(total / 200));
  const evalEvery = req.evalEvery ?? Math.max(1, Math.round(total / 20));
  const optionsKey = JSON.stringify({
    attack: spec.stage,
    total,
    batchSize,
    lr: spec.learningRate,
    span,
    optimizer: optimizerConfig,
    seed: ctx.seed,
    pool: spec.poolSize,
    ...spec.optionsKey,
  });
  const ckpt = req.checkpoint;
  const stateDir = ckpt ? join(ckpt.dir, STATE_DIR) : undefined;

  const compute: AttackCompute = { iterations: 0, forwardPasses: 0, backwardPasses: 0, seconds: 0 };
  let curve: CurvePoint[] = [];
  let trajectory: string[] = [];
  let start = 0;
  try {
    if (req.resume && stateDir && hasCheckpoint(stateDir)) {
      const state = readCheckpoint(stateDir, spec.surrogate, optimizer, optionsKey) as AttackCheckpointState;
      start = state.iteration;
      Object.assign(compute, state.compute);
      curve = state.curve ?? [];
      trajectory = (state.trajectory ?? []).filter((d) => existsSync(d));
      ctx.log?.(`resuming ${spec.stage} from the checkpoint of iteration ${start}`);
    } else {
      compute.forwardPasses += spec.setup?.forward ?? 0;
      compute.backwardPasses += spec.setup?.backward ?? 0;
    }
    const secondsBefore = compute.seconds;

    const heldOut = req.heldOut;
    const heldOutVictim = heldOut ? victimLabels(req.victim.model, heldOut) : undefined;
    const evaluateAt = (iteration: number): CurvePoint | undefined => {
      if (!heldOut || !heldOutVictim) return undefined;
      const pred = predictLabels(spec.surrogate, heldOut);
      let correct = 0;
      let agree = 0;
      for (let i = 0; i < heldOut.count; i++) {
        if (pred[i] === heldOut.labels[i]) correct++;
        if (pred[i] === heldOutVictim[i]) agree++;
      }
      const point = {
        iteration,
        fidelity: correct / Math.max(1, heldOut.count),
        agreement: agree / Math.max(1, heldOut.count),
      };
      curve = curve.filter((p) => p.iteration !== iteration);
      curve.push(point);
      return point;
    };

    const t0 = performance.now();
    const elapsed = () => (performance.now() - t0) / 1000;
    const saveState = async (iteration: number) => {
      if (!stateDir) return;
      const state: AttackCheckpointState = {
        formatVersion: 1,
        iteration,
        optimizerStep: iteration,
        optionsKey,
        attack: spec.stage,
        compute: { ...compute, seconds: secondsBefore + elapsed() },
        curve,
        trajectory,
      };
      await writeCheckpoint(stateDir, spec.surrogate, optimizer, state);
    };
    const emit = (e: ProgressEvent) => ctx.progress?.(e);

    if (start === 0 && total > 0) {
      const p = evaluateAt(0);
      if (p) emit({ stage: spec.stage, iteration: 0, total, values: { fidelity: p.fidelity, agreement: p.agreement } });
    }

    let windowStart = performance.now();
    let windowExamples = 0;
    let lastCheckpoint = start;
    for (let it = start; it < total; it++) {
      await yieldToEventLoop();
      if (ctx.signal?.aborted) {
        await saveState(it);
        throw new AuditError('CANCELLED', `${spec.stage} was cancelled at iteration ${it} of ${total}`, {
          hint: ckpt
            ? `Run it again with resume to continue from the checkpoint in ${stateDir}.`
            : 'Run it again to start over.',
        });
      }
      const lr = learningRateAt('cosine', spec.learningRate, it, span);
      const out = spec.step({
        iteration: it,
        indices: order.indices(it),
        lr,
        rng: createRng(mixSeed(ctx.seed, 0x5e9, it)),
        optimizer,
      });
      for (const [k, v] of Object.entries(out.values)) {
        if (!Number.isFinite(v)) {
          throw new AuditError(
            'TRAINING_DIVERGED',
            `${spec.stage}: ${k} became ${v} at iteration ${it + 1} (learning rate ${lr.toPrecision(3)})`,
            {
              hint:
                'Lower the learning rate or the loss weights, and check that the data are normalised and free of NaN' +
                (ckpt && lastCheckpoint > 0
                  ? `; or resume from the checkpoint of iteration ${lastCheckpoint} in ${stateDir}.`
                  : '.'),
            },
          );
        }
      }
      spec.afterUpdate?.();
      compute.iterations = it + 1;
      compute.forwardPasses += out.forward;
      compute.backwardPasses += out.backward;
      windowExamples += batchSize;
      const done = it + 1;

      const point = done % evalEvery === 0 || done === total ? evaluateAt(done) : undefined;
      if (done % progressEvery === 0 || done === total || point) {
        const now = performance.now();
        const perIt = elapsed() / (done - start);
        emit({
          stage: spec.stage,
          iteration: done,
          total,
          values: {
            ...out.values,
            lr,
            examplesPerSec: (windowExamples * 1000) / Math.max(1e-9, now - windowStart),
            ...(point ? { fidelity: point.fidelity, agreement: point.agreement } : {}),
          },
          etaSeconds: perIt * (total - done),
        });
        windowStart = now;
        windowExamples = 0;
      }
      if (ckpt && done % ckpt.every === 0) {
        if (ckpt.keepTrajectory) {
          const dir = trajectoryDir(ckpt.dir, done);
          await saveModel(spec.surrogate, dir, { ...spec.modelMeta, lineage: `${spec.modelMeta.lineage}@${done}` });
          trajectory = [...trajectory.filter((d) => d !== dir), dir];
        }
        if (done < total) {
          await saveState(done);
          lastCheckpoint = done;
        }
      }
    }
    compute.iterations = total;
    compute.seconds = secondsBefore + elapsed();
    if (ckpt && total > start) await saveState(total);
  } finally {
    optimizer.dispose();
  }
  return {
    compute,
    ...(req.heldOut ? { curve: [...curve].sort((a, b) => a.iteration - b.iteration) } : {}),
    ...(ckpt?.keepTrajectory ? { trajectory } : {}),
  };
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

/**
 * The substitute set with the labels an attack trains on: the victim's argmax labels
 * ('victim', one forward pass per image, counted as setup) or the set's own ('true', which
 * must be labels of the victim's classes).
 */
export function trainingLabels(req: AttackRequest, mode: string): { set: ImageSet; forward: number } {
  const numClasses = req.victim.meta.numClasses;
  if (mode === 'true') {
    if (req.substitute.numClasses !== numClasses) {
      throw new AuditError(
        'DATASET_MISMATCH',
        `The substitute set has ${req.substitute.numClasses} classes, the victim ${numClasses}`,
        {
          hint: "True labels only make sense for data of the victim's task (S_LTD); use the victim's labels otherwise.",
        },
      );
    }
    return { set: req.substitute, forward: 0 };
  }
  return {
    set: relabel(req.substitute, victimLabels(req.victim.model, req.substitute), numClasses),
    forward: req.substitute.count,
  };
}

/** Parameter specs shared by the fine-tuning baselines. */
export const LABELS_PARAM: ParamSpec = {
  key: 'labels',
  type: 'enum',
  default: 'victim',
  choices: ['victim', 'true'],
  help: "Labels to train on: the victim's predictions on the substitute set, or the set's own (true) labels.",
};
