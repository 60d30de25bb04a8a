/**
 * Threshold rules: how tau follows from the values reference (negative) models reach.
 *
 * - paper (default, paper 4.1.4): the lowest distance / highest similarity any reference
 *   reaches. A suspect must be closer than every independent model.
 * - normal: fit a Normal to the references and take the value a reference would pass with
 *   probability p (Watermark-Robustness-Toolbox style, p = 0.05).
 * - confidence: one-sided prediction bound for a new reference at the given confidence
 *   (DeepJudge uses 0.99): mean -/+ t_{conf, K-1} * std * sqrt(1 + 1/K).
 * - quantile: empirical quantile q of the references (linear interpolation).
 * - reference-ratio: ZEST's normalisation, tau = ratio * mean reference value (distance /
 *   mean reference distance < ratio, default 1).
 */
import type { MetricKind } from '../defenses/types';

export type ThresholdRuleName = 'paper' | 'normal' | 'confidence' | 'quantile' | 'reference-ratio';

export interface ThresholdRule {
  name: ThresholdRuleName;
  /** p for normal, confidence for confidence, q for quantile, ratio for reference-ratio. */
  parameter?: number;
}

export const DEFAULT_RULE_PARAMETER: Record<ThresholdRuleName, number | undefined> = {
  paper: undefined,
  normal: 0.05,
  confidence: 0.99,
  quantile: 0.05,
  'reference-ratio': 1,
};

export interface Threshold {
  tau: number;
  rule: ThresholdRule;
  /** No reference differs from another: the rule cannot separate anything (see isDegenerate). */
  degenerate: boolean;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sampleStd(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/** Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p <= 0 || p >= 1) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/** Student-t quantile via the Cornish-Fisher expansion around the normal (good to ~1e-3 for df >= 3). */
export function studentTQuantile(p: number, df: number): number {
  const z = normalQuantile(p);
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3)
  );
}

export function empiricalQuantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Degenerate: every reference reaches the same value (e.g. IPGuard's matching rate 0 for
 * every independent model), so tau sits at a bound no reference differs from and any
 * suspect with the slightest difference counts as derived.
 */
export function isDegenerate(values: number[]): boolean {
  return (
    values.length === 0 || values.every((v) => Math.abs(v - values[0]) <= 1e-12 * Math.max(1, Math.abs(values[0])))
  );
}

export function computeThreshold(
  kind: MetricKind,
  referenceValues: number[],
  rule: ThresholdRule = { name: 'paper' },
): Threshold {
  const values = referenceValues.filter(Number.isFinite);
  if (values.length === 0) return { tau: Number.NaN, rule, degenerate: true };
  const param = rule.parameter ?? DEFAULT_RULE_PARAMETER[rule.name];
  const below = kind === 'distance'; // derived suspects sit below tau for distances, above for similarities
  let tau: number;
  switch (rule.name) {
    case 'paper':
      tau = below ? Math.min(...values) : Math.max(...values);
      break;
    case 'normal': {
      const z = normalQuantile(1 - (param as number));
      tau = below ? mean(values) - z * sampleStd(values) : mean(values) + z * sampleStd(values);
      break;
    }
    case 'confidence': {
      const k = values.length;
      const t = k >= 2 ? studentTQuantile(param as number, k - 1) : 0;
      const spread = t * sampleStd(values) * Math.sqrt(1 + 1 / k);
      tau = below ? mean(values) - spread : mean(values) + spread;
      break;
    }
    case 'quantile':
      tau = empiricalQuantile(values, below ? (param as number) : 1 - (param as number));
      break;
    case 'reference-ratio':
      tau = (param as number) * mean(values);
      break;
  }
  return {
    tau,
    rule: { name: rule.name, ...(param !== undefined ? { parameter: param } : {}) },
    degenerate: isDegenerate(values),
  };
}
