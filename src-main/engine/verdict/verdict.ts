/**
 * From metric values and calibrated thresholds to a verdict (paper 4.1.4, Table 1).
 *
 * A metric flags a suspect as derived when its distance is strictly below tau or its
 * similarity strictly above tau: a suspect no closer than the closest reference is no
 * evidence. The suspect's verdict is a strict majority of the applicable, non-degenerate,
 * voting metrics (DeepJudge's rule; a tie is "not derived"), or any/all when configured.
 * Fidelity metrics are reported but never vote; baseline metrics (`combined: false`) get a
 * tau and their defence's own verdict but stay out of the combined one.
 */
import type { MetricKind } from '../defenses/types';

export type VoteRule = 'majority' | 'any' | 'all';

export interface MetricScore {
  id: string;
  kind: MetricKind;
  /** null when the metric could not be computed (not applicable). */
  value: number | null;
  tau?: number;
  applicable: boolean;
  /** Why a metric is not applicable (e.g. another architecture for a white-box metric). */
  reason?: string;
  degenerate?: boolean;
  flagged?: boolean;
  /** False for reported-only metrics (fidelity). */
  votes: boolean;
  /**
   * False for a voting metric that is judged in its defence's own verdict but not counted in
   * the combined one (the opt-in mistakes baseline); absent otherwise (counts).
   */
  combined?: boolean;
  /** value / tau, for figures. */
  normalized?: number;
}

export interface Verdict {
  derived: boolean;
  /** Metrics that flagged the suspect. */
  votes: number;
  /** Metrics that took part (applicable, non-degenerate, voting and combined, with a tau). */
  of: number;
  rule: VoteRule;
}

export function isFlagged(kind: MetricKind, value: number, tau: number): boolean {
  return kind === 'distance' ? value < tau : value > tau;
}

/** Fills in flagged and normalized for every metric that has a value and a tau. */
export function applyThresholds(scores: MetricScore[]): MetricScore[] {
  return scores.map((s) => {
    if (s.value === null || s.tau === undefined || !s.applicable) return { ...s, flagged: undefined };
    return { ...s, flagged: isFlagged(s.kind, s.value, s.tau), normalized: s.tau !== 0 ? s.value / s.tau : undefined };
  });
}

export function decide(scores: MetricScore[], rule: VoteRule = 'majority'): Verdict {
  const voting = scores.filter(
    (s) => s.votes && s.combined !== false && s.applicable && !s.degenerate && s.value !== null && s.tau !== undefined,
  );
  const votes = voting.filter((s) => isFlagged(s.kind, s.value as number, s.tau as number)).length;
  const of = voting.length;
  let derived: boolean;
  if (of === 0) derived = false;
  else if (rule === 'any') derived = votes > 0;
  else if (rule === 'all') derived = votes === of;
  else derived = votes * 2 > of;
  return { derived, votes, of, rule };
}

/** The paper's table cell for a group of suspects: "Yes (k/N)" when most were judged derived. */
export function groupVerdict(verdicts: Verdict[]): { label: string; derived: number; total: number } {
  const derived = verdicts.filter((v) => v.derived).length;
  const total = verdicts.length;
  return { label: `${derived * 2 > total ? 'Yes' : 'No'} (${derived}/${total})`, derived, total };
}

/** One defence's own verdict on a suspect: a strict majority of its voting metrics; a tie is named. */
export type DefenseStatus = 'recognised' | 'not-recognised' | 'tie' | 'not-applicable';

export interface DefenseVerdict {
  /** Defence id ('deepjudge', ...). */
  id: string;
  status: DefenseStatus;
  /** Its metrics that flagged the suspect, of those that voted. */
  votes: number;
  of: number;
}

/**
 * Per-defence verdicts from scored metrics (ids `<defence>.<metric>`), in first-seen order:
 * the audit's majority rule applied to each defence's own metrics (DeepJudge: LOD and LAD;
 * one-metric defences: that one). Not applicable when none of its metrics could vote.
 */
export function defenseVerdicts(scores: readonly MetricScore[]): DefenseVerdict[] {
  const out: DefenseVerdict[] = [];
  for (const s of scores) {
    if (!s.votes) continue;
    const id = s.id.split('.')[0];
    let v = out.find((d) => d.id === id);
    if (!v) out.push((v = { id, status: 'not-applicable', votes: 0, of: 0 }));
    if (!s.applicable || s.degenerate || s.value === null || s.tau === undefined) continue;
    v.of += 1;
    if (isFlagged(s.kind, s.value, s.tau)) v.votes += 1;
  }
  for (const v of out)
    v.status =
      v.of === 0
        ? 'not-applicable'
        : v.votes * 2 > v.of
          ? 'recognised'
          : v.votes * 2 === v.of
            ? 'tie'
            : 'not-recognised';
  return out;
}
