/**
 * The audit spec: one JSON document that says which victim, which data, which defences,
 * how to calibrate, which attacks (with seeds), which sweeps and which evasion-frontier grids
 * make up an audit run. The CLI (`run SPEC.json`), the app's wizard and the presets (demo, smoke) all produce one.
 *
 * `parseAuditSpec` checks shape, ranges and cross-field consistency here, on the shared
 * side (no engine); the main side's `validateAgainstRegistries` (src-main/runner/)
 * adds what needs the attack and defence registries (which ids exist, parameter names and
 * values, metric ids). Consistency rules live in spec-consistency.ts, the wording of
 * problems in spec-issues.ts. Every problem names its field path, e.g. `attacks[1].seeds: must contain at least 1 item`.
 */
import { z } from 'zod';
import { REGISTRY_ID_RE } from '../domain/attacks';
import { isPartition } from '../domain/partition';
import { FRONTIER_CEILING, FRONTIER_MIN_SEEDS } from './frontier';
import { crossFieldProblems } from './spec-consistency';
import { formatIssues } from './spec-issues';

export { isPartition };
export {
  SWEEPABLE_ATTACK_FIELDS,
  SWEEPABLE_SCENARIO_FIELDS,
  crossFieldProblems,
  sweptAttackIndices,
} from './spec-consistency';
export type { SpecProblem } from './spec-consistency';
export { formatIssues, formatPath } from './spec-issues';

export const ARCH_NAMES = ['cnn', 'vgg', 'resnet'] as const;
export const THRESHOLD_RULE_NAMES = ['paper', 'normal', 'confidence', 'quantile', 'reference-ratio'] as const;
export const VOTE_RULES = ['majority', 'any', 'all'] as const;

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

// Attack and defence ids are checked against the registries on the main side (the shared
// side cannot import the engine); here only their form.
const registryId = z.string().regex(REGISTRY_ID_RE, {
  message: 'must be an attack or defence id: lower-case letters, digits and "-", starting with a letter',
});

const DefenseSchema = z.strictObject({ id: registryId, params: paramRecord.optional() });

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

/**
 * Checkpoints kept every `every` iterations and scored with `metrics` (default: every metric
 * of the spec's defences): the spec's apply to every attack row; an attack's own replace them
 * for its rows (the demo follows RemovalNet alone, each scored checkpoint costs seconds).
 */
const CheckpointsSchema = z.strictObject({ every: posInt, metrics: z.array(z.string().min(1)).min(1).optional() });

const AttackSchema = z.strictObject({
  name: registryId,
  label: z.string().min(1).max(100).optional(),
  params: paramRecord.optional(),
  seeds: z.array(seedInt).min(1).max(1000),
  iterations: posInt,
  batchSize: posInt.optional(),
  scenarios: z.array(z.string()).min(1).optional(),
  block: z.string().min(1).optional(),
  checkpoints: CheckpointsSchema.optional(),
});

const SweepSchema = z.strictObject({
  target: z.string().min(1),
  param: z.string().min(1),
  values: z.array(ParamValueSchema).min(1).max(100),
});

/**
 * The evasion frontier, planned before the run: per grid, one row per value of an attack
 * parameter (each with the grid's seeds, at least FRONTIER_MIN_SEEDS), and the ceiling of
 * recognition at or below which a defence counts as evaded. With `iterations`, the grid's
 * rows keep checkpoints (every checkpoints.every, else 100 iterations) scored with every
 * voting metric, and the frontier also walks the iterations.
 */
const FrontierGridSchema = z.strictObject({
  target: z.string().min(1),
  param: z.string().min(1),
  values: z.array(ParamValueSchema).min(1).max(100),
  seeds: z.array(seedInt).min(FRONTIER_MIN_SEEDS).max(1000),
});

const FrontierSchema = z.strictObject({
  grids: z.array(FrontierGridSchema).min(1).max(50),
  ceiling: z.number().gt(0).max(1).default(FRONTIER_CEILING),
  iterations: z.boolean().default(false),
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
  checkpoints: CheckpointsSchema.optional(),
  verdict: z.strictObject({ rule: z.enum(VOTE_RULES) }).optional(),
  sweeps: z.array(SweepSchema).optional(),
  frontier: FrontierSchema.optional(),
});

export type BaseSpec = z.infer<typeof BaseSpecSchema>;

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
export type AuditFrontier = NonNullable<AuditSpec['frontier']>;

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

type SpecCheckpoints = Pick<AuditSpec, 'checkpoints' | 'attacks'>;

/** The checkpoints an attack's rows keep: its own, else the spec's (a frontier grid's rows may keep more: the planner). */
export function attackCheckpoints(
  spec: SpecCheckpoints,
  attack: AuditSpec['attacks'][number],
): AuditSpec['checkpoints'] {
  return attack.checkpoints ?? spec.checkpoints;
}

/** Whether any row of the spec keeps checkpoints (the spec's own, or an attack's). */
export function keepsCheckpoints(spec: SpecCheckpoints): boolean {
  return spec.attacks.some((a) => !!attackCheckpoints(spec, a));
}

/** The checkpoint interval where every row that keeps checkpoints uses the same one (undefined otherwise). */
export function checkpointEvery(spec: SpecCheckpoints): number | undefined {
  const intervals = new Set(
    spec.attacks.map((a) => attackCheckpoints(spec, a)?.every).filter((e): e is number => e !== undefined),
  );
  return intervals.size === 1 ? [...intervals][0] : undefined;
}
