/**
 * Negative model: the victim's architecture trained from scratch, with its own seed, on
 * labelled data (the substitute set's TRUE labels; the paper uses the victim's full training
 * data). Not derived from the victim: nothing of its weights is used, and its lineage does
 * not descend from the victim's. The Negative row of the paper's tables.
 *
 * SEEDS. The `seed` parameter seeds the initialisation (the batch order follows ctx.seed).
 * Callers MUST pass seeds outside the range used for the calibration reference models that
 * set tau: a reference that sets tau would flag itself, so the Negative row's suspects must
 * be models of their own. Calibration references use seeds REFERENCE_SEED_BASE + i
 * (calibration/calibrate.ts: 10000, 10001, ...; `runAttack` refuses [10000, 11000)); the
 * default 1000003 lies outside. When several negatives are made, pass distinct seeds that no
 * reference uses.
 *
 * `jitter` reproduces the paper's "slight random noise to the training iterations and
 * learning rates for each group of random seeds": both are scaled by 1 + jitter * u with u
 * uniform in [-1, 1], drawn from the seed (0 = off).
 */
import type { ParamSpec } from '../../../src-shared/params';
import { throwIfCancelled, type RunContext } from '../context';
import { createRng } from '../rng';
import {
  checkRequest,
  crossEntropyStep,
  derivedMeta,
  freshModel,
  mixSeed,
  num,
  paramsOf,
  runAttackLoop,
  trainableVariables,
  trainingLabels,
  withSurrogate,
} from './common';
import type { Attack, AttackRequest, AttackResult } from './types';

export const NEGATIVE_PARAMS: readonly ParamSpec[] = [
  {
    key: 'seed',
    type: 'integer',
    default: 1000003,
    min: 0,
    help: 'Initialisation seed. Must lie outside the seeds of the calibration reference models (a reference that sets tau would flag itself).',
  },
  {
    key: 'learningRate',
    type: 'number',
    default: 0.05,
    min: 0,
    help: 'SGD learning rate (cosine schedule); the default is the training default of victims.',
  },
  { key: 'momentum', type: 'number', default: 0.9, min: 0, max: 1, help: 'SGD momentum.' },
  {
    key: 'weightDecay',
    type: 'number',
    default: 5e-4,
    min: 0,
    help: 'L2 weight decay on every trained weight (PyTorch SGD weight_decay).',
  },
  {
    key: 'jitter',
    type: 'number',
    default: 0,
    min: 0,
    max: 0.5,
    help: 'Relative random noise on iterations and learning rate, drawn from the seed (the paper adds slight noise per seed).',
  },
];

async function run(ctx: RunContext, req: AttackRequest): Promise<AttackResult> {
  checkRequest(req);
  throwIfCancelled(ctx, 'Negative model training');
  const p = paramsOf(NEGATIVE_PARAMS, req.params);
  const seed = num(p, 'seed');
  const jitter = num(p, 'jitter');
  const { set } = trainingLabels(req, 'true');
  const noise = createRng(mixSeed(seed, 0x3e6a7));
  const iterations =
    jitter > 0 ? Math.max(1, Math.round(req.iterations * (1 + jitter * (2 * noise.next() - 1)))) : req.iterations;
  const learningRate = num(p, 'learningRate') * (jitter > 0 ? 1 + jitter * (2 * noise.next() - 1) : 1);
  const meta = req.victim.meta;
  const model = await freshModel(meta, req.victim.model, seed);
  const lineageStep = `negative(${meta.arch},seed=${seed})`;
  // Its own lineage and seed; the victim's data-set label does not carry over (it trained on the substitute set).
  const { dataset: _victimDataset, ...base } = derivedMeta(meta, lineageStep, {
    attack: 'negative',
    iterations,
    batchSize: req.batchSize ?? 128,
    ...p,
    learningRate,
  });
  const modelMeta = { ...base, seed };
  return withSurrogate(model, async () => {
    const vars = trainableVariables(model);
    const loop = await runAttackLoop(
      ctx,
      { ...req, iterations },
      {
        stage: 'negative',
        surrogate: model,
        vars,
        optimizer: { name: 'sgd', momentum: num(p, 'momentum'), weightDecay: num(p, 'weightDecay') },
        learningRate,
        poolSize: set.count,
        optionsKey: { params: p },
        modelMeta,
        step: (a) => crossEntropyStep(model, set, vars, a),
      },
    );
    return { model, lineageStep, modelMeta, ...loop };
  });
}

export const negative: Attack = {
  id: 'negative',
  title: 'Negative model (independent training)',
  name: 'Negative',
  help: "An independently trained model (not derived from the victim): the verdict must say 'not derived'.",
  paper: 'Negative models of the RemovalNet paper (4.1.2): same architecture, other seed, trained from scratch',
  role: 'independent',
  color: '#79706e',
  secondsPerIteration: 0.1,
  defaultSeeds: [777],
  params: NEGATIVE_PARAMS,
  needs: { sameArchitecture: true, labels: true },
  run,
};
