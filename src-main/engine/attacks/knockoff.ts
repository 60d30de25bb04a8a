/**
 * KnockoffNets (Orekondy, Schiele & Fritz, "Knockoff Nets: Stealing Functionality of
 * Black-Box Models", CVPR 2019), the model-stealing baseline of the RemovalNet paper's
 * efficiency comparison (Section 4.4.2, Fig. 7): a FRESH model, trained only on the victim's
 * answers to queries.
 *
 * Strategy 'random' (the only one here): the query set is `budget` distinct substitute
 * images drawn uniformly at random (0 = all of them); each is sent to the victim once
 * (counted as setup forward passes) and its softmax answer kept; the knockoff is then trained
 * with soft-label cross-entropy -sum_c p_V(c|x) log softmax(F_S(x))_c on that transfer set
 * (or hard labels with answers 'labels'). With a held-out set the learning curve (fidelity
 * against iterations) is recorded, which is what Fig. 7 plots. The adaptive (bandit)
 * strategy of the paper needs a hierarchy of query-set labels that substitute sets here do
 * not have; it is omitted.
 *
 * Defaults follow the KnockoffNets code: SGD lr 0.01, momentum 0.5, weight decay 5e-4
 * (cosine schedule here instead of its step decay). The architecture is the victim's,
 * freshly initialised, or a zoo architecture with its default options.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamSpec } from '../../../src-shared/params';
import { throwIfCancelled, type RunContext } from '../context';
import { subset } from '../datasets/splits';
import type { ImageSet } from '../datasets/types';
import type { ModelMetaInput } from '../models/io';
import { ARCHITECTURES, buildModel } from '../models/zoo';
import { createRng, shuffledIndices } from '../rng';
import { batchTensors, ranges } from '../training/batch';
import {
  checkRequest,
  derivedLineage,
  derivedMeta,
  freshModel,
  gradientStep,
  mixSeed,
  num,
  paramsOf,
  runAttackLoop,
  str,
  trainableVariables,
  withSurrogate,
} from './common';
import type { Attack, AttackRequest, AttackResult } from './types';

export const KNOCKOFF_PARAMS: readonly ParamSpec[] = [
  {
    key: 'budget',
    type: 'integer',
    default: 0,
    min: 0,
    help: 'Query budget: distinct substitute images sent to the victim, drawn at random (0 = every image).',
  },
  {
    key: 'answers',
    type: 'enum',
    default: 'probs',
    choices: ['probs', 'labels'],
    help: 'What the victim returns: softmax probabilities, or only the top-1 label.',
  },
  {
    key: 'arch',
    type: 'enum',
    default: 'victim',
    choices: ['victim', ...ARCHITECTURES.map((a) => a.name)],
    help: "The knockoff's architecture: the victim's (freshly initialised) or a zoo architecture with default options.",
  },
  { key: 'learningRate', type: 'number', default: 0.01, min: 0, help: 'SGD learning rate (cosine schedule).' },
  { key: 'momentum', type: 'number', default: 0.5, min: 0, max: 1, help: 'SGD momentum (KnockoffNets code: 0.5).' },
  {
    key: 'weightDecay',
    type: 'number',
    default: 5e-4,
    min: 0,
    help: 'L2 weight decay on every trained weight (PyTorch SGD weight_decay).',
  },
];

/** Victim answers over a set: softmax rows, or one-hot argmax rows. */
export function victimAnswers(
  victim: tf.LayersModel,
  set: ImageSet,
  mode: 'probs' | 'labels',
  batchSize = 256,
): Float32Array {
  let out: Float32Array | undefined;
  let k = 0;
  for (const idx of ranges(set.count, batchSize)) {
    const { x, y } = batchTensors(set, idx);
    const probs: tf.Tensor2D = tf.tidy(() => {
      const logits = victim.predict(x) as tf.Tensor2D;
      return mode === 'probs'
        ? tf.softmax(logits)
        : (tf.oneHot(logits.argMax(-1) as tf.Tensor1D, logits.shape[1]).cast('float32') as tf.Tensor2D);
    });
    k = probs.shape[1];
    out ??= new Float32Array(set.count * k);
    out.set(probs.dataSync() as Float32Array, idx[0] * k);
    tf.dispose([x, y, probs]);
  }
  return out ?? new Float32Array(0);
}

