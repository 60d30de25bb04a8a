/**
 * ModelDiff: Li et al., "ModelDiff: Testing-based DNN Similarity Comparison for Model Reuse
 * Detection", ISSTA 2021. Black-box (output probabilities only).
 *
 * K input pairs (x_k, x'_k): x_k are correctly classified samples of the given data (drawn
 * at random with the run's seed), x'_k their partners (`pairs`: PGD adversarial partners or
 * ModelDiff's mutation search, see modeldiff-pairs.ts). A model's decision distance vector
 * is DDV_k = 1 - cos(F(x_k), F(x'_k)) on its output probabilities, and
 * `modeldiff.ddv` = cos(DDV_V, DDV_S), a similarity (1 for the victim itself).
 *
 * `variant: 'eq3'` uses the RemovalNet paper's Eq. 3 instead: the DDV is the L2 distances
 * ||F(x_i) - F(x_j)|| over all pairs i < j of the 2K fingerprint outputs. The RemovalNet
 * code's plotted value, (1 - cos)/2 of such distance matrices, is a distance and not DDV;
 * not copied.
 *
 * Parameters (the papers' values in brackets):
 * - seeds: 100 pairs K [ModelDiff: 300 seeds for the search].
 * - pairs: 'pgd' [RemovalNet code, eps 0.03] | 'mutation' [ModelDiff].
 * - eps: 0.03, PGD's L-infinity budget in [0, 1]-pixel units; pgdSteps: 10.
 * - mutationEps: 0.2 [0.2], mutationIterations: 1000 [1000].
 * - variant: 'ddv' [ModelDiff] | 'eq3' [RemovalNet Eq. 3].
 */
import type { ParamSpec, ParamValues } from '../../../src-shared/params';
import { contextRng, throwIfCancelled, type RunContext } from '../context';
import type { ImageSet } from '../datasets/types';
import type { LoadedModel } from '../models/io';
import {
  emptyFingerprintError,
  fingerprintArray,
  fingerprintMismatch,
  inputMismatch,
  resolveDefenseParams,
} from './checks';
import { argmaxRows, cosineSimilarity, pairDecisionDistances, pairwiseDistances, softmaxRows } from './math';
import { mutationPartners, pgdPartners } from './modeldiff-pairs';
import { allImages, checkProbeData, concatRows, gatherImages, inputBounds, pixelUnit, sampleFrom } from './probe-data';
import { queryModel } from './query';
import { answeringScore, responseAs, type QuerySet, type ResponseMap } from './responses';
import type { Applicability, Defense, FingerprintArray, Fingerprints, MetricSpec } from './types';

export const MODELDIFF_ID = 'modeldiff';

const METRICS: readonly MetricSpec[] = [
  { id: 'modeldiff.ddv', kind: 'similarity', label: 'ModelDiff DDV', shortLabel: 'DDV', identity: 1 },
];

const PARAMS: readonly ParamSpec[] = [
  {
    key: 'seeds',
    type: 'integer',
    default: 100,
    min: 2,
    max: 10000,
    help: 'Input pairs K, from correctly classified samples drawn at random.',
  },
  {
    key: 'pairs',
    type: 'enum',
    default: 'pgd',
    choices: ['pgd', 'mutation'],
    help: "Partner of each seed: a PGD adversarial example on the victim, or ModelDiff's single-coordinate mutation search.",
  },
  {
    key: 'eps',
    type: 'number',
    default: 0.03,
    min: 0,
    max: 1,
    help: 'PGD L-infinity budget in [0, 1]-pixel units (converted with the data normalisation).',
  },
  { key: 'pgdSteps', type: 'integer', default: 10, min: 1, max: 1000, help: 'PGD steps (step size 2.5 eps / steps).' },
  {
    key: 'mutationEps',
    type: 'number',
    default: 0.2,
    min: 0,
    max: 1,
    help: 'Size of one mutation in [0, 1]-pixel units.',
  },
  {
    key: 'mutationIterations',
    type: 'integer',
    default: 1000,
    min: 1,
    max: 100000,
    help: 'Mutation search iterations (2 queries each).',
  },
  {
    key: 'variant',
    type: 'enum',
    default: 'ddv',
    choices: ['ddv', 'eq3'],
    help: "'ddv': DDV_k = 1 - cos(F(x_k), F(x'_k)) as ModelDiff defines it; 'eq3': pairwise L2 distances over all outputs (RemovalNet Eq. 3).",
  },
];

/** A model's DDV on the fingerprint outputs ([2K, classes]: the K firsts, then the K partners). */
export function decisionDistanceVector(outputs: Float32Array, classes: number, variant: string): Float32Array {
  if (variant === 'eq3') return pairwiseDistances(outputs, classes);
  const k = outputs.length / classes / 2;
  return pairDecisionDistances(outputs.subarray(0, k * classes), outputs.subarray(k * classes), classes);
}

function applicability(victim: LoadedModel, suspect: LoadedModel, fp?: Fingerprints): Applicability {
  return fingerprintMismatch(MODELDIFF_ID, victim, fp) ?? inputMismatch(victim, suspect) ?? { applicable: true };
}

