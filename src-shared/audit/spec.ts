/**
 * The audit spec: one JSON document that says which victim, which data, which defences,
 * how to calibrate, which attacks (with seeds) and which sweeps make up an audit run. The
 * CLI (`run SPEC.json`), the app's wizard and the presets (demo, smoke) all produce one.
 *
 * `parseAuditSpec` checks shape, ranges and cross-field consistency here, on the shared
 * side (no engine); the main side's `validateAgainstRegistries` (src-main/runner/plan.ts)
 * adds what needs the attack and defence registries (parameter names and values, metric
 * ids). Every problem names its field path, e.g. `attacks[1].seeds: must contain at least 1 item`.
 */
import { z } from 'zod';

export const ATTACK_NAMES = ['removalnet', 'finetune', 'prune', 'distill', 'negative', 'knockoff'] as const;
export const DEFENSE_IDS = ['deepjudge', 'zest', 'modeldiff', 'ipguard'] as const;
export const ARCH_NAMES = ['cnn', 'vgg', 'resnet'] as const;
export const THRESHOLD_RULE_NAMES = ['paper', 'normal', 'confidence', 'quantile', 'reference-ratio'] as const;
export const VOTE_RULES = ['majority', 'any', 'all'] as const;

/** Attack fields a sweep may vary besides the attack's own parameters. */
export const SWEEPABLE_ATTACK_FIELDS = ['iterations', 'batchSize', 'block'] as const;
/** Scenario fields a sweep may vary, per scenario kind. */
export const SWEEPABLE_SCENARIO_FIELDS = { ltd: ['fraction'], lsd: ['partition', 'data'] } as const;

const PARTITION_RE = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;

/** A partition 'k/n' (part k of n, 0-based): the same rule as the engine's parsePartition. */
export function isPartition(s: string): boolean {
  const m = PARTITION_RE.exec(s);
  return !!m && Number(m[2]) >= 1 && Number(m[1]) < Number(m[2]);
}

const partitionString = z.string().refine(isPartition, { message: 'must look like "k/n" with 0 <= k < n, e.g. "1/2"' });
const path = z.string().min(1);
const posInt = z.number().int().min(1);
const seedInt = z.number().int().min(0);
export const ParamValueSchema = z.union([z.number(), z.boolean(), z.string()]);
const paramRecord = z.record(z.string(), ParamValueSchema);

/** Keep in sync with ThresholdRule in src-main/engine/calibration/rules.ts (a type-level test checks it). */
export const ThresholdRuleSchema = z
  .strictObject({
    name: z.enum(THRESHOLD_RULE_NAMES),
    /** p for normal, confidence for confidence, q for quantile, ratio for reference-ratio. */
    parameter: z.number().optional(),
  })
  .superRefine((rule, ctx) => {
    const p = rule.parameter;
    if (p === undefined) return;
    const bad = (message: string): void => ctx.addIssue({ code: 'custom', path: ['parameter'], message });
    if (rule.name === 'paper') bad('the paper rule takes no parameter');
    else if ((rule.name === 'normal' || rule.name === 'confidence') && !(p > 0 && p < 1))
      bad(`must be in (0, 1) for the ${rule.name} rule, got ${p}`);
    else if (rule.name === 'quantile' && !(p >= 0 && p <= 1)) bad(`must be in [0, 1] for the quantile rule, got ${p}`);
    else if (rule.name === 'reference-ratio' && !(p > 0)) bad(`must be > 0 for the reference-ratio rule, got ${p}`);
  });

/** Ids of scenarios: they appear in job keys and directory names. */
export const SCENARIO_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const scenarioId = z
  .string()
  .regex(SCENARIO_ID_RE, { message: "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit" });

const VictimSchema = z.union([
  z.strictObject({ model: path }),
  z.strictObject({
    train: z.strictObject({
      arch: z.enum(ARCH_NAMES),
      data: path,
      seed: seedInt,
      epochs: z.number().positive().optional(),
      iterations: posInt.optional(),
      width: posInt.optional(),
      blocks: posInt.optional(),
      depth: posInt.optional(),
      hidden: z.number().int().min(0).optional(),
      partition: partitionString.optional(),
      learningRate: z.number().positive().optional(),
      batchSize: posInt.optional(),
    }),
  }),
]);

const DataSchema = z.strictObject({
  train: path,
  test: path.optional(),
  maxTest: posInt.optional(),
  maxTrain: posInt.optional(),
});

