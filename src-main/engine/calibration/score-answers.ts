/**
 * From a suspect's answers to metric values, taus and the verdict: the part of `verify`
 * that needs no model. `verify` (weights or recorded answers) and `evidence check` (a
 * bundle) both end here, so the three routes compute every figure the same way.
 */
import type { Defense, Fingerprints } from '../defenses/types';
import { argmaxRows, matchingRate } from '../defenses/math';
import { responseAs, type ModelResponse, type QuerySet, type ResponseMap } from '../defenses/responses';
import type { FingerprintArray } from '../defenses/types';
import { falseClaims } from '../verdict/separability';
import type { CalibrationMetric } from './calibration-file';
import { isAuditError } from '../errors';
import {
  applyThresholds,
  decide,
  defenseVerdicts,
  type DefenseVerdict,
  type MetricScore,
  type Verdict,
  type VoteRule,
} from '../verdict/verdict';

/** The query set fidelity is measured on: the test split, labels needed. */
export const FIDELITY_SET = 'fidelity';

/** A verdict that says when too few metrics could vote for it to mean anything. */
export interface VerifyVerdict extends Verdict {
  /**
   * Fewer than two metrics voted (e.g. a suspect that answers labels only) where the
   * calibration has two or more: no claim either way, and `derived` is false.
   */
  insufficientEvidence: boolean;
}

export interface DefenseSet {
  defense: Defense;
  fingerprints: Fingerprints;
}

/** The query sets of every defence that has them, then fidelity's when test inputs are given. */
export function verificationQuerySets(sets: readonly DefenseSet[], testInputs?: FingerprintArray): QuerySet[] {
  const out: QuerySet[] = [];
  for (const { defense, fingerprints } of sets) if (defense.querySets) out.push(...defense.querySets(fingerprints));
  if (testInputs) out.push({ id: FIDELITY_SET, inputs: testInputs, needs: 'labels' });
  return out;
}

/**
 * Every metric of every defence from the suspect's answers. A defence in `notApplicable`
 * (e.g. another architecture, found from the suspect's model) and a metric whose answers are
 * too poor (labels where probabilities are needed) get no value and a reason; other errors
 * propagate.
 */
export function metricsFromAnswers(
  sets: readonly DefenseSet[],
  answers: ResponseMap,
  notApplicable: ReadonlyMap<string, string> = new Map(),
  modelOnly: ReadonlyMap<string, Record<string, number>> = new Map(),
): MetricScore[] {
  const out: MetricScore[] = [];
  for (const { defense, fingerprints } of sets) {
    let values: Record<string, number> | undefined;
    let reason = notApplicable.get(defense.id);
    if (reason === undefined) {
      if (modelOnly.has(defense.id)) values = modelOnly.get(defense.id);
      else if (!defense.scoreResponses) reason = `${defense.name} cannot be scored from answers, only from a model`;
      else {
        try {
          values = defense.scoreResponses(fingerprints, answers);
        } catch (e) {
          if (!isAuditError(e) || e.code !== 'NOT_APPLICABLE') throw e;
          reason = e.message;
        }
      }
    }
    for (const m of defense.metrics) {
      const value = values?.[m.id] ?? null;
      out.push({
        id: m.id,
        kind: m.kind,
        value,
        applicable: value !== null,
        ...(value === null ? { reason: reason ?? 'not computed' } : {}),
        votes: m.votes !== false,
        ...(m.combined === false ? { combined: false } : {}),
      });
    }
  }
  return out;
}

/**
 * Fidelity from the suspect's answers on the test split: accuracy against the true labels and
 * agreement with the victim's labels. Not applicable when the suspect answers another number
 * of classes.
 */
