/**
 * Shared mistakes: the trivial black-box baseline QuRD (AAAI 2025) compares fingerprints
 * with (its "AKH" idea), implemented from its description, not from its code. A model stolen from the victim inherits its errors: on the test
 * inputs the victim gets wrong, a derived suspect tends to give the same wrong label, while
 * an independent model errs elsewhere or answers correctly. QuRD found that this baseline
 * does as well as published fingerprints.
 *
 * extract() predicts the victim's labels on the given data (its test split), keeps a seeded
 * sample of up to `samples` of the inputs it misclassifies (0 = all of them), and stores
 * them with the victim's wrong labels and the true labels. `mistakes.agreement` is the share
 * of those inputs on which the suspect's label equals the victim's wrong label (1 for the
 * victim itself). A victim that makes fewer than MIN_MISTAKES mistakes has nothing to share
 * and is refused.
 *
 * Opt-in (`optIn`): not among the default defences, so a default calibration, verification
 * and the committed demo keep their meaning; and its metric does not count in the combined
 * verdict (`combined: false`), only in its own per-defence verdict.
 *
 * Parameters: samples = 500 (0 = every misclassified input).
 */
import type { ParamSpec, ParamValues } from '../../../src-shared/params';
import { contextRng, throwIfCancelled, type RunContext } from '../context';
import type { ImageSet } from '../datasets/types';
import { AuditError } from '../errors';
import type { LoadedModel } from '../models/io';
import { emptyFingerprintError, fingerprintArray, resolveDefenseParams, sameTaskApplicability } from './checks';
import { argmaxRows, matchingRate } from './math';
import { allImages, checkProbeData, gatherImages, labelArray, sampleFrom } from './probe-data';
import { queryModel } from './query';
import { answeringScore, responseAs, type QuerySet, type ResponseMap } from './responses';
import type { Defense, Fingerprints, MetricSpec } from './types';

export const MISTAKES_ID = 'mistakes';

/** Fewer shared-mistake inputs than this make the share too coarse to threshold. */
export const MIN_MISTAKES = 5;

const METRICS: readonly MetricSpec[] = [
  {
    id: 'mistakes.agreement',
    kind: 'similarity',
    label: 'Shared mistakes',
    shortLabel: 'Mist.',
    identity: 1,
    combined: false,
  },
];

const PARAMS: readonly ParamSpec[] = [
  {
    key: 'samples',
    type: 'integer',
    default: 500,
    min: 0,
    max: 1_000_000,
    help: 'Inputs the victim misclassifies, drawn at random and stored with the fingerprints; 0 = all of them.',
  },
];

const applicability = sameTaskApplicability(MISTAKES_ID);

async function extract(
  ctx: RunContext,
  victim: LoadedModel,
  data: ImageSet,
  given: ParamValues,
): Promise<Fingerprints> {
  const params = resolveDefenseParams({ id: MISTAKES_ID, params: PARAMS }, given);
  checkProbeData(data, victim.meta.inputShape, 'Mistakes');
  const logits = queryModel(victim.model, allImages(data), { role: 'victim', what: 'the test split', ctx });
  const pred = argmaxRows(logits.data, logits.shape[1]);
  const wrong: number[] = [];
  for (let i = 0; i < data.count; i++) if (pred[i] !== data.labels[i]) wrong.push(i);
  if (wrong.length < MIN_MISTAKES) {
    const e = emptyFingerprintError(
      'Mistakes',
      `the victim misclassifies ${wrong.length} of the ${data.count} given inputs; the baseline needs at least ${MIN_MISTAKES} mistakes to compare`,
    );
    throw new AuditError(e.code, e.message, {
      hint: 'A victim (nearly) perfect on this data has no mistakes to share: pass a larger or harder test split (without --max-test), or leave this defence out.',
    });
  }
  throwIfCancelled(ctx, 'Mistakes extraction');
  const want = params.samples as number;
  const idx = sampleFrom(wrong, want === 0 ? wrong.length : want, contextRng(ctx, 6));
  ctx.progress?.({
    stage: 'mistakes.extract',
    iteration: 1,
    total: 1,
    values: { mistakes: wrong.length, samples: idx.length },
  });
  return {
    defense: MISTAKES_ID,
    params,
    victimHash: victim.meta.contentHash,
    arrays: {
      inputs: gatherImages(data, idx),
      victimLabels: labelArray(idx.map((i) => pred[i])),
      labels: labelArray(idx.map((i) => data.labels[i])),
    },
    info: { samples: idx.length, mistakes: wrong.length, tested: data.count },
    queries: data.count,
  };
}

function querySets(fp: Fingerprints): QuerySet[] {
  return [{ id: MISTAKES_ID, inputs: fingerprintArray(fp, 'inputs', 4), needs: 'labels' }];
}

function scoreResponses(fp: Fingerprints, responses: ResponseMap): Record<string, number> {
  const victimLabels = fingerprintArray(fp, 'victimLabels', 1);
  const pred = responseAs(responses, MISTAKES_ID, 'labels', { rows: victimLabels.shape[0] });
  return { 'mistakes.agreement': matchingRate(victimLabels.data, pred.data) };
}

export const mistakesDefense: Defense = {
  id: MISTAKES_ID,
  title: 'Shared mistakes (baseline)',
  name: 'Mistakes',
  help: "Checks whether the suspect repeats the victim's mistakes on its test split. A baseline; opt-in, and it does not vote in the combined verdict.",
  paper:
    'QuRD (AAAI 2025): the "does the suspect repeat the victim\'s mistakes?" baseline, implemented from its description',
  access: 'black-box',
  optIn: true,
  metrics: METRICS,
  params: PARAMS,
  applicability,
  extract,
  querySets,
  scoreResponses,
  score: answeringScore({ id: MISTAKES_ID, name: 'Mistakes', applicability, querySets, scoreResponses }),
};