const ScenarioSchema = z.discriminatedUnion('kind', [
  z.strictObject({ id: scenarioId, kind: z.literal('ltd'), fraction: z.number().gt(0).max(1) }),
  z.strictObject({
    id: scenarioId,
    kind: z.literal('lsd'),
    data: path.optional(),
    partition: partitionString.optional(),
  }),
]);

const DefenseSchema = z.strictObject({ id: z.enum(DEFENSE_IDS), params: paramRecord.optional() });

const CalibrationSchema = z.union([
  z.strictObject({ reuse: z.string().min(1) }),
  z.strictObject({
    references: z.number().int().min(2).max(1000),
    rule: ThresholdRuleSchema.optional(),
    metricRules: z.record(z.string(), ThresholdRuleSchema).optional(),
    referenceIterations: posInt.optional(),
    referenceEpochs: z.number().positive().optional(),
    noise: z.number().min(0).max(0.9).optional(),
  }),
]);

const AttackSchema = z.strictObject({
  name: z.enum(ATTACK_NAMES),
  label: z.string().min(1).max(100).optional(),
  params: paramRecord.optional(),
  seeds: z.array(seedInt).min(1).max(1000),
  iterations: posInt,
  batchSize: posInt.optional(),
  scenarios: z.array(z.string()).min(1).optional(),
  block: z.string().min(1).optional(),
});

const SweepSchema = z.strictObject({
  target: z.string().min(1),
  param: z.string().min(1),
  values: z.array(ParamValueSchema).min(1).max(100),
});

const BaseSpecSchema = z.strictObject({
  version: z.literal(1),
  name: z.string().min(1).max(200).default('audit'),
  victim: VictimSchema,
  data: DataSchema,
  scenarios: z.array(ScenarioSchema).min(1),
  defenses: z.array(DefenseSchema).min(1),
  calibration: CalibrationSchema,
  attacks: z.array(AttackSchema).min(1),
  checkpoints: z.strictObject({ every: posInt, metrics: z.array(z.string().min(1)).min(1).optional() }).optional(),
  verdict: z.strictObject({ rule: z.enum(VOTE_RULES) }).optional(),
  sweeps: z.array(SweepSchema).optional(),
});

type BaseSpec = z.infer<typeof BaseSpecSchema>;

export interface SpecProblem {
  path: (string | number)[];
  message: string;
}

/** Attacks a sweep target 'attack:<label or name>' selects: by label when any matches, else by name. */
export function sweptAttackIndices(spec: Pick<BaseSpec, 'attacks'>, target: string): number[] {
  const key = target.slice('attack:'.length);
  const byLabel = spec.attacks.flatMap((a, i) => (a.label === key ? [i] : []));
  return byLabel.length ? byLabel : spec.attacks.flatMap((a, i) => (a.name === key ? [i] : []));
}

