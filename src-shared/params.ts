/**
 * One parameter-spec format for attacks and defences: it drives validation, the wizard's
 * forms, CLI `--param key=value` flags and the report's parameter tables.
 */
export type ParamSpec =
  | { key: string; type: 'number'; default: number; min?: number; max?: number; help: string }
  | { key: string; type: 'integer'; default: number; min?: number; max?: number; help: string }
  | { key: string; type: 'boolean'; default: boolean; help: string }
  | { key: string; type: 'enum'; default: string; choices: readonly string[]; help: string };

export type ParamValues = Record<string, number | boolean | string>;

/** Defaults of a spec list as an object. */
export function paramDefaults(specs: readonly ParamSpec[]): ParamValues {
  return Object.fromEntries(specs.map((s) => [s.key, s.default]));
}

/**
 * Merges user values (numbers, booleans or the strings a CLI passes) over the defaults and
 * checks each against its spec. Returns the values or the list of problems.
 */
export function resolveParams(
  specs: readonly ParamSpec[],
  given: Record<string, unknown>,
): { ok: true; values: ParamValues } | { ok: false; problems: string[] } {
  const values = paramDefaults(specs);
  const problems: string[] = [];
  for (const [key, raw] of Object.entries(given)) {
    const spec = specs.find((s) => s.key === key);
    if (!spec) {
      problems.push(`unknown parameter "${key}" (known: ${specs.map((s) => s.key).join(', ') || 'none'})`);
      continue;
    }
    if (spec.type === 'boolean') {
      const v = typeof raw === 'boolean' ? raw : raw === 'true' ? true : raw === 'false' ? false : undefined;
      if (v === undefined) problems.push(`${key} must be true or false, got "${String(raw)}"`);
      else values[key] = v;
    } else if (spec.type === 'enum') {
      const v = String(raw);
      if (!spec.choices.includes(v)) problems.push(`${key} must be one of ${spec.choices.join(', ')}, got "${v}"`);
      else values[key] = v;
    } else {
      const v = typeof raw === 'number' ? raw : Number(raw);
      if (!Number.isFinite(v) || (spec.type === 'integer' && !Number.isInteger(v)))
        problems.push(`${key} must be ${spec.type === 'integer' ? 'an integer' : 'a number'}, got "${String(raw)}"`);
      else if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max))
        problems.push(`${key} must be within [${spec.min ?? '-inf'}, ${spec.max ?? 'inf'}], got ${v}`);
      else values[key] = v;
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, values };
}
