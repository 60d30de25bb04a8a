/**
 * Fidelity (RemovalNet Section 2.4, Eq. 7): how much of the victim's function a suspect
 * kept. Reported next to the verdict, never voting (`votes: false`): a stolen model and an
 * honest one can both be accurate.
 *
 * - `fidelity.accuracy`: the suspect's accuracy on labelled data (the tables' "acc").
 * - `fidelity.agreement`: the share of inputs on which suspect and victim predict the same
 *   class.
 *
 * As a Defense, extract() stores a seeded sample of `samples` labelled inputs (0 = all of
 * them) with the victim's predictions, so a suspect is measured on exactly the same inputs
 * later; `measureFidelity` measures directly on a whole data set.
 *
 * Parameters: samples = 1000 (a fingerprint file holds the images; 0 stores the whole set).
 */
import type { ParamSpec, ParamValues } from '../../../src-shared/params';
import { contextRng, type RunContext } from '../context';
import type { ImageSet } from '../datasets/types';
import type { LoadedModel } from '../models/io';
import { fingerprintArray, requireApplicable, resolveDefenseParams, sameTaskApplicability } from './checks';
import { argmaxRows, matchingRate } from './math';
import { allImages, checkProbeData, gatherImages, labelArray, sampleIndices } from './probe-data';
import { queryModel } from './query';
import { answeringScore, responseAs, type QuerySet, type ResponseMap } from './responses';
import type { Defense, FingerprintArray, Fingerprints, MetricSpec } from './types';

export const FIDELITY_ID = 'fidelity';

const METRICS: readonly MetricSpec[] = [
  { id: 'fidelity.accuracy', kind: 'similarity', label: 'Accuracy', shortLabel: 'Acc.', identity: 1, votes: false },
  {
    id: 'fidelity.agreement',
    kind: 'similarity',
    label: 'Agreement with the victim',
    shortLabel: 'Agree.',
    identity: 1,
    votes: false,
  },
];

const PARAMS: readonly ParamSpec[] = [
  {
    key: 'samples',
    type: 'integer',
    default: 1000,
    min: 0,
    max: 1_000_000,
    help: 'Labelled inputs drawn at random and stored with the fingerprints; 0 = all of the given data.',
  },
];

const applicability = sameTaskApplicability(FIDELITY_ID);

function predict(
  model: LoadedModel,
  inputs: FingerprintArray,
  role: 'victim' | 'suspect',
  ctx?: RunContext,
): Int32Array {
  const logits = queryModel(model.model, inputs, { role, what: 'fidelity data', ctx });
  return argmaxRows(logits.data, logits.shape[1]);
}

async function extract(
  ctx: RunContext,
  victim: LoadedModel,
  data: ImageSet,
  given: ParamValues,
): Promise<Fingerprints> {
  const params = resolveDefenseParams({ id: FIDELITY_ID, params: PARAMS }, given);
  checkProbeData(data, victim.meta.inputShape, 'Fidelity');
  const want = params.samples as number;
  const idx = sampleIndices(data.count, want === 0 ? data.count : want, contextRng(ctx, 5));
  const inputs = gatherImages(data, idx);
  const victimLabels = predict(victim, inputs, 'victim', ctx);
  ctx.progress?.({ stage: 'fidelity.extract', iteration: 1, total: 1, values: { samples: idx.length } });
  return {
    defense: FIDELITY_ID,
    params,
    victimHash: victim.meta.contentHash,
    arrays: {
      inputs,
      labels: labelArray(Array.from(idx, (i) => data.labels[i])),
      victimLabels: labelArray(victimLabels),
    },
    info: {
      samples: idx.length,
      victimAccuracy: matchingRate(
        Array.from(idx, (i) => data.labels[i]),
        victimLabels,
      ),
    },
    queries: idx.length,
  };
}

function querySets(fp: Fingerprints): QuerySet[] {
  return [{ id: FIDELITY_ID, inputs: fingerprintArray(fp, 'inputs', 4), needs: 'labels' }];
}

function scoreResponses(fp: Fingerprints, responses: ResponseMap): Record<string, number> {
  const labels = fingerprintArray(fp, 'labels', 1);
  const victimLabels = fingerprintArray(fp, 'victimLabels', 1);
  const pred = responseAs(responses, FIDELITY_ID, 'labels', { rows: labels.shape[0] }).data;
  return {
    'fidelity.accuracy': matchingRate(labels.data, pred),
    'fidelity.agreement': matchingRate(victimLabels.data, pred),
  };
}

/** Both fidelity figures of `suspect` on the whole of `data` (no fingerprint file). */
export function measureFidelity(victim: LoadedModel, suspect: LoadedModel, data: ImageSet): Record<string, number> {
  requireApplicable(FIDELITY_ID, applicability(victim, suspect));
  checkProbeData(data, victim.meta.inputShape, 'Fidelity');
  const inputs = allImages(data);
  const pred = predict(suspect, inputs, 'suspect');
  const reference = predict(victim, inputs, 'victim');
  return {
    'fidelity.accuracy': matchingRate(data.labels.subarray(0, data.count), pred),
    'fidelity.agreement': matchingRate(reference, pred),
  };
}

export const fidelityDefense: Defense = {
  id: FIDELITY_ID,
  title: 'Fidelity (accuracy, agreement)',
  name: 'Fidelity',
  help: "How well the suspect does the victim's task: accuracy on the test split and agreement with the victim.",
  paper: 'RemovalNet, Section 2.4 (fidelity, Eq. 7); not a fingerprinting defence: never votes',
  access: 'black-box',
  metrics: METRICS,
  params: PARAMS,
  applicability,
  extract,
  querySets,
  scoreResponses,
  score: answeringScore({ id: FIDELITY_ID, name: 'Fidelity', applicability, querySets, scoreResponses }),
};