/** Consistency between fields: unique ids, references that exist, sweep targets and values. */
export function crossFieldProblems(spec: BaseSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (p: (string | number)[], message: string): void => {
    problems.push({ path: p, message });
  };

  const scenarioIndex = new Map<string, number>();
  spec.scenarios.forEach((s, i) => {
    const first = scenarioIndex.get(s.id);
    if (first !== undefined) add(['scenarios', i, 'id'], `duplicate scenario id "${s.id}" (also scenarios[${first}])`);
    else scenarioIndex.set(s.id, i);
  });
  const known = [...scenarioIndex.keys()].join(', ');

  const defenseIndex = new Map<string, number>();
  spec.defenses.forEach((d, i) => {
    const first = defenseIndex.get(d.id);
    if (first !== undefined) add(['defenses', i, 'id'], `duplicate defence "${d.id}" (also defenses[${first}])`);
    else defenseIndex.set(d.id, i);
  });

  spec.attacks.forEach((a, i) => {
    const seen = new Set<number>();
    a.seeds.forEach((seed, j) => {
      if (seen.has(seed)) add(['attacks', i, 'seeds', j], `duplicate seed ${seed}`);
      seen.add(seed);
    });
    const ids = new Set<string>();
    a.scenarios?.forEach((id, j) => {
      if (!scenarioIndex.has(id)) add(['attacks', i, 'scenarios', j], `unknown scenario "${id}" (scenarios: ${known})`);
      else if (ids.has(id)) add(['attacks', i, 'scenarios', j], `duplicate scenario "${id}"`);
      ids.add(id);
    });
  });

  // S_LSD must not be the victim's own part of the same data.
  if ('train' in spec.victim && spec.victim.train.partition) {
    const victimPart = spec.victim.train.partition.replace(/\s/g, '');
    const victimData = spec.victim.train.data;
    spec.scenarios.forEach((s, i) => {
      if (
        s.kind === 'lsd' &&
        s.partition &&
        s.partition.replace(/\s/g, '') === victimPart &&
        (s.data ?? spec.data.train) === victimData
      ) {
        add(
          ['scenarios', i, 'partition'],
          `the victim trains on part ${victimPart} of the same data; S_LSD needs another part`,
        );
      }
    });
  }

  const sweepKeys = new Map<string, number>();
  (spec.sweeps ?? []).forEach((sw, i) => {
    const dup = sweepKeys.get(`${sw.target}\u0000${sw.param}`);
    if (dup !== undefined) add(['sweeps', i], `sweeps[${dup}] already sweeps ${sw.param} of ${sw.target}`);
    sweepKeys.set(`${sw.target}\u0000${sw.param}`, i);
    const seenValues = new Set<string>();
    sw.values.forEach((v, j) => {
      const k = JSON.stringify(v);
      if (seenValues.has(k)) add(['sweeps', i, 'values', j], `duplicate value ${k}`);
      seenValues.add(k);
    });
    if (sw.target.startsWith('attack:')) {
      const matched = sweptAttackIndices(spec, sw.target);
      if (matched.length === 0) {
        add(
          ['sweeps', i, 'target'],
          `no attack labelled or named "${sw.target.slice(7)}" (attacks: ${spec.attacks.map((a) => a.label ?? a.name).join(', ')})`,
        );
        return;
      }
      if (sw.param === 'seeds' || sw.param === 'scenarios' || sw.param === 'label' || sw.param === 'name') {
        add(
          ['sweeps', i, 'param'],
          `"${sw.param}" cannot be swept (sweep an attack parameter, iterations, batchSize or block)`,
        );
        return;
      }
      if (sw.param === 'iterations' || sw.param === 'batchSize') {
        sw.values.forEach((v, j) => {
          if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1))
            add(['sweeps', i, 'values', j], `${sw.param} must be a positive integer, got ${JSON.stringify(v)}`);
        });
      } else if (sw.param === 'block') {
        sw.values.forEach((v, j) => {
          if (!(typeof v === 'string' && v.length > 0))
            add(['sweeps', i, 'values', j], `block must be a block name such as "block2", got ${JSON.stringify(v)}`);
        });
      }
      // Attack parameters are checked against the registry on the main side.
    } else if (sw.target.startsWith('scenario:')) {
      const id = sw.target.slice('scenario:'.length);
      const si = scenarioIndex.get(id);
      if (si === undefined) {
        add(['sweeps', i, 'target'], `unknown scenario "${id}" (scenarios: ${known})`);
        return;
      }
      const scenario = spec.scenarios[si];
      const allowed: readonly string[] = SWEEPABLE_SCENARIO_FIELDS[scenario.kind];
      if (!allowed.includes(sw.param)) {
        add(['sweeps', i, 'param'], `a ${scenario.kind} scenario sweeps ${allowed.join(' or ')}, not "${sw.param}"`);
        return;
      }
      sw.values.forEach((v, j) => {
        if (sw.param === 'fraction' && !(typeof v === 'number' && v > 0 && v <= 1))
          add(['sweeps', i, 'values', j], `fraction must be a number in (0, 1], got ${JSON.stringify(v)}`);
        if (sw.param === 'partition' && !(typeof v === 'string' && isPartition(v)))
          add(['sweeps', i, 'values', j], `partition must look like "k/n" with 0 <= k < n, got ${JSON.stringify(v)}`);
        if (sw.param === 'data' && !(typeof v === 'string' && v.length > 0))
          add(['sweeps', i, 'values', j], `data must be a directory path, got ${JSON.stringify(v)}`);
      });
    } else {
      add(['sweeps', i, 'target'], `must be "attack:<label or name>" or "scenario:<id>", got "${sw.target}"`);
    }
  });
  return problems;
}

