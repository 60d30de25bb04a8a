/**
 * Scoring split in two (issue 19): the queries a suspect must answer, and the metrics
 * computed from its answers alone. A defence that declares both (`querySets`,
 * `scoreResponses`) can be scored from a model's weights (the answers are computed here),
 * from the recorded answers of an API (`verify --responses`), and re-checked from an
 * evidence bundle without any model (`evidence check`). The model route goes through the
 * same `scoreResponses`, so the three routes agree by construction.
 *
 * What an answer holds, richest first: `logits` (pre-softmax scores), `probabilities`, or
 * `labels` (one class index per input). A richer answer serves a metric that needs a poorer
 * one (softmax, argmax); never the reverse. `activations` (a block's per-channel means) is a
 * white-box answer that only a model's weights give.
 */
import type * as tf from '@tensorflow/tfjs';
import { throwIfCancelled, type RunContext } from '../context';
import { AuditError } from '../errors';
import { argmaxRows, softmaxRows } from './math';
import { blockHead, channelMeans, queryModel, type ModelRole } from './query';
import { requireApplicable } from './checks';
import type { Defense, FingerprintArray, Fingerprints } from './types';

export const RESPONSE_OUTPUTS = ['activations', 'logits', 'probabilities', 'labels'] as const;
export type ResponseOutput = (typeof RESPONSE_OUTPUTS)[number];

/** The black-box answers, richest first: each can be derived from the ones before it. */
const BLACK_BOX_ORDER: readonly ResponseOutput[] = ['logits', 'probabilities', 'labels'];

/** Inputs a model must answer for one defence (or for fidelity). */
export interface QuerySet {
  /** Stable id, the defence's id ('zest', 'modeldiff', ...) or 'fidelity'. */
  id: string;
  /** [n, h, w, c] in the model's input units (normalised as the victim expects). */
  inputs: FingerprintArray;
  /** The least the metrics need. */
  needs: ResponseOutput;
  /** For `activations`: the layer whose per-channel means are answered. */
  block?: string;
  /** Rows per model.predict call on the model route (kept so the model route's numbers never move). */
  predictBatch?: number;
}

/** One model's answers to one query set. */
export interface ModelResponse {
  output: ResponseOutput;
  /** [n] for labels, [n, width] otherwise. */
  data: FingerprintArray;
}

export type ResponseMap = Record<string, ModelResponse>;

/**
 * Answers a query set with a model: a block's channel means for `activations`, logits for
 * any black-box need (the richest answer, so every metric can be recomputed from it).
 */
export function answerWithModel(
  model: tf.LayersModel,
  set: QuerySet,
  role: ModelRole,
  ctx?: RunContext,
): ModelResponse {
  const what = `${set.id} queries`;
  if (set.needs === 'activations') {
    if (!set.block) throw new Error(`query set ${set.id} needs activations but names no block`);
    return {
      output: 'activations',
      data: queryModel(blockHead(model, set.block), set.inputs, { role, what, map: channelMeans, ctx }),
    };
  }
  const logits = queryModel(model, set.inputs, {
    role,
    what,
    ctx,
    ...(set.predictBatch ? { batchSize: set.predictBatch, predictBatch: set.predictBatch } : {}),
  });
  if (logits.shape.length !== 2) {
    throw new AuditError(
      'MODEL_NOT_CLASSIFIER',
      `The ${role} model outputs shape [${logits.shape}], the ${set.id} metrics need [batch, classes] logits`,
      { hint: 'Use an image classifier with one logits output.' },
    );
  }
  return { output: 'logits', data: logits };
}

/** Answers every query set with one model. */
export function answerAllWithModel(
  model: tf.LayersModel,
  sets: readonly QuerySet[],
  role: ModelRole,
  ctx?: RunContext,
): ResponseMap {
  return Object.fromEntries(sets.map((s) => [s.id, answerWithModel(model, s, role, ctx)]));
}

