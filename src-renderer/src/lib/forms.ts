/** Small helpers of the parameter forms: labels, ranges, and the problem of one field. */
import { resolveParams, type ParamSpec } from '../../../src-shared/params';

/** 'latentStepSize' -> 'latent step size'. */
export function paramLabel(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

/** ', range 0 to 1' / ', at least 0' / ''. */
export function rangeText(spec: ParamSpec): string {
  if (spec.type !== 'number' && spec.type !== 'integer') return '';
  if (spec.min !== undefined && spec.max !== undefined) return `, range ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return `, at least ${spec.min}`;
  if (spec.max !== undefined) return `, at most ${spec.max}`;
  return '';
}

/** Why this value does not fit its spec, or '' when it does. */
export function fieldProblem(spec: ParamSpec, value: unknown): string {
  if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value)))
    return 'needs a value';
  const r = resolveParams([spec], { [spec.key]: value });
  return r.ok ? '' : r.problems[0].replace(`${spec.key} `, '');
}
