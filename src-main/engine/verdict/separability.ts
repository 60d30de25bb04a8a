/**
 * How well a metric, or a defence, tells derived models from independent ones (issue 18):
 * threshold-free (ROC, AUC with a 95% interval, TPR at fixed false-positive rates) and at
 * the calibrated tau (the false-claim rate: the share of independent models it would accuse).
 *
 * Positives are the suspects of one attack row; negatives are the independent models of the
 * run: the calibration's reference models (their stored values) and the suspects of
 * independent ("Negative") attack rows. Pure arithmetic on plain numbers, no TF.js.
 *
 * `fpr:<p>`-style thresholds need no new rule: the existing `quantile` rule at p
 * (calibration/rules.ts) puts tau at the empirical p-quantile of the references on the
 * derived side, a threshold with an expected reference false-positive rate of p.
 */
import type { MetricKind } from '../defenses/types';
import { computeThreshold, type ThresholdRule } from '../calibration/rules';

export type Orientation = 'higher-is-derived' | 'lower-is-derived';

/** Distances are lower-is-derived, similarities higher-is-derived. */
export function orientationOf(kind: MetricKind): Orientation {
  return kind === 'distance' ? 'lower-is-derived' : 'higher-is-derived';
}

export interface RocPoint {
  fpr: number;
  tpr: number;
  /**
   * The value at which this point classifies: derived when value >= threshold
   * (higher-is-derived) or value <= threshold (lower-is-derived); null for (0, 0).
   */
  threshold: number | null;
}

export interface TprAtFpr {
  /** The false-positive rate the TPR is read at. */
  fpr: number;
  /** Highest TPR of a threshold whose FPR is at most `fpr`; null when there are too few negatives. */
  tpr: number | null;
  /** Why tpr is null. */
  reason?: string;
}

export interface Roc {
  orientation: Orientation;
  nPos: number;
  nNeg: number;
  /** Mann-Whitney AUC, ties counted 1/2; null without a positive or a negative. */
  auc: number | null;
  /** 95% Hanley-McNeil interval, clamped to [0, 1]; null with auc. */
  ci: [number, number] | null;
  /** (0, 0), then one point per distinct value from the most to the least derived-looking; ends at (1, 1). */
  points: RocPoint[];
  /** Always reported (read it with nNeg: with few negatives FPR 0 is a weak claim). */
  tprAtFpr0: TprAtFpr;
  /** Reported only when nNeg >= 30 (see minNegatives). */
  tprAtFpr10: TprAtFpr;
}

/**
 * Fewest negatives for a TPR at FPR p to mean something: n_neg >= 3 / p, so that about three
 * negatives are expected above the threshold (FPR 10% needs 30). Compared as n * p >= 3 with
 * a tolerance, since 3 / 0.1 is 30.000000000000004 in floating point.
 */
export function hasEnoughNegatives(nNeg: number, fpr: number): boolean {
  return nNeg * fpr >= 3 - 1e-9;
}

/** Minimum n_neg for a TPR at FPR p (3 / p rounded up). */
export function minNegatives(fpr: number): number {
  return Math.ceil(3 / fpr - 1e-9);
}

/** P(pos > neg) + P(pos = neg) / 2 over all pairs, on scores where larger is more derived. */
export function mannWhitneyAuc(pos: number[], neg: number[]): number | null {
  if (pos.length === 0 || neg.length === 0) return null;
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

/**
 * Hanley & McNeil (1982) standard error of an AUC A from n1 positives and n2 negatives:
 *
 *   Q1 = A / (2 - A),  Q2 = 2 A^2 / (1 + A)
 *   SE^2 = [A (1 - A) + (n1 - 1)(Q1 - A^2) + (n2 - 1)(Q2 - A^2)] / (n1 n2)
 *
 * and the 95% interval A -/+ 1.96 SE, clamped to [0, 1]. At A = 0 or 1 the SE is 0 and the
 * interval collapses to a point: it then understates the uncertainty of a small sample
 * (the report says so), which is the formula's known weakness, not a claim of certainty.
 */
export function hanleyMcNeil(auc: number, n1: number, n2: number): { se: number; ci: [number, number] } {
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const variance = (auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n2 - 1) * (q2 - auc * auc)) / (n1 * n2);
  const se = Math.sqrt(Math.max(0, variance));
  const clamp = (x: number): number => Math.min(1, Math.max(0, x));
  return { se, ci: [clamp(auc - 1.96 * se), clamp(auc + 1.96 * se)] };
}

