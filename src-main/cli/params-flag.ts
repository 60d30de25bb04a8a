/**
 * `--param key=value` (repeatable) for attacks, and `--param defence.key=value` for
 * defences: collected into plain objects that the engine validates against the specs.
 */
import { InvalidArgumentError } from 'commander';

export function collectParam(value: string, previous: string[] = []): string[] {
  if (!/^[\w.-]+=.+$/.test(value)) throw new InvalidArgumentError(`expected key=value, got "${value}"`);
  return [...previous, value];
}

export function paramsObject(pairs: string[] = []): Record<string, string> {
  return Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

/** Splits `deepjudge.seeds=50` into { deepjudge: { seeds: '50' } }. */
export function defenseParams(pairs: string[] = []): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [key, value] of Object.entries(paramsObject(pairs))) {
    const dot = key.indexOf('.');
    if (dot < 1) throw new InvalidArgumentError(`defence parameters are written defence.key=value, got "${key}"`);
    (out[key.slice(0, dot)] ??= {})[key.slice(dot + 1)] = value;
  }
  return out;
}
