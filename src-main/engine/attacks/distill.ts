/**
 * Distill: feature-distillation baseline (RemovalNet paper 4.1.2; the authors' code, after
 * ModelDiff's fine-tuner). The student starts as a copy of the victim and is trained on the
 * substitute set with
 *   CE(F_S(x), y) + featureWeight * sum_b MSE(F_S^{b}(x), F_V^{b}(x))
 * over two deep blocks b (the last two split points of the victim's metadata; the one block
 * when there is only one), CE averaged over the batch, each MSE over all elements, y the
 * victim's labels by default. featureWeight 0.1, SGD momentum 0.9, weight decay 1e-4,
 * lr 1e-3 cosine.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamSpec } from '../../../src-shared/params';
import { throwIfCancelled, type RunContext } from '../context';
import { AuditError } from '../errors';
import { batchTensors } from '../training/batch';
import {
  LABELS_PARAM,
  checkRequest,
  cloneModel,
  derivedLineage,
  derivedMeta,
  gradientStep,
  num,
  paramsOf,
  runAttackLoop,
  str,
  trainableVariables,
  withSurrogate,
  withTaps,
} from './common';
import type { Attack, AttackRequest, AttackResult } from './types';

export const DISTILL_PARAMS: readonly ParamSpec[] = [
  {
    key: 'featureWeight',
    type: 'number',
    default: 0.1,
    min: 0,
    help: 'Weight of the feature MSE at the two deepest blocks.',
  },
  LABELS_PARAM,
  { key: 'learningRate', type: 'number', default: 1e-3, min: 0, help: 'SGD learning rate (cosine schedule).' },
  { key: 'momentum', type: 'number', default: 0.9, min: 0, max: 1, help: 'SGD momentum.' },
  {
    key: 'weightDecay',
    type: 'number',
    default: 1e-4,
    min: 0,
    help: 'L2 weight decay on every trained weight (PyTorch SGD weight_decay).',
  },
];

/** The two deepest blocks of the victim (or its only one). */
export function distillBlocks(blocks: readonly string[]): string[] {
  return blocks.slice(-2);
}

async function run(ctx: RunContext, req: AttackRequest): Promise<AttackResult> {
  checkRequest(req);
  throwIfCancelled(ctx, 'Distillation');
  const p = paramsOf(DISTILL_PARAMS, req.params);
  const victim = req.victim.model;
  const blocks = distillBlocks(req.victim.meta.blocks);
  for (const b of blocks) {
    if (!victim.layers.some((l) => l.name === b)) {
      throw new AuditError('UNKNOWN_BLOCK', `The victim has no layer named "${b}" (listed in its blocks)`, {
        hint: "Fix the model metadata's blocks.",
      });
    }
  }
  const useTrue = str(p, 'labels') === 'true';
  const numClasses = req.victim.meta.numClasses;
  if (useTrue && req.substitute.numClasses !== numClasses) {
    throw new AuditError(
      'DATASET_MISMATCH',
      `The substitute set has ${req.substitute.numClasses} classes, the victim ${numClasses}`,
      {
        hint: "True labels only make sense for data of the victim's task; use the victim's labels otherwise.",
      },
    );
  }
  const featureWeight = num(p, 'featureWeight');
  const victimTaps = withTaps(victim, blocks);
  const student = await cloneModel(victim);
  const lineageStep = `distill(${blocks.join(',')})`;
  const modelMeta = derivedMeta(req.victim.meta, derivedLineage(req.victim.meta, lineageStep), {
    attack: 'distill',
    iterations: req.iterations,
    batchSize: req.batchSize ?? 128,
    ...p,
  });
  return withSurrogate(student, async () => {
    const taps = withTaps(student, blocks);
    const vars = trainableVariables(student);
    const loop = await runAttackLoop(ctx, req, {
      stage: 'distill',
      surrogate: student,
      vars,
      optimizer: { name: 'sgd', momentum: num(p, 'momentum'), weightDecay: num(p, 'weightDecay') },
      learningRate: num(p, 'learningRate'),
      poolSize: req.substitute.count,
      optionsKey: { params: p, blocks },
      modelMeta,
      step: ({ indices, lr, optimizer }) => {
        const { x, y: trueLabels } = batchTensors(req.substitute, indices);
        const held: tf.Tensor[] = [];
        try {
          const teacher = tf.tidy(() => (victimTaps.apply(x) as tf.Tensor[]).slice());
          held.push(...teacher);
          const teacherFeats = teacher.slice(0, blocks.length);
          const labels = useTrue ? trueLabels : (teacher[blocks.length].argMax(-1) as tf.Tensor1D);
          if (!useTrue) held.push(labels);
          const yOneHot = tf.oneHot(labels, numClasses);
          held.push(yOneHot);
          const [loss, ce, feat] = gradientStep(optimizer, lr, vars, () => {
            const outs = taps.apply(x, { training: true }) as tf.Tensor[];
            const f = outs[blocks.length];
            const ce = tf.losses.softmaxCrossEntropy(yOneHot, f) as tf.Scalar;
            let feat: tf.Scalar = tf.scalar(0);
            teacherFeats.forEach((t, i) => {
              feat = feat.add(outs[i].sub(t).square().mean());
            });
            const loss = ce.add(feat.mul(featureWeight)) as tf.Scalar;
            return { loss, report: [loss, ce, feat] };
          });
          const n = indices.length;
          return { values: { loss, ce, feat }, forward: 2 * n, backward: n };
        } finally {
          tf.dispose([x, trueLabels, ...held]);
        }
      },
    });
    return { model: student, lineageStep, modelMeta, ...loop };
  });
}

export const distill: Attack = {
  id: 'distill',
  title: 'Feature distillation',
  name: 'Distill',
  help: "Trains a copy to imitate the victim's internal features on the attacker data.",
  paper: 'Baseline of the RemovalNet paper (4.1.2); feature distillation as in ModelDiff (Li et al., ISSTA 2021)',
  role: 'modification',
  color: '#b07aa1',
  secondsPerIteration: 0.14,
  defaultSeeds: [1],
  params: DISTILL_PARAMS,
  needs: { sameArchitecture: true },
  run,
};