export const AuditSpecSchema = BaseSpecSchema.superRefine((spec, ctx) => {
  for (const p of crossFieldProblems(spec)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
});

/** The parsed spec (defaults filled in). */
export type AuditSpec = z.infer<typeof AuditSpecSchema>;
/** What a user may write (defaults optional). */
export type AuditSpecInput = z.input<typeof AuditSpecSchema>;
export type ThresholdRuleSpec = z.infer<typeof ThresholdRuleSchema>;
export type AuditScenario = AuditSpec['scenarios'][number];
export type AuditAttack = AuditSpec['attacks'][number];

// ---------------------------------------------------------------------------------------
// Problem messages

/** `['attacks', 1, 'seeds']` -> `attacks[1].seeds`; keys that are not identifiers are quoted. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out || '(spec)';
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${Number(n) === 1 ? '' : 's'}`;
}

type Issue = z.core.$ZodIssue;

const DISCRIMINATOR_CHOICES: Record<string, string> = { kind: '"ltd" or "lsd"' };

function isMissing(issue: Issue): boolean {
  return issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined;
}

/** How badly a union branch misses the shape: unknown keys and required keys it lacks at its top level. */
function structuralScore(issues: readonly Issue[]): number {
  return issues.filter(
    (i) => (i.code === 'unrecognized_keys' && i.path.length === 0) || (isMissing(i) && i.path.length === 1),
  ).length;
}

function issueMessage(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const input = (issue as { input?: unknown }).input;
      if (input === undefined) return 'required';
      if (issue.expected === 'int') return `must be an integer, got ${typeName(input)}`;
      return `expected ${issue.expected}, got ${typeName(input)}`;
    }
    case 'too_small': {
      const min = issue.minimum;
      if (issue.origin === 'array' || issue.origin === 'set') return `must contain at least ${plural(min, 'item')}`;
      if (issue.origin === 'string')
        return Number(min) <= 1 ? 'must not be empty' : `must have at least ${plural(min, 'character')}`;
      return `must be ${issue.inclusive ? '>=' : '>'} ${min}, got ${String((issue as { input?: unknown }).input)}`;
    }
    case 'too_big': {
      const max = issue.maximum;
      if (issue.origin === 'array' || issue.origin === 'set') return `must contain at most ${plural(max, 'item')}`;
      if (issue.origin === 'string') return `must have at most ${plural(max, 'character')}`;
      return `must be ${issue.inclusive ? '<=' : '<'} ${max}, got ${String((issue as { input?: unknown }).input)}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      const got = typeName((issue as { input?: unknown }).input);
      return values.length === 1
        ? `must be ${values[0]}, got ${got}`
        : `must be one of ${values.join(', ')}, got ${got}`;
    }
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    default:
      return issue.message;
  }
}

/** Flattens zod issues to `path: message` lines, choosing the branch a union value was meant for. */
export function formatIssues(issues: readonly Issue[], base: readonly PropertyKey[] = []): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const at = [...base, ...issue.path];
    if (issue.code !== 'invalid_union') {
      out.push(`${formatPath(at)}: ${issueMessage(issue)}`);
      continue;
    }
    const branches = issue.errors;
    if (branches.length === 0) {
      const d = (issue as { discriminator?: string }).discriminator;
      const input = (issue as { input?: Record<string, unknown> }).input;
      const value = d && input && typeof input === 'object' ? input[d] : undefined;
      out.push(
        `${formatPath(at)}: ${value === undefined ? 'required' : `unknown ${d} ${JSON.stringify(value)}`}${d && DISCRIMINATOR_CHOICES[d] ? ` (must be ${DISCRIMINATOR_CHOICES[d]})` : ''}`,
      );
      continue;
    }
    // A value of the wrong type for every branch (e.g. a parameter that is null).
    if (branches.every((b) => b.length === 1 && b[0].code === 'invalid_type' && b[0].path.length === 0)) {
      const expected = branches.map((b) => (b[0] as { expected: string }).expected);
      const list =
        expected.length > 1 ? `${expected.slice(0, -1).join(', ')} or ${expected[expected.length - 1]}` : expected[0];
      out.push(`${formatPath(at)}: expected ${list}, got ${typeName((issue as { input?: unknown }).input)}`);
      continue;
    }
    const scores = branches.map(structuralScore);
    const best = Math.min(...scores);
    const chosen = branches.filter((_, i) => scores[i] === best);
    if (chosen.length === 1) {
      out.push(...formatIssues(chosen[0], at));
    } else {
      out.push(
        `${formatPath(at)}: matches none of the allowed forms: ${chosen.map((b) => `{ ${formatIssues(b, []).join('; ')} }`).join(' or ')}`,
      );
    }
  }
  return out;
}

export function parseAuditSpec(json: unknown): { ok: true; spec: AuditSpec } | { ok: false; problems: string[] } {
  const r = AuditSpecSchema.safeParse(json, { reportInput: true });
  if (r.success) return { ok: true, spec: r.data };
  return { ok: false, problems: formatIssues(r.error.issues) };
}

/** JSON with object keys sorted at every level (arrays keep their order): the input of the spec hash. */
export function canonicalSpecJson(spec: unknown): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : canon(x)));
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .filter((k) => o[k] !== undefined)
          .sort()
          .map((k) => [k, canon(o[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(canon(spec));
}
