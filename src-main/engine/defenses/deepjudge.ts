/**
 * DeepJudge: Chen et al., "Copy, Right? A Testing Framework for Copyright Protection of
 * Deep Learning Models", IEEE S&P 2022. White-box; the RemovalNet paper (Section 2.3, Eq. 1
 * and 2) evaluates two of its metrics at one block l of the victim:
 *
 * - LOD: mean over test inputs of ||F_V^l(x) - F_S^l(x)||_2, where F^l(x) is the block's
 *   output reduced to its per-channel spatial mean (a vector of C values).
 * - LAD: per input, both channel vectors are min-max normalised ((v - min)/(max - min +
 *   1e-6)) and binarised at 0.5; the L1 difference summed over channels, averaged over
 *   inputs (the scale of the paper's tables). `ladNormalized` also divides by C (Eq. 2).
 *
 * Neurons are channels (the RemovalNet code treats width positions as neurons; not copied).
 *
 * Test inputs: `seeds` correctly classified samples of the given data with the highest
 * softmax confidence, plus one white-box test per seed from neuron fuzzing: Adam on the
 * input (lr `fuzzLr`) pushes one channel's mean activation above m times that channel's
 * maximum over the seeds, up to `fuzzSteps` steps, inputs clipped to the data range. Seed
 * s fuzzes channel order[s mod C] of a seeded permutation, so every channel gets tests.
 * A test that never reaches the goal keeps its highest-activation point (as the RemovalNet
 * code does; DeepJudge's own code drops it), and `info.reached` says how many did.
 *
 * Parameters (defaults sized for CPU runs; the papers' values in brackets):
 * - block: 1-based index into the victim's blocks, 0 = the victim's default DeepJudge
 *   block (paper: block 3 of VGG).
 * - seeds: 50 [DeepJudge: 1000 test seeds; the RemovalNet code: 100 to 1000].
 * - fuzzSteps: 100 [1000]; 0 = seeds only (the reference run's simplification).
 * - m: 3 [3]. fuzzLr: 0.1 [the RemovalNet code; DeepJudge's own 0.01].
 * - ladNormalized: false.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamSpec, ParamValues } from '../../../src-shared/params';
import type { ModelMeta } from '../../../src-shared/domain/model';
import { contextRng, throwIfCancelled, type RunContext } from '../context';
import type { ImageSet } from '../datasets/types';
import { AuditError } from '../errors';
import type { LoadedModel } from '../models/io';
import { isSplitPoint } from '../models/validate';
import { shuffledIndices } from '../rng';
import {
  emptyFingerprintError,
  fingerprintArray,
  fingerprintMismatch,
  inputMismatch,
  resolveDefenseParams,
} from './checks';
import { searchInputs } from './input-search';
import { argmaxRows, layerActivationDistance, layerOutputDistance, softmaxRows } from './math';
import { allImages, checkProbeData, concatRows, gatherImages, inputBounds } from './probe-data';
import { blockHead, channelMeans, layerOutputShape, queryModel } from './query';
import { answeringScore, responseAs, type QuerySet, type ResponseMap } from './responses';
import type { Applicability, Defense, Fingerprints, MetricSpec } from './types';

export const DEEPJUDGE_ID = 'deepjudge';

const METRICS: readonly MetricSpec[] = [
  { id: 'deepjudge.lod', kind: 'distance', label: 'DeepJudge LOD', shortLabel: 'LOD', identity: 0 },
  { id: 'deepjudge.lad', kind: 'distance', label: 'DeepJudge LAD', shortLabel: 'LAD', identity: 0 },
];

const PARAMS: readonly ParamSpec[] = [
  {
    key: 'block',
    type: 'integer',
    default: 0,
    min: 0,
    help: "Block to compare: 1-based index into the victim's blocks; 0 = the victim's default DeepJudge block (paper: block 3).",
  },
  {
    key: 'seeds',
    type: 'integer',
    default: 50,
    min: 1,
    max: 10000,
    help: 'Correctly classified, highest-confidence samples used as test seeds.',
  },
  {
    key: 'fuzzSteps',
    type: 'integer',
    default: 100,
    min: 0,
    max: 10000,
    help: 'Adam steps per white-box test (DeepJudge: up to 1000); 0 = seeds only, no generated tests.',
  },
  {
    key: 'm',
    type: 'number',
    default: 3,
    min: 0,
    help: "Fuzzing goal: a channel's mean activation above m times its maximum over the seeds.",
  },
  {
    key: 'fuzzLr',
    type: 'number',
    default: 0.1,
    min: 1e-6,
    max: 10,
    help: 'Adam learning rate on the input, in model-input units.',
  },
  {
    key: 'ladNormalized',
    type: 'boolean',
    default: false,
    help: "LAD divided by the channel count as in the paper's Eq. 2 (values in [0, 1]); default: summed over channels, the scale of the paper's tables.",
  },
];

/** The block a `block` parameter names for this victim. Throws UNKNOWN_BLOCK when out of range. */
export function deepJudgeBlock(meta: Pick<ModelMeta, 'blocks' | 'defaultDeepJudgeBlock'>, index: number): string {
  if (index === 0) return meta.defaultDeepJudgeBlock;
  const name = meta.blocks[index - 1];
  if (name === undefined) {
    throw new AuditError(
      'UNKNOWN_BLOCK',
      `DeepJudge block ${index} does not exist: the victim has ${meta.blocks.length} blocks (${meta.blocks.join(', ')})`,
      {
        hint: `Pass block=1..${meta.blocks.length}, or 0 for the victim's default (${meta.defaultDeepJudgeBlock}).`,
      },
    );
  }
  return name;
}

