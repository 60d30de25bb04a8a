/** Checks of the parameter values a defence or an attack row is given (pure). */
import { resolveParams, type ParamSpec } from '../../../../src-shared/params';
import type { ParamInput } from './spec-form';

/** Problems of parameter values against their specs, one line each (nothing when all fit). */
export function paramProblems(specs: readonly ParamSpec[], values: ParamInput): string[] {
  const problems: string[] = [];
  const given: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)))
      problems.push(`${k} needs a value`);
    else given[k] = v;
  }
  const r = resolveParams(specs, given);
  if (!r.ok) problems.push(...r.problems);
  return problems;
}