async function run(ctx: RunContext, req: AttackRequest): Promise<AttackResult> {
  checkRequest(req);
  throwIfCancelled(ctx, 'KnockoffNets');
  const p = paramsOf(KNOCKOFF_PARAMS, req.params);
  const meta = req.victim.meta;
  const budgetParam = num(p, 'budget');
  const budget = budgetParam > 0 ? Math.min(budgetParam, req.substitute.count) : req.substitute.count;
  const mode = str(p, 'answers') === 'labels' ? 'labels' : 'probs';
  const arch = str(p, 'arch');

  // Random strategy: a seeded uniform draw of distinct queries, kept in the set's order.
  const picked = shuffledIndices(req.substitute.count, createRng(mixSeed(ctx.seed, 0x9e7)))
    .subarray(0, budget)
    .sort();
  const transfer = budget === req.substitute.count ? req.substitute : subset(req.substitute, picked);
  const answers = victimAnswers(req.victim.model, transfer, mode);
  const numClasses = meta.numClasses;

  const modelSeed = mixSeed(ctx.seed, 0x6b6e);
  const lineageStep = `knockoff(random,${budget}${mode === 'labels' ? ',labels' : ''}${arch !== 'victim' ? `,${arch}` : ''})`;
  const lineage = derivedLineage(meta, lineageStep);
  const training = { attack: 'knockoff', iterations: req.iterations, batchSize: req.batchSize ?? 128, ...p, budget };
  let model: tf.LayersModel;
  let modelMeta: ModelMetaInput;
  if (arch === 'victim') {
    model = await freshModel(meta, req.victim.model, modelSeed);
    modelMeta = derivedMeta(meta, lineage, training);
  } else {
    const built = buildModel(arch, { inputShape: meta.inputShape, numClasses, seed: modelSeed });
    model = built.model;
    modelMeta = {
      ...derivedMeta(meta, lineage, training),
      arch,
      archConfig: { ...built.config },
      blocks: built.blocks,
      defaultAttackBlock: built.defaultAttackBlock,
      defaultDeepJudgeBlock: built.defaultDeepJudgeBlock,
    };
  }
  const knockoff = model;
  return withSurrogate(knockoff, async () => {
    const vars = trainableVariables(knockoff);
    const loop = await runAttackLoop(ctx, req, {
      stage: 'knockoff',
      surrogate: knockoff,
      vars,
      optimizer: { name: 'sgd', momentum: num(p, 'momentum'), weightDecay: num(p, 'weightDecay') },
      learningRate: num(p, 'learningRate'),
      poolSize: transfer.count,
      optionsKey: { params: p, budget },
      setup: { forward: budget, backward: 0 },
      modelMeta,
      step: ({ indices, lr, optimizer }) => {
        const n = indices.length;
        const { x, y } = batchTensors(transfer, indices);
        const rows = new Float32Array(n * numClasses);
        for (let i = 0; i < n; i++)
          rows.set(answers.subarray(indices[i] * numClasses, (indices[i] + 1) * numClasses), i * numClasses);
        const target = tf.tensor2d(rows, [n, numClasses]);
        try {
          const [loss, agreement] = gradientStep(optimizer, lr, vars, () => {
            const f = knockoff.apply(x, { training: true }) as tf.Tensor2D;
            // Soft-label cross-entropy, averaged over the batch.
            const loss = target.mul(tf.logSoftmax(f)).sum().div(-n) as tf.Scalar;
            return { loss, report: [loss, f.argMax(-1).equal(target.argMax(-1)).cast('float32').mean()] };
          });
          return { values: { loss, batchAgreement: agreement }, forward: n, backward: n };
        } finally {
          tf.dispose([x, y, target]);
        }
      },
    });
    return { model: knockoff, lineageStep, modelMeta, ...loop };
  });
}

export const knockoff: Attack = {
  id: 'knockoff',
  title: 'KnockoffNets (model stealing, random strategy)',
  name: 'KnockoffNets',
  help: 'Steals the model through its answers only (black-box queries) and trains a new one on them.',
  paper: 'Orekondy, Schiele & Fritz, "Knockoff Nets: Stealing Functionality of Black-Box Models", CVPR 2019',
  role: 'stealing',
  color: '#f28e2b',
  secondsPerIteration: 0.12,
  defaultSeeds: [1],
  params: KNOCKOFF_PARAMS,
  needs: {},
  run,
};