/** Why `given` cannot serve `needs`, or undefined when it can. */
export function cannotServe(given: ResponseOutput, needs: ResponseOutput): string | undefined {
  if (given === needs) return undefined;
  if (needs === 'activations') return "it needs a block's activations, which only the suspect's weights give";
  if (given === 'activations') return `it needs ${needs}, the answers hold activations`;
  return BLACK_BOX_ORDER.indexOf(given) < BLACK_BOX_ORDER.indexOf(needs)
    ? undefined
    : `it needs ${needs}; the answers hold ${given} only`;
}

/**
 * The answer to `set` in the form `needs`: softmax of logits, argmax of logits or
 * probabilities. Throws NOT_APPLICABLE (with the reason) when the answer is poorer, and
 * RESPONSES_INVALID when its row count or width does not fit.
 */
export function responseAs(
  responses: ResponseMap,
  setId: string,
  needs: ResponseOutput,
  expect: { rows: number; width?: number },
): FingerprintArray {
  const r = responses[setId];
  if (!r) {
    throw new AuditError('NOT_APPLICABLE', `no answers to the ${setId} queries`, {
      hint: 'Answer every query set of the export (ownership-audit queries export lists them).',
    });
  }
  const why = cannotServe(r.output, needs);
  if (why) throw new AuditError('NOT_APPLICABLE', `${setId}: ${why}`, { hint: 'This metric does not vote.' });
  const rows = r.data.shape[0] ?? 0;
  const width = r.output === 'labels' ? 1 : (r.data.shape[1] ?? 0);
  if (rows !== expect.rows || (r.output !== 'labels' && r.data.shape.length !== 2) || !(width > 0)) {
    throw new AuditError(
      'RESPONSES_INVALID',
      `The ${setId} answers have shape [${r.data.shape}]; the queries need ${expect.rows} rows${r.output === 'labels' ? '' : ' of scores'}`,
      { hint: 'Answer every query of the set, in the order of the export.' },
    );
  }
  if (expect.width !== undefined && r.output !== 'labels' && width !== expect.width) {
    throw new AuditError(
      'RESPONSES_INVALID',
      `The ${setId} answers have ${width} values per row, the victim ${expect.width}`,
      { hint: 'The answers must be one score per class of the victim.' },
    );
  }
  if (r.output === needs) return r.data;
  if (needs === 'probabilities') return { shape: r.data.shape, data: softmaxRows(r.data.data, width) };
  // labels from logits or probabilities
  const labels = argmaxRows(r.data.data, width);
  return { shape: [rows], data: Float32Array.from(labels) };
}

/** The model route: the suspect answers the defence's query sets, then `scoreResponses` scores. */
export function scoreWithModel(
  defense: {
    querySets: (fp: Fingerprints) => QuerySet[];
    scoreResponses: (fp: Fingerprints, r: ResponseMap) => Record<string, number>;
  },
  suspect: tf.LayersModel,
  fp: Fingerprints,
  ctx?: RunContext,
): Record<string, number> {
  return defense.scoreResponses(fp, answerAllWithModel(suspect, defense.querySets(fp), 'suspect', ctx));
}

/**
 * The `score` of a defence that declares its queries: the suspect must fit (applicability,
 * with the same reason), it answers the query sets, and `scoreResponses` scores; progress
 * reports the queries spent.
 */
export function answeringScore(d: {
  id: string;
  name: string;
  applicability: Defense['applicability'];
  querySets: (fp: Fingerprints) => QuerySet[];
  scoreResponses: (fp: Fingerprints, r: ResponseMap) => Record<string, number>;
}): Defense['score'] {
  return async (ctx, victim, suspect, fp) => {
    requireApplicable(d.id, d.applicability(victim, suspect, fp));
    throwIfCancelled(ctx, `${d.name} scoring`);
    const sets = d.querySets(fp);
    const result = d.scoreResponses(fp, answerAllWithModel(suspect.model, sets, 'suspect', ctx));
    const queries = sets.reduce((n, s) => n + (s.inputs.shape[0] ?? 0), 0);
    ctx.progress?.({ stage: `${d.id}.score`, iteration: 1, total: 1, values: { queries } });
    return result;
  };
}
