/**
 * WP(p): weight-pruning baseline (RemovalNet paper 4.1.2). Global magnitude pruning of a
 * share p of the kernel weights of a copy of the victim, then fine-tuning of the whole model
 * with cross-entropy on the substitute set (victim labels by default) while the pruned
 * weights are held at zero: the mask is applied once before training and again after every
 * update, so exactly round(p * N) of the N kernel weights in scope are zero at every
 * iteration and in the result.
 *
 * Scope: 'all' (default) prunes convolution and dense kernels together under one global
 * threshold; 'conv' prunes convolution kernels only, as the authors' code does (which on a
 * small CNN whose weights sit mostly in dense layers prunes little). Biases and BatchNorm
 * parameters are never pruned. Ties at the threshold are broken by position (earlier layers,
 * then flat index, first), so the count is exact.
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
  trainableVariables,
  trainingLabels,
  withSurrogate,
} from './common';
import type { Attack, AttackRequest, AttackResult } from './types';

export const PRUNE_PARAMS: readonly ParamSpec[] = [
  {
    key: 'ratio',
    type: 'number',
    default: 0.5,
    min: 0,
    max: 1,
    help: 'Share p of the kernel weights pruned (set to zero), globally by magnitude (paper: 0.5, 0.8).',
  },
  {
    key: 'scope',
    type: 'enum',
    default: 'all',
    choices: ['all', 'conv'],
    help: "'all': convolution and dense kernels; 'conv': convolution kernels only (the authors' code).",
  },
  LABELS_PARAM,
  {
    key: 'learningRate',
    type: 'number',
    default: 0.01,
    min: 0,
    help: 'SGD learning rate of the fine-tuning (cosine schedule).',
  },
  { key: 'momentum', type: 'number', default: 0.9, min: 0, max: 1, help: 'SGD momentum.' },
  {
    key: 'weightDecay',
    type: 'number',
    default: 1e-4,
    min: 0,
    help: 'L2 weight decay on every trained weight (PyTorch SGD weight_decay).',
  },
];

const CONV_CLASSES = new Set([
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'Conv2DTranspose',
  'Conv3DTranspose',
]);

/** The kernel variables pruning applies to, in layer order. */
export function prunableKernels(model: tf.LayersModel, scope: 'all' | 'conv'): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (!(CONV_CLASSES.has(cls) || (scope === 'all' && cls === 'Dense'))) continue;
    for (const w of layer.trainableWeights) {
      if (/kernel/.test(w.originalName.split('/').pop() ?? '')) out.push(w.read() as tf.Variable);
    }
  }
  return out;
}

export interface PruneMasks {
  variables: tf.Variable[];
  /** 1 = kept, 0 = pruned; one per variable. */
  masks: tf.Tensor[];
  pruned: number;
  total: number;
  /** Sets the pruned weights to zero. */
  apply: () => void;
  dispose: () => void;
}

/**
 * Global magnitude masks: the round(ratio * N) smallest |w| over all `variables` (N their
 * total size) are pruned; ties at the threshold go to the earlier positions.
 */
export function magnitudeMasks(variables: tf.Variable[], ratio: number): PruneMasks {
  const values = variables.map((v) => v.dataSync() as Float32Array);
  const total = values.reduce((s, a) => s + a.length, 0);
  const k = Math.round(ratio * total);
  const abs = new Float32Array(total);
  let off = 0;
  for (const a of values) {
    for (let i = 0; i < a.length; i++) abs[off + i] = Math.abs(a[i]);
    off += a.length;
  }
  let threshold = -Infinity;
  let below = 0;
  if (k > 0) {
    threshold = Float32Array.from(abs).sort()[k - 1];
    for (let i = 0; i < total; i++) if (abs[i] < threshold) below++;
  }
  let tiesLeft = k - below;
  off = 0;
  const masks = values.map((a, vi) => {
    const m = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const x = abs[off + i];
      let prune = x < threshold;
      if (!prune && x === threshold && tiesLeft > 0) {
        prune = true;
        tiesLeft--;
      }
      m[i] = prune ? 0 : 1;
    }
    off += a.length;
    return tf.tensor(m, variables[vi].shape);
  });
  return {
    variables,
    masks,
    pruned: k,
    total,
    apply: () => variables.forEach((v, i) => tf.tidy(() => v.assign(v.mul(masks[i])))),
    dispose: () => tf.dispose(masks),
  };
}

async function run(ctx: RunContext, req: AttackRequest): Promise<AttackResult> {
  checkRequest(req);
  throwIfCancelled(ctx, 'Weight pruning');
  const p = paramsOf(PRUNE_PARAMS, req.params);
  const ratio = num(p, 'ratio');
  const scope = str(p, 'scope') === 'conv' ? 'conv' : 'all';
  const { set, forward } = trainingLabels(req, str(p, 'labels'));
  const surrogate = await cloneModel(req.victim.model);
  const lineageStep = `prune(${ratio}${scope === 'conv' ? ',conv' : ''})`;
  const modelMeta = derivedMeta(req.victim.meta, derivedLineage(req.victim.meta, lineageStep), {
    attack: 'prune',
    iterations: req.iterations,
    batchSize: req.batchSize ?? 128,
    ...p,
  });
  let masks: PruneMasks | undefined;
  return withSurrogate(
    surrogate,
    async () => {
      const kernels = prunableKernels(surrogate, scope);
      if (kernels.length === 0) {
        throw new AuditError(
          'INVALID_ARGUMENT',
          `The model has no ${scope === 'conv' ? 'convolution' : 'convolution or dense'} kernels to prune`,
          {
            hint:
              scope === 'conv' ? "Use scope 'all' to prune dense kernels too." : 'Pruning needs Conv or Dense layers.',
          },
        );
      }
      masks = magnitudeMasks(kernels, ratio);
      masks.apply();
      const vars = trainableVariables(surrogate);
      const m = masks;
      const loop = await runAttackLoop(ctx, req, {
        stage: 'prune',
        surrogate,
        vars,
        optimizer: { name: 'sgd', momentum: num(p, 'momentum'), weightDecay: num(p, 'weightDecay') },
        learningRate: num(p, 'learningRate'),
        poolSize: set.count,
        optionsKey: { params: p },
        setup: { forward, backward: 0 },
        modelMeta,
        afterUpdate: () => m.apply(),
        step: (a) => {
          const out = crossEntropyStep(surrogate, set, vars, a);
          return { ...out, values: { ...out.values, pruned: m.pruned / m.total } };
        },
      });
      return { model: surrogate, lineageStep, modelMeta, ...loop };
    },
    () => masks?.dispose(),
  );
}

export const prune: Attack = {
  id: 'prune',
  title: 'Weight pruning WP(p) + fine-tuning',
  name: 'WP',
  help: 'Zeroes the smallest weights, then fine-tunes: a common way to disguise a copied model.',
  paper: 'Baseline of the RemovalNet paper (4.1.2); global magnitude pruning (Han et al., NeurIPS 2015)',
  role: 'modification',
  color: '#59a14f',
  secondsPerIteration: 0.1,
  defaultSeeds: [1],
  params: PRUNE_PARAMS,
  needs: { sameArchitecture: true },
  run,
};