/** Highest TPR among the ROC points with FPR <= level (the (0, 0) point is always one). */
function tprAt(points: RocPoint[], level: number): number {
  return Math.max(...points.filter((p) => p.fpr <= level + 1e-12).map((p) => p.tpr));
}

/** ROC of positives (derived models) against negatives (independent models); non-finite values are left out. */
export function roc(positives: number[], negatives: number[], orientation: Orientation): Roc {
  const sign = orientation === 'higher-is-derived' ? 1 : -1;
  const pos = positives.filter(Number.isFinite).map((v) => sign * v);
  const neg = negatives.filter(Number.isFinite).map((v) => sign * v);
  const nPos = pos.length;
  const nNeg = neg.length;
  const auc = mannWhitneyAuc(pos, neg);
  const none = (fpr: number, reason: string): TprAtFpr => ({ fpr, tpr: null, reason });
  if (auc === null) {
    const reason = nPos === 0 ? 'no positive model' : 'no negative model';
    return {
      orientation,
      nPos,
      nNeg,
      auc: null,
      ci: null,
      points: [],
      tprAtFpr0: none(0, reason),
      tprAtFpr10: none(0.1, reason),
    };
  }
  // One point per distinct score: everything at or above it counts as derived.
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: null }];
  for (const t of [...new Set([...pos, ...neg])].sort((a, b) => b - a)) {
    points.push({
      fpr: neg.filter((s) => s >= t).length / nNeg,
      tpr: pos.filter((s) => s >= t).length / nPos,
      threshold: sign * t,
    });
  }
  return {
    orientation,
    nPos,
    nNeg,
    auc,
    ci: hanleyMcNeil(auc, nPos, nNeg).ci,
    points,
    tprAtFpr0: { fpr: 0, tpr: tprAt(points, 0) },
    tprAtFpr10: hasEnoughNegatives(nNeg, 0.1)
      ? { fpr: 0.1, tpr: tprAt(points, 0.1) }
      : none(0.1, `needs >= ${minNegatives(0.1)} negatives`),
  };
}

/** Area under a ROC curve's points by the trapezoid rule (equals the Mann-Whitney AUC; a test cross-check). */
export function trapezoidAuc(points: RocPoint[]): number {
  let a = 0;
  for (let i = 1; i < points.length; i++)
    a += ((points[i].fpr - points[i - 1].fpr) * (points[i].tpr + points[i - 1].tpr)) / 2;
  return a;
}

// ---------------------------------------------------------------------------------------
// Per defence: one score per model.

/**
 * A metric's margin past its threshold, oriented and scaled by tau: (tau - v) / |tau| for a
 * distance, (v - tau) / |tau| for a similarity (|tau| = 0 scales by 1). Positive exactly when
 * the metric flags the model (verdict.ts isFlagged: strictly past tau), and dimensionless,
 * so DeepJudge's LOD (~1) and LAD (~20) compare.
 */
export function metricMargin(kind: MetricKind, value: number, tau: number): number {
  const scale = Math.abs(tau) > 0 ? Math.abs(tau) : 1;
  return kind === 'distance' ? (tau - value) / scale : (value - tau) / scale;
}

/**
 * A defence's score for one model: the k-th largest of its voting metrics' margins, with
 * k = floor(m / 2) + 1 for m voting metrics (the min of DeepJudge's two, the one margin of a
 * one-metric defence). The defence accuses exactly when a strict majority of its metrics
 * flag, that is when at least k margins are positive, that is when this score is positive:
 * so the defence's ROC passes through its calibrated operating point (threshold 0), and
 * larger means more derived. Chosen over a mean of normalised values (where one far-off
 * metric can outvote the others, unlike the verdict) and over rank averages (which depend
 * on the pool of models compared). Null without a voting metric.
 */
export function defenseScore(margins: number[]): number | null {
  const m = margins.filter(Number.isFinite);
  if (m.length === 0) return null;
  const k = Math.floor(m.length / 2) + 1;
  return [...m].sort((a, b) => b - a)[k - 1];
}