/** Why `model` cannot be read at `block`, or undefined when it can. */
function blockProblem(model: tf.LayersModel, block: string): string | undefined {
  if (!model.layers.some((l) => l.name === block)) return `it has no layer named "${block}"`;
  if (!isSplitPoint(model, block)) return `its layer "${block}" is not a split point`;
  return undefined;
}

function fingerprintBlock(victim: LoadedModel, fp: Fingerprints | undefined): string {
  return fp && typeof fp.info.block === 'string' ? fp.info.block : victim.meta.defaultDeepJudgeBlock;
}

function applicability(victim: LoadedModel, suspect: LoadedModel, fp?: Fingerprints): Applicability {
  const early = fingerprintMismatch(DEEPJUDGE_ID, victim, fp) ?? inputMismatch(victim, suspect);
  if (early) return early;
  const va = victim.meta.arch;
  const sa = suspect.meta.arch;
  if (va !== sa && va !== 'imported' && sa !== 'imported') {
    return {
      applicable: false,
      reason: `DeepJudge compares the same neurons of two models of one architecture; the suspect is ${sa}, the victim ${va}`,
    };
  }
  const block = fingerprintBlock(victim, fp);
  const problem = blockProblem(suspect.model, block);
  if (problem) return { applicable: false, reason: `the suspect cannot be read at block "${block}": ${problem}` };
  const vShape = layerOutputShape(victim.model, block);
  const sShape = layerOutputShape(suspect.model, block);
  if (!vShape || !sShape || vShape.join() !== sShape.join()) {
    return {
      applicable: false,
      reason: `block "${block}" has shape [${sShape ?? '?'}] in the suspect and [${vShape ?? '?'}] in the victim`,
    };
  }
  return { applicable: true };
}

