/**
 * FT(r): fine-tuning baseline (RemovalNet paper 4.1.2; the authors' code, after ModelDiff).
 * A copy of the victim is trained with cross-entropy on the substitute set (victim labels by
 * default) with only the LAST share r of its parameter tensors trainable, counted as the
 * code counts them: `int(len(list(model.parameters())) * r)` tensors from the end, where a
 * parameter tensor is a trainable weight (kernel, bias, BatchNorm gamma or beta; BatchNorm
 * moving statistics are buffers, not parameters). SGD momentum 0.9, weight decay 1e-4,
 * lr 0.01 cosine.
 *
 * Frozen layers stay bit-identical, BatchNorm moving statistics included: PyTorch's
 * model.train() would update a frozen BatchNorm's running statistics, which changes a
 * "frozen" layer; here a layer none of whose parameter tensors is trained keeps every weight
 * (its statistics are restored after each step). A layer with some of its tensors trained
 * (possible at the boundary) updates its statistics as in training.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamSpec } from '../../../src-shared/params';
import { throwIfCancelled, type RunContext } from '../context';
import { AuditError } from '../errors';
import {
  LABELS_PARAM,
  checkRequest,
  cloneModel,
  crossEntropyStep,
  derivedLineage,
  derivedMeta,
  num,
  paramsOf,
  runAttackLoop,
  str,
  trainingLabels,
  withSurrogate,
} from './common';
import type { Attack, AttackRequest, AttackResult } from './types';

export const FINETUNE_PARAMS: readonly ParamSpec[] = [
  {
    key: 'ratio',
    type: 'number',
    default: 0.5,
    min: 0,
    max: 1,
    help: 'Share r of the parameter tensors, counted from the output, that are fine-tuned (paper: 0.5, 0.8).',
  },
  LABELS_PARAM,
  { key: 'learningRate', type: 'number', default: 0.01, min: 0, help: 'SGD learning rate (cosine schedule).' },
  { key: 'momentum', type: 'number', default: 0.9, min: 0, max: 1, help: 'SGD momentum (0 for plain SGD).' },
  {
    key: 'weightDecay',
    type: 'number',
    default: 1e-4,
    min: 0,
    help: 'L2 weight decay on every trained weight (PyTorch SGD weight_decay).',
  },
];

export interface FreezePlan {
  /** Variables that are trained. */
  tuned: tf.Variable[];
  /** Names of layers with no trained parameter tensor. */
  frozenLayers: string[];
  /** Restores the frozen layers' non-trainable weights (BatchNorm statistics); call after each step. */
  restore: () => void;
  dispose: () => void;
}

/** Trains the last floor(count * ratio) parameter tensors of `model`, freezes the rest. */
export function freezeAllButLast(model: tf.LayersModel, ratio: number): FreezePlan {
  const params = model.trainableWeights;
  const count = Math.floor(params.length * ratio);
  if (count < 1) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `FT(${ratio}) trains no parameter tensor: the model has ${params.length}`,
      {
        hint: `Use a ratio of at least ${(1 / Math.max(1, params.length)).toFixed(3)}.`,
      },
    );
  }
  const tunedWeights = params.slice(params.length - count);
  const tunedSet = new Set<unknown>(tunedWeights);
  const frozen = model.layers.filter(
    (l) => l.trainableWeights.length > 0 && !l.trainableWeights.some((w) => tunedSet.has(w)),
  );
  const kept = frozen.flatMap((l) => l.nonTrainableWeights.map((w) => ({ w, value: tf.clone(w.read()) })));
  return {
    tuned: tunedWeights.map((w) => w.read() as tf.Variable),
    frozenLayers: frozen.map((l) => l.name),
    restore: () => kept.forEach(({ w, value }) => w.write(value)),
    dispose: () => kept.forEach(({ value }) => value.dispose()),
  };
}

async function run(ctx: RunContext, req: AttackRequest): Promise<AttackResult> {
  checkRequest(req);
  throwIfCancelled(ctx, 'Fine-tuning');
  const p = paramsOf(FINETUNE_PARAMS, req.params);
  const ratio = num(p, 'ratio');
  const { set, forward } = trainingLabels(req, str(p, 'labels'));
  const surrogate = await cloneModel(req.victim.model);
  const lineageStep = `finetune(${ratio})`;
  const modelMeta = derivedMeta(req.victim.meta, derivedLineage(req.victim.meta, lineageStep), {
    attack: 'finetune',
    iterations: req.iterations,
    batchSize: req.batchSize ?? 128,
    ...p,
  });
  let plan: FreezePlan | undefined;
  return withSurrogate(
    surrogate,
    async () => {
      plan = freezeAllButLast(surrogate, ratio);
      const vars = plan.tuned;
      const restore = plan.restore;
      const loop = await runAttackLoop(ctx, req, {
        stage: 'finetune',
        surrogate,
        vars,
        optimizer: { name: 'sgd', momentum: num(p, 'momentum'), weightDecay: num(p, 'weightDecay') },
        learningRate: num(p, 'learningRate'),
        poolSize: set.count,
        optionsKey: { params: p },
        setup: { forward, backward: 0 },
        modelMeta,
        afterUpdate: restore,
        step: (a) => crossEntropyStep(surrogate, set, vars, a),
      });
      return { model: surrogate, lineageStep, modelMeta, ...loop };
    },
    () => plan?.dispose(),
  );
}

export const fineTune: Attack = {
  id: 'finetune',
  title: 'Fine-tuning FT(r)',
  name: 'FT',
  help: 'Retrains the last layers on the attacker data: the cheapest way to change a stolen model.',
  paper: 'Baseline of the RemovalNet paper (4.1.2); fine-tuning as in ModelDiff (Li et al., ISSTA 2021)',
  role: 'modification',
  color: '#4e79a7',
  secondsPerIteration: 0.035,
  defaultSeeds: [1],
  params: FINETUNE_PARAMS,
  needs: { sameArchitecture: true },
  run,
};