// ---------------------------------------------------------------------------------------
// False claims at the calibrated tau.

/** A metric as the calibration holds it. */
export interface MetricThreshold {
  id: string;
  /** Defence id ('deepjudge'). */
  defense: string;
  kind: MetricKind;
  /** Null or NaN without a calibration. */
  tau: number | null;
  degenerate: boolean;
  rule: ThresholdRule | null;
  /** One value per reference model, in reference order (empty without a calibration). */
  referenceValues: number[];
}

/** A model's final values by metric id (null or missing: not applicable). */
export type ModelValues = Record<string, number | null | undefined>;

export interface ClaimCount {
  accused: number;
  /** Models judged (some voting metric had a value and a usable threshold). */
  of: number;
}

export interface FalseClaims {
  /** Independent ("Negative") suspects judged with the calibration's tau. */
  negativeModels: ClaimCount;
  /** Reference i judged with the tau the same rule gives from the other K-1 references. */
  references: ClaimCount & {
    /** References not judged: a degenerate leave-one-out threshold (e.g. one value left) or no value. */
    notJudged: number;
  };
  pooled: ClaimCount;
  /** pooled.accused / pooled.of; null when nothing was judged. */
  rate: number | null;
}

interface Judge {
  tau: number;
  usable: boolean;
}

const usableJudge = (tau: number | null, degenerate: boolean): Judge => ({
  tau: tau ?? Number.NaN,
  usable: tau !== null && Number.isFinite(tau) && !degenerate,
});

/** The threshold reference i is judged by: the metric's rule over the other references. */
export function leaveOneOutThreshold(metric: MetricThreshold, i: number): Judge {
  const others = metric.referenceValues.filter((_, j) => j !== i);
  const t = computeThreshold(metric.kind, others, metric.rule ?? { name: 'paper' });
  return usableJudge(t.tau, t.degenerate);
}

/** Accused (strict majority of the usable metrics flag), not accused, or null (no usable metric with a value). */
function accuses(metrics: MetricThreshold[], judges: Judge[], values: ModelValues): boolean | null {
  let flags = 0;
  let voting = 0;
  metrics.forEach((m, i) => {
    const v = values[m.id];
    if (!judges[i].usable || v === null || v === undefined || !Number.isFinite(v)) return;
    voting += 1;
    if (metricMargin(m.kind, v, judges[i].tau) > 0) flags += 1;
  });
  return voting === 0 ? null : flags * 2 > voting;
}

/** Reference i's values by metric id. */
function referenceModel(metrics: MetricThreshold[], i: number): ModelValues {
  return Object.fromEntries(metrics.map((m) => [m.id, m.referenceValues[i]]));
}

/**
 * How many independent models a set of metrics (one metric, or one defence's) would accuse:
 * the Negative models at the calibrated tau, the references by leave-one-out. A reference is
 * never judged by a threshold its own value helped set (with the paper rule, the closest
 * reference sits exactly at tau and could never be accused).
 */
export function falseClaims(metrics: MetricThreshold[], negatives: ModelValues[]): FalseClaims {
  const calibrated = metrics.map((m) => usableJudge(m.tau, m.degenerate));
  const negativeModels: ClaimCount = { accused: 0, of: 0 };
  for (const n of negatives) {
    const a = accuses(metrics, calibrated, n);
    if (a === null) continue;
    negativeModels.of += 1;
    if (a) negativeModels.accused += 1;
  }
  const k = Math.max(0, ...metrics.map((m) => m.referenceValues.length));
  const references = { accused: 0, of: 0, notJudged: 0 };
  for (let i = 0; i < k; i++) {
    const a = accuses(
      metrics,
      metrics.map((m) => leaveOneOutThreshold(m, i)),
      referenceModel(metrics, i),
    );
    if (a === null) references.notJudged += 1;
    else {
      references.of += 1;
      if (a) references.accused += 1;
    }
  }
  const pooled = {
    accused: negativeModels.accused + references.accused,
    of: negativeModels.of + references.of,
  };
  return { negativeModels, references, pooled, rate: pooled.of ? pooled.accused / pooled.of : null };
}