/** Output probabilities, [n, classes]. */
function probabilities(model: LoadedModel, inputs: FingerprintArray, role: 'victim' | 'suspect'): FingerprintArray {
  const logits = queryModel(model.model, inputs, { role, what: 'ModelDiff fingerprints' });
  return { shape: logits.shape, data: softmaxRows(logits.data, logits.shape[1]) };
}

async function extract(
  ctx: RunContext,
  victim: LoadedModel,
  data: ImageSet,
  given: ParamValues,
): Promise<Fingerprints> {
  const params = resolveDefenseParams({ id: MODELDIFF_ID, params: PARAMS }, given);
  checkProbeData(data, victim.meta.inputShape, 'ModelDiff');
  const stage = 'modeldiff.extract';
  const classes = victim.meta.numClasses;
  ctx.progress?.({ stage, iteration: 0, total: 2 });
  const pred = argmaxRows(
    queryModel(victim.model, allImages(data), { role: 'victim', what: 'seed data', ctx }).data,
    classes,
  );
  let queries = data.count;
  const correct: number[] = [];
  for (let i = 0; i < data.count; i++) if (pred[i] === data.labels[i]) correct.push(i);
  if (correct.length < 2)
    throw emptyFingerprintError(
      'ModelDiff',
      `the victim classifies ${correct.length} of the given samples correctly; ModelDiff needs at least 2`,
    );
  const seedIndices = sampleFrom(correct, params.seeds as number, contextRng(ctx, 2));
  const seeds = gatherImages(data, seedIndices);
  throwIfCancelled(ctx, 'ModelDiff extraction');

  const bounds = inputBounds(data);
  const unit = pixelUnit(data);
  let partners: FingerprintArray;
  const info: Record<string, unknown> = { pairs: seedIndices.length };
  if (params.pairs === 'mutation') {
    const r = await mutationPartners(victim.model, seeds, classes, {
      eps: unit.map((u) => u * (params.mutationEps as number)),
      iterations: params.mutationIterations as number,
      bounds,
      rng: contextRng(ctx, 3),
      ctx,
      stage: `${stage}:mutation`,
    });
    partners = r.inputs;
    queries += r.queries;
    info.accepted = r.accepted;
  } else {
    const labels = Int32Array.from(seedIndices, (i) => data.labels[i]);
    const r = await pgdPartners(victim.model, seeds, labels, classes, {
      eps: unit.map((u) => u * (params.eps as number)),
      steps: params.pgdSteps as number,
      bounds,
      ctx,
      stage: `${stage}:pgd`,
    });
    partners = r.inputs;
    queries += r.queries;
  }
  const inputs = concatRows(seeds, partners);
  const victimOutputs = probabilities(victim, inputs, 'victim');
  queries += inputs.shape[0];
  const flipped = argmaxRows(victimOutputs.data.subarray(seedIndices.length * classes), classes).reduce(
    (p, l, k) => p + (l !== data.labels[seedIndices[k]] ? 1 : 0),
    0,
  );
  info.partnersMisclassified = flipped;
  ctx.progress?.({ stage, iteration: 2, total: 2, values: { pairs: seedIndices.length, queries } });
  return {
    defense: MODELDIFF_ID,
    params,
    victimHash: victim.meta.contentHash,
    arrays: { inputs, victimOutputs },
    info,
    queries,
  };
}

function querySets(fp: Fingerprints): QuerySet[] {
  return [{ id: MODELDIFF_ID, inputs: fingerprintArray(fp, 'inputs', 4), needs: 'probabilities' }];
}

function scoreResponses(fp: Fingerprints, responses: ResponseMap): Record<string, number> {
  const inputs = fingerprintArray(fp, 'inputs', 4);
  const victimOutputs = fingerprintArray(fp, 'victimOutputs', 2);
  if (inputs.shape[0] % 2 !== 0 || inputs.shape[0] !== victimOutputs.shape[0])
    throw emptyFingerprintError(
      'ModelDiff',
      `the fingerprint set holds ${inputs.shape[0]} inputs, not K pairs matching its ${victimOutputs.shape[0]} outputs`,
    );
  const suspectOutputs = responseAs(responses, MODELDIFF_ID, 'probabilities', { rows: inputs.shape[0] });
  const variant = String(fp.params.variant ?? 'ddv');
  const ddvV = decisionDistanceVector(victimOutputs.data, victimOutputs.shape[1], variant);
  const ddvS = decisionDistanceVector(suspectOutputs.data, suspectOutputs.shape[1], variant);
  return { 'modeldiff.ddv': cosineSimilarity(ddvV, ddvS) };
}

export const modelDiffDefense: Defense = {
  id: MODELDIFF_ID,
  title: 'ModelDiff (DDV)',
  name: 'ModelDiff',
  help: 'Compares the decision distance vectors of the models on pairs of inputs.',
  paper: 'Li et al., "ModelDiff: Testing-based DNN Similarity Comparison for Model Reuse Detection", ISSTA 2021',
  access: 'black-box',
  metrics: METRICS,
  params: PARAMS,
  applicability,
  extract,
  querySets,
  scoreResponses,
  score: answeringScore({ id: MODELDIFF_ID, name: 'ModelDiff', applicability, querySets, scoreResponses }),
};