async function extract(
  ctx: RunContext,
  victim: LoadedModel,
  data: ImageSet,
  given: ParamValues,
): Promise<Fingerprints> {
  const params = resolveDefenseParams({ id: DEEPJUDGE_ID, params: PARAMS }, given);
  checkProbeData(data, victim.meta.inputShape, 'DeepJudge');
  const block = deepJudgeBlock(victim.meta, params.block as number);
  const head = blockHead(victim.model, block);
  const stage = 'deepjudge.extract';
  let queries = 0;

  // Seeds: correctly classified, highest confidence first (ties: data order).
  ctx.progress?.({ stage, iteration: 0, total: 3 });
  const classes = victim.meta.numClasses;
  const logits = queryModel(victim.model, allImages(data), { role: 'victim', what: 'seed data', ctx });
  queries += data.count;
  const probs = softmaxRows(logits.data, classes);
  const pred = argmaxRows(probs, classes);
  const correct: number[] = [];
  for (let i = 0; i < data.count; i++) if (pred[i] === data.labels[i]) correct.push(i);
  if (correct.length === 0)
    throw emptyFingerprintError('DeepJudge', 'the victim classifies none of the given samples correctly');
  const confidence = (i: number): number => probs[i * classes + pred[i]];
  correct.sort((a, b) => confidence(b) - confidence(a) || a - b);
  const seedIndices = correct.slice(0, params.seeds as number);
  const seeds = gatherImages(data, seedIndices);
  const seedActs = queryModel(head, seeds, { role: 'victim', what: 'DeepJudge seeds', map: channelMeans });
  queries += seedIndices.length;
  const channels = seedActs.shape[1];
  throwIfCancelled(ctx, 'DeepJudge extraction');
  ctx.progress?.({ stage, iteration: 1, total: 3, values: { seeds: seedIndices.length } });

  let inputs = seeds;
  let activations = seedActs;
  let neurons: number[] = [];
  let reached = 0;
  const steps = params.fuzzSteps as number;
  if (steps > 0) {
    // Goal per channel: m times its maximum over the seeds.
    const goal = new Float32Array(channels).fill(-Infinity);
    for (let i = 0; i < seedIndices.length; i++)
      for (let c = 0; c < channels; c++) goal[c] = Math.max(goal[c], seedActs.data[i * channels + c]);
    for (let c = 0; c < channels; c++) goal[c] *= params.m as number;
    const order = shuffledIndices(channels, contextRng(ctx, 1));
    neurons = seedIndices.map((_, s) => order[s % channels]);
    const targets = Float32Array.from(neurons, (c) => goal[c]);
    const search = await searchInputs({
      start: seeds,
      bounds: inputBounds(data),
      lr: params.fuzzLr as number,
      steps,
      ctx,
      stage: `${stage}:fuzz`,
      what: 'DeepJudge neuron fuzzing',
      objective: (x, offset) => {
        const b = x.shape[0];
        const acts = channelMeans(head.apply(x, { training: false }) as tf.Tensor);
        const pick = tf.oneHot(tf.tensor1d(neurons.slice(offset, offset + b), 'int32'), channels);
        const value = acts.mul(pick).sum(1) as tf.Tensor1D;
        return {
          loss: value.neg(),
          reached: value.greater(tf.tensor1d(targets.slice(offset, offset + b))).cast('float32') as tf.Tensor1D,
        };
      },
    });
    queries += search.queries;
    reached = search.reached.reduce((p, r) => p + r, 0);
    const testActs = queryModel(head, search.inputs, { role: 'victim', what: 'DeepJudge tests', map: channelMeans });
    queries += seedIndices.length;
    inputs = concatRows(seeds, search.inputs);
    activations = concatRows(seedActs, testActs);
  }
  ctx.progress?.({ stage, iteration: 3, total: 3, values: { inputs: inputs.shape[0], reached, queries } });

  return {
    defense: DEEPJUDGE_ID,
    params,
    victimHash: victim.meta.contentHash,
    arrays: { inputs, activations },
    info: {
      block,
      channels,
      latentShape: layerOutputShape(victim.model, block),
      seeds: seedIndices.length,
      tests: inputs.shape[0] - seedIndices.length,
      reached,
      neurons,
    },
    queries,
  };
}

function querySets(fp: Fingerprints): QuerySet[] {
  const block = typeof fp.info.block === 'string' ? fp.info.block : undefined;
  if (!block) throw emptyFingerprintError('DeepJudge', 'the fingerprint set names no block');
  return [{ id: DEEPJUDGE_ID, inputs: fingerprintArray(fp, 'inputs', 4), needs: 'activations', block }];
}

function scoreResponses(fp: Fingerprints, responses: ResponseMap): Record<string, number> {
  const victimActs = fingerprintArray(fp, 'activations', 2);
  const channels = victimActs.shape[1];
  const acts = responseAs(responses, DEEPJUDGE_ID, 'activations', { rows: victimActs.shape[0], width: channels });
  return {
    'deepjudge.lod': layerOutputDistance(victimActs.data, acts.data, channels),
    'deepjudge.lad': layerActivationDistance(victimActs.data, acts.data, channels, fp.params.ladNormalized === true),
  };
}

async function score(
  ctx: RunContext,
  victim: LoadedModel,
  suspect: LoadedModel,
  fp: Fingerprints,
): Promise<Record<string, number>> {
  const block = fingerprintBlock(victim, fp);
  const problem =
    fingerprintMismatch(DEEPJUDGE_ID, victim, fp) === undefined ? blockProblem(suspect.model, block) : undefined;
  if (problem) {
    throw new AuditError('UNKNOWN_BLOCK', `DeepJudge cannot read the suspect at block "${block}": ${problem}`, {
      hint: "DeepJudge needs a suspect of the victim's architecture; leave it out of DeepJudge for this suspect.",
    });
  }
  return scoreAnswering(ctx, victim, suspect, fp);
}

const scoreAnswering = answeringScore({
  id: DEEPJUDGE_ID,
  name: 'DeepJudge',
  applicability,
  querySets,
  scoreResponses,
});

export const deepJudgeDefense: Defense = {
  id: DEEPJUDGE_ID,
  title: 'DeepJudge (LOD, LAD)',
  name: 'DeepJudge',
  help: 'Compares how the two models respond inside (layer outputs) and at the output on probing inputs.',
  paper:
    'Chen et al., "Copy, Right? A Testing Framework for Copyright Protection of Deep Learning Models", IEEE S&P 2022',
  access: 'white-box',
  metrics: METRICS,
  params: PARAMS,
  applicability,
  extract,
  querySets,
  scoreResponses,
  score,
};