// ---------------------------------------------------------------------------------------
// The whole analysis of a run.

export interface SeparabilityRowInput {
  rowId: string;
  scenario: string;
  label: string;
  attack: string;
  /** The row's suspects (derived models). */
  positives: ModelValues[];
}

export interface SeparabilityInput {
  metrics: MetricThreshold[];
  /** Independent ("Negative") suspects of the run. */
  negatives: ModelValues[];
  rows: SeparabilityRowInput[];
}

export interface MetricSeparability {
  id: string;
  defense: string;
  kind: MetricKind;
  degenerate: boolean;
  roc: Roc;
}

export interface DefenseSeparability {
  id: string;
  /** Its metrics that vote (non-degenerate, with a tau). */
  metrics: string[];
  /** ROC of the defence score (see defenseScore); null without a voting metric. */
  roc: Roc | null;
}

export interface RowSeparability {
  rowId: string;
  scenario: string;
  label: string;
  attack: string;
  metrics: MetricSeparability[];
  defenses: DefenseSeparability[];
}

export interface Separability {
  negatives: { references: number; negativeModels: number };
  /** False claims at the calibrated tau, per metric and per defence (null without a usable threshold). */
  falseClaims: {
    metrics: { id: string; defense: string; counts: FalseClaims | null }[];
    defenses: { id: string; metrics: string[]; counts: FalseClaims | null }[];
  };
  rows: RowSeparability[];
}

/** Defence ids in the order their first metric appears. */
function defenseIds(metrics: MetricThreshold[]): string[] {
  return [...new Set(metrics.map((m) => m.defense))];
}

/** Metrics that can vote: a finite tau that is not degenerate. */
function voting(metrics: MetricThreshold[]): MetricThreshold[] {
  return metrics.filter((m) => m.tau !== null && Number.isFinite(m.tau) && !m.degenerate);
}

export function separability(input: SeparabilityInput): Separability {
  const { metrics, negatives } = input;
  const k = Math.max(0, ...metrics.map((m) => m.referenceValues.length));
  const references = Array.from({ length: k }, (_, i) => referenceModel(metrics, i));
  const independents = [...references, ...negatives];
  const finite = (v: number | null | undefined): number[] =>
    v !== null && v !== undefined && Number.isFinite(v) ? [v] : [];
  const scoreOf = (ms: MetricThreshold[], model: ModelValues): number[] => {
    const s = defenseScore(ms.flatMap((m) => finite(model[m.id]).map((v) => metricMargin(m.kind, v, m.tau as number))));
    return s === null ? [] : [s];
  };
  const defenses = defenseIds(metrics).map((id) => ({
    id,
    all: metrics.filter((m) => m.defense === id),
    voting: voting(metrics.filter((m) => m.defense === id)),
  }));

  const rows = input.rows.map((r) => ({
    rowId: r.rowId,
    scenario: r.scenario,
    label: r.label,
    attack: r.attack,
    metrics: metrics.map((m) => ({
      id: m.id,
      defense: m.defense,
      kind: m.kind,
      degenerate: m.degenerate,
      roc: roc(
        r.positives.flatMap((p) => finite(p[m.id])),
        independents.flatMap((n) => finite(n[m.id])),
        orientationOf(m.kind),
      ),
    })),
    defenses: defenses.map((d) => ({
      id: d.id,
      metrics: d.voting.map((m) => m.id),
      roc: d.voting.length
        ? roc(
            r.positives.flatMap((p) => scoreOf(d.voting, p)),
            independents.flatMap((n) => scoreOf(d.voting, n)),
            'higher-is-derived',
          )
        : null,
    })),
  }));

  const hasTau = (m: MetricThreshold): boolean => m.tau !== null && Number.isFinite(m.tau);
  return {
    negatives: { references: k, negativeModels: negatives.length },
    falseClaims: {
      metrics: metrics.map((m) => ({
        id: m.id,
        defense: m.defense,
        counts: hasTau(m) ? falseClaims([m], negatives) : null,
      })),
      defenses: defenses.map((d) => ({
        id: d.id,
        metrics: d.voting.map((m) => m.id),
        counts: d.all.some(hasTau) ? falseClaims(d.all, negatives) : null,
      })),
    },
    rows,
  };
}
