/**
 * The defences the product knows, in the order of the paper's tables (LOD, LAD, ZEST-L2,
 * ZEST-cos, DDV, MR), then the opt-in shared-mistakes baseline, and the fidelity figures
 * reported next to them. To add a defence:
 * write one file exporting a `Defense` (see types.ts) and list it in DEFENSES.
 */
import { AuditError } from '../errors';
import { deepJudgeDefense } from './deepjudge';
import { fidelityDefense } from './fidelity';
import { ipGuardDefense } from './ipguard';
import { mistakesDefense } from './mistakes';
import { modelDiffDefense } from './modeldiff';
import { zestDefense } from './zest';
import { metricVotes, type Defense, type MetricSpec } from './types';

/**
 * The fingerprinting defences: their metrics vote on the verdict. Opt-in ones (the mistakes
 * baseline) run only when named, and their metrics stay out of the combined verdict.
 */
export const DEFENSES: readonly Defense[] = [
  deepJudgeDefense,
  zestDefense,
  modelDiffDefense,
  ipGuardDefense,
  mistakesDefense,
];

/** The defences run when none are named: every one that is not opt-in. */
export const DEFAULT_DEFENSE_IDS: readonly string[] = DEFENSES.filter((d) => !d.optIn).map((d) => d.id);

/** Fidelity: measured like a defence (fingerprints = a stored labelled sample), never votes. */
export const FIDELITY: Defense = fidelityDefense;

/** Everything that scores a suspect: the defences, then fidelity. */
export const SCORERS: readonly Defense[] = [...DEFENSES, FIDELITY];

/** Every metric of every scorer, in report order. */
export const ALL_METRICS: readonly MetricSpec[] = SCORERS.flatMap((d) => d.metrics);

/** The metrics that take part in the verdict (and get a threshold). */
export const VOTING_METRICS: readonly MetricSpec[] = ALL_METRICS.filter(metricVotes);

/** A defence (or 'fidelity') by id; INVALID_ARGUMENT naming the known ids otherwise. */
export function getDefense(id: string): Defense {
  const d = SCORERS.find((s) => s.id === id);
  if (!d) {
    throw new AuditError('INVALID_ARGUMENT', `Unknown defence "${id}"`, {
      hint: `Known defences: ${SCORERS.map((s) => s.id).join(', ')}.`,
    });
  }
  return d;
}

/** A metric by id (e.g. 'deepjudge.lod') with the defence that computes it. */
export function getMetric(id: string): { metric: MetricSpec; defense: Defense } {
  for (const defense of SCORERS) {
    const metric = defense.metrics.find((m) => m.id === id);
    if (metric) return { metric, defense };
  }
  throw new AuditError('INVALID_ARGUMENT', `Unknown metric "${id}"`, {
    hint: `Known metrics: ${ALL_METRICS.map((m) => m.id).join(', ')}.`,
  });
}