export function fidelityFromAnswers(
  answers: ResponseMap,
  testLabels: ArrayLike<number>,
  victimLabels: ArrayLike<number>,
  numClasses: number,
): MetricScore[] {
  const answer = answers[FIDELITY_SET];
  let reason: string | undefined;
  let pred: ArrayLike<number> | undefined;
  if (!answer) reason = 'no answers on the test split';
  else if (answer.output === 'activations') reason = 'the answers hold activations, not classes';
  else if (answer.output !== 'labels' && answer.data.shape[1] !== numClasses)
    reason = `the suspect has ${answer.data.shape[1]} classes, the victim ${numClasses}`;
  else pred = responseAs(answers, FIDELITY_SET, 'labels', { rows: testLabels.length }).data;
  const metric = (id: string, value: number | null): MetricScore => ({
    id,
    kind: 'similarity',
    value,
    applicable: value !== null,
    ...(value === null ? { reason } : {}),
    votes: false,
  });
  return [
    metric('fidelity.accuracy', pred ? matchingRate(testLabels, pred) : null),
    metric('fidelity.agreement', pred ? matchingRate(victimLabels, pred) : null),
  ];
}

/** Labels from a model's answer (the victim's, for agreement): argmax of scores, or the labels themselves. */
export function labelsOf(answer: ModelResponse): Int32Array {
  if (answer.output === 'labels') return Int32Array.from(answer.data.data);
  return argmaxRows(answer.data.data, answer.data.shape[1] ?? 1);
}

/**
 * Taus onto the metrics, flags, and the verdict: insufficient evidence when fewer than two
 * metrics could vote (or none, for a one-metric calibration). Taus of metrics outside the
 * combined vote (`combined: false`) do not count towards "the calibration has two or more".
 */
export function judge(
  metrics: MetricScore[],
  taus: ReadonlyMap<string, { tau: number; degenerate: boolean }>,
  rule: VoteRule,
): { metrics: MetricScore[]; verdict: VerifyVerdict; defenses: DefenseVerdict[] } {
  const withTaus = metrics.map((m) => {
    const t = taus.get(m.id);
    return t ? { ...m, tau: t.tau, degenerate: t.degenerate } : m;
  });
  const scored = applyThresholds(withTaus);
  const verdict = decide(scored, rule);
  const outside = new Set(metrics.filter((m) => m.combined === false).map((m) => m.id));
  const combinedTaus = [...taus.keys()].filter((id) => !outside.has(id)).length;
  const insufficientEvidence = verdict.of < Math.min(2, Math.max(1, combinedTaus));
  return {
    metrics: scored,
    verdict: { ...verdict, derived: insufficientEvidence ? false : verdict.derived, insufficientEvidence },
    defenses: defenseVerdicts(scored),
  };
}

/** How often a defence accuses an independent model: its references judged by leave-one-out. */
export interface ReferenceFalseClaims {
  accused: number;
  of: number;
  /** References a leave-one-out threshold could not judge (degenerate, e.g. with two references). */
  notJudged: number;
  /** accused / of; null when none was judged. */
  rate: number | null;
}

export interface VerifyDefenseVerdict extends DefenseVerdict {
  /** Beside the verdict: the share of the calibration's references this defence would accuse. */
  falseClaims: ReferenceFalseClaims;
}

/**
 * Each defence's verdict with its false-claim rate among the calibration's references,
 * each judged by the threshold the same rule gives from the other references (a reference
 * never judged by a tau its own value set).
 */
export function withFalseClaims(
  defenses: readonly DefenseVerdict[],
  calibrationMetrics: readonly Pick<CalibrationMetric, 'id' | 'kind' | 'values' | 'tau' | 'rule' | 'degenerate'>[],
): VerifyDefenseVerdict[] {
  return defenses.map((d) => {
    const metrics = calibrationMetrics
      .filter((m) => m.id.split('.')[0] === d.id)
      .map((m) => ({ ...m, defense: d.id, referenceValues: m.values }));
    const r = falseClaims(metrics, []).references;
    return {
      ...d,
      falseClaims: { accused: r.accused, of: r.of, notJudged: r.notJudged, rate: r.of ? r.accused / r.of : null },
    };
  });
}
