/**
 * From an audit spec to the job graph of a run.
 *
 * 1. Sweeps expand: every value of a swept attack parameter becomes its own row (its label
 *    and rowId show the value, e.g. `removalnet(alpha=0.4)` / `removalnet-alpha-0.4`), and a
 *    swept scenario becomes one scenario per value (`ltd10@fraction=0.05`).
 * 2. Jobs: `victim` (only when the spec trains it), `reference:<i>` and `calibrate` (or one
 *    `calibrate` that reuses a stored calibration), then per row, scenario and seed an
 *    `attack:<rowId>:<scenarioId>:<seed>` and its `score:<rowId>:<scenarioId>:<seed>`.
 *    Negative models use scenario '-' (they train from scratch on the victim's training
 *    data, like the references; the spec's scenarios do not apply to them); their
 *    initialisation seed is the suspect's seed unless `params.seed` sets one for all.
 *
 * Keys, directories and payloads are pure functions of the spec (attack parameters are
 * listed in sorted key order), so planning the same spec again gives the same jobs: a run
 * that stopped continues with the jobs it has.
 *
 * Work directory W of the run: the victim in `W/victim`, the calibration in
 * `W/calibration/calibration.json` (its references in `calibration.json.references/`), the
 * suspects in `W/suspects/<rowId>-<scenarioId>-s<seed>` (checkpoints in `<that>.work`).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveParams, type ParamSpec } from '../../src-shared/params';
import type { RowDef } from '../../src-shared/audit/results';
import {
  SWEEPABLE_ATTACK_FIELDS,
  formatPath,
  sweptAttackIndices,
  type AuditAttack,
  type AuditSpec,
} from '../../src-shared/audit/spec';
import { getAttack } from '../engine/attacks/registry';
import type { Attack } from '../engine/attacks/types';
import { DEFAULT_PARTITION_SEED, type RunAttackRequest } from '../engine/attacks/run-attack';
import { REFERENCE_SEED_BASE, type CalibrateRequest } from '../engine/calibration/calibrate';
import { getDefense } from '../engine/defenses/registry';
import type { Defense } from '../engine/defenses/types';
import { AuditError } from '../engine/errors';
import type { TrainModelRequest } from '../engine/training/train-model';

export type JobKind = 'train-victim' | 'reference' | 'calibrate' | 'attack' | 'score';

export interface PlannedJob {
  /** Unique in the run, stable across re-expansion of the same spec. */
  key: string;
  kind: JobKind;
  deps: string[];
  /** JSON: everything the executor needs (absolute paths). */
  payload: Record<string, unknown>;
  /** Estimated cost in seconds on the wasm backend (for ETA and ordering). */
  weight: number;
  /** Human label, e.g. 'finetune(ratio=0.5) ltd10 seed 1'. */
  label: string;
}

export interface PlanContext {
  /** The run's work directory W (`<home>/runs/<runId>`). */
  workDir: string;
  runId: string;
  /** Relative paths in the spec (models, data) are resolved against this directory. */
  baseDir: string;
  /** The stored calibration to reuse, when the spec says `calibration: { reuse }`. */
  calibration?: { filePath: string };
}

// ---------------------------------------------------------------------------------------
// Cost model (weights). Measured on the 2-core AMD EPYC machine, wasm backend, demo cnn on
// Fashion-MNIST, batch 128 (bench/results/attacks.json, bench/results/audit-demo.json):
//
//   job            | estimate
//   ---------------|-----------------------------------------------------------------------
//   attack         | ATTACK_OVERHEAD_SECONDS + iterations * rate * batchSize / 128, rate:
//                  |   removalnet 0.55 s/it (1000 iterations in 520-560 s), finetune 0.05,
//                  |   prune, distill, negative, knockoff 0.19 (bench: 0.16-0.19)
//   victim, ref.   | TRAINING_OVERHEAD_SECONDS + iterations * 0.2 s/it (demo victim: 1248 it in 230 s)
//   calibrate      | 30 s + 10 s per reference (fingerprints, scoring every reference)
//   score          | 15 s + 5 s per scored checkpoint
//
// Iterations of the references follow the victim's recipe unless the spec sets them: read
// from the victim's metadata when it is a model directory, else the spec's training
// recipe; DEFAULT_TRAINING_ITERATIONS when neither says.

export const ATTACK_SECONDS_PER_ITERATION: Record<string, number> = {
  removalnet: 0.55,
  finetune: 0.05,
  prune: 0.19,
  distill: 0.19,
  negative: 0.19,
  knockoff: 0.19,
};
/** Loading victim and data, the fidelity curve, the final evaluation and saving. */
export const ATTACK_OVERHEAD_SECONDS = 8;
export const TRAINING_SECONDS_PER_ITERATION = 0.2;
export const TRAINING_OVERHEAD_SECONDS = 5;
export const CALIBRATE_BASE_SECONDS = 30;
export const CALIBRATE_SECONDS_PER_REFERENCE = 10;
export const SCORE_BASE_SECONDS = 15;
export const SCORE_SECONDS_PER_CHECKPOINT = 5;
/** The demo victim's recipe (2.5 epochs of 20,000 images at batch 128 is 391; 1248 as trained). */
export const DEFAULT_TRAINING_ITERATIONS = 1250;
/** Training images assumed when only epochs are known and the spec sets no maxTrain (the demo set). */
export const ASSUMED_TRAINING_IMAGES = 20_000;

/** The partition seed of every victim and attacker partition an audit plans: the two halves come from one split. */
export const PARTITION_SEED = DEFAULT_PARTITION_SEED;

/** Scenario id of negative models (no attacker scenario). */
export const NO_SCENARIO = '-';

type Value = number | boolean | string;

export interface ExpandedScenario {
  /** The spec's id, or `<id>@<param>=<value>` for a swept one. */
  id: string;
  /** The spec scenario it comes from. */
  origin: string;
  kind: 'ltd' | 'lsd';
  fraction?: number;
  data?: string;
  partition?: string;
}

export interface ExpandedAttack {
  /** Index of the attack in spec.attacks. */
  index: number;
  rowId: string;
  label: string;
  name: AuditAttack['name'];
  /** The spec's parameters with swept values applied (sorted by key). */
  params: Record<string, Value>;
  iterations: number;
  batchSize?: number;
  block?: string;
  seeds: number[];
  /** Expanded scenario ids; [NO_SCENARIO] for negative models. */
  scenarios: string[];
  /** The swept values of this variant. */
  swept: Record<string, Value>;
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** A filesystem-safe slug of a row label: lower case, [a-z0-9._-], at most 60 characters. */
export function rowSlug(label: string, fallback = 'row'): string {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9._]+/g, '-')
    .replace(/^[-.]+|-+$/g, '');
  const s = slug || fallback;
  return s.length <= 60 ? s : `${s.slice(0, 51).replace(/-+$/, '')}-${fnv1a(label)}`;
}

function valueSlug(v: Value): string {
  const s = String(v).replace(/[^A-Za-z0-9._-]/g, '_');
  return s.length <= 40 ? s : `${s.slice(0, 31)}-${fnv1a(String(v))}`;
}

function cartesian(sweeps: { param: string; values: Value[] }[]): Record<string, Value>[] {
  return sweeps.reduce<Record<string, Value>[]>(
    (acc, sw) => acc.flatMap((c) => sw.values.map((v) => ({ ...c, [sw.param]: v }))),
    [{}],
  );
}

function kv(o: Record<string, Value>): string {
  return Object.keys(o)
    .sort()
    .map((k) => `${k}=${String(o[k])}`)
    .join(',');
}

/** The spec with its sweeps expanded: scenarios and attack variants (rows), in spec order. */
export function expandSpec(spec: AuditSpec): { scenarios: ExpandedScenario[]; attacks: ExpandedAttack[] } {
  const sweeps = spec.sweeps ?? [];
  const scenarios: ExpandedScenario[] = [];
  const byOrigin = new Map<string, string[]>();
  for (const s of spec.scenarios) {
    const mine = sweeps.filter((sw) => sw.target === `scenario:${s.id}`);
    const base: ExpandedScenario =
      s.kind === 'ltd'
        ? { id: s.id, origin: s.id, kind: 'ltd', fraction: s.fraction }
        : { id: s.id, origin: s.id, kind: 'lsd', data: s.data, partition: s.partition };
    const variants = mine.length
      ? cartesian(mine).map((combo): ExpandedScenario => ({
          ...base,
          ...(combo as Partial<ExpandedScenario>),
          id: `${s.id}@${Object.keys(combo)
            .map((k) => `${k}=${valueSlug(combo[k])}`)
            .join(',')}`,
        }))
      : [base];
    scenarios.push(...variants);
    byOrigin.set(
      s.id,
      variants.map((v) => v.id),
    );
  }

  const attacks: ExpandedAttack[] = [];
  spec.attacks.forEach((a, index) => {
    const mine = sweeps.filter(
      (sw) => sw.target.startsWith('attack:') && sweptAttackIndices(spec, sw.target).includes(index),
    );
    for (const swept of cartesian(mine)) {
      const params: Record<string, Value> = { ...(a.params ?? {}) };
      let { iterations, batchSize, block } = a;
      for (const [k, v] of Object.entries(swept)) {
        if (k === 'iterations') iterations = v as number;
        else if (k === 'batchSize') batchSize = v as number;
        else if (k === 'block') block = v as string;
        else params[k] = v;
      }
      const sorted = Object.fromEntries(
        Object.keys(params)
          .sort()
          .map((k) => [k, params[k]]),
      );
      const label = a.label
        ? Object.keys(swept).length
          ? `${a.label}(${kv(swept)})`
          : a.label
        : Object.keys({ ...params, ...swept }).length
          ? `${a.name}(${kv({ ...params, ...swept })})`
          : a.name;
      const scenarioIds =
        a.name === 'negative'
          ? [NO_SCENARIO]
          : (a.scenarios ?? spec.scenarios.map((s) => s.id)).flatMap((id) => byOrigin.get(id) ?? []);
      attacks.push({
        index,
        rowId: rowSlug(label, a.name),
        label,
        name: a.name,
        params: sorted,
        iterations,
        batchSize,
        block,
        seeds: a.seeds,
        scenarios: scenarioIds,
        swept,
      });
    }
  });
  return { scenarios, attacks };
}

/** The rows of the results table, in spec order: one per attack variant and scenario. */
export function planRows(spec: AuditSpec): RowDef[] {
  const rows: RowDef[] = [];
  const seen = new Set<string>();
  for (const a of expandSpec(spec).attacks) {
    for (const scenario of a.scenarios) {
      const k = `${a.rowId}\u0000${scenario}`;
      if (seen.has(k)) continue;
      seen.add(k);
      rows.push({ rowId: a.rowId, attack: a.name, label: a.label, scenario });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------
// Validation against the registries

function paramProblems(specs: readonly ParamSpec[], given: Record<string, unknown>, at: (string | number)[]): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(given)) {
    const field = formatPath([...at, key]);
    if (!specs.some((s) => s.key === key)) {
      out.push(`${field}: unknown parameter (known: ${specs.map((s) => s.key).join(', ') || 'none'})`);
      continue;
    }
    const r = resolveParams(specs, { [key]: value });
    if (!r.ok) out.push(...r.problems.map((p) => `${field}: ${p.startsWith(`${key} `) ? p.slice(key.length + 1) : p}`));
  }
  return out;
}

/** Metric ids of the spec's defences (voting ones: those a calibration gives a tau). */
function specMetricIds(spec: AuditSpec): string[] {
  const ids: string[] = [];
  for (const d of spec.defenses) {
    try {
      ids.push(
        ...getDefense(d.id)
          .metrics.filter((m) => m.votes !== false)
          .map((m) => m.id),
      );
    } catch {
      // reported as an unknown defence
    }
  }
  return ids;
}

function inReferenceRange(seed: number): boolean {
  return seed >= REFERENCE_SEED_BASE && seed < REFERENCE_SEED_BASE + 1000;
}

function referenceRangeProblem(seed: number): string {
  return `seed ${seed} lies in the calibration references' seed range [${REFERENCE_SEED_BASE}, ${REFERENCE_SEED_BASE + 1000}); a reference that sets tau would flag itself`;
}

/**
 * What the shared schema cannot check: attack and defence parameters (names and values,
 * swept values included), negative-model seeds outside the references' seed range, metric
 * ids, and rows that would collide. Returns problems naming their fields; empty when fine.
 */
export function validateAgainstRegistries(spec: AuditSpec): string[] {
  const problems: string[] = [];
  spec.defenses.forEach((d, i) => {
    let defense: Defense;
    try {
      defense = getDefense(d.id);
    } catch {
      problems.push(`defenses[${i}].id: unknown defence "${d.id}"`);
      return;
    }
    problems.push(...paramProblems(defense.params, d.params ?? {}, ['defenses', i, 'params']));
  });

  const attacks: (Attack | undefined)[] = spec.attacks.map((a, i) => {
    try {
      return getAttack(a.name);
    } catch {
      problems.push(`attacks[${i}].name: unknown attack "${a.name}"`);
      return undefined;
    }
  });
  spec.attacks.forEach((a, i) => {
    const attack = attacks[i];
    if (!attack) return;
    problems.push(...paramProblems(attack.params, a.params ?? {}, ['attacks', i, 'params']));
    if (a.name === 'negative') {
      // The initialisation seed: params.seed when given (shared by every suspect), else each suspect's seed.
      const explicit = a.params?.seed === undefined ? undefined : Number(a.params.seed);
      if (explicit !== undefined && inReferenceRange(explicit))
        problems.push(`attacks[${i}].params.seed: ${referenceRangeProblem(explicit)}`);
      if (explicit === undefined) {
        a.seeds.forEach((seed, j) => {
          if (inReferenceRange(seed)) problems.push(`attacks[${i}].seeds[${j}]: ${referenceRangeProblem(seed)}`);
        });
      }
    }
  });

  (spec.sweeps ?? []).forEach((sw, i) => {
    if (!sw.target.startsWith('attack:') || (SWEEPABLE_ATTACK_FIELDS as readonly string[]).includes(sw.param)) return;
    for (const index of sweptAttackIndices(spec, sw.target)) {
      const attack = attacks[index];
      if (!attack) continue;
      if (!attack.params.some((p) => p.key === sw.param)) {
        problems.push(
          `sweeps[${i}].param: unknown parameter "${sw.param}" of ${attack.id} (known: ${[...attack.params.map((p) => p.key), ...SWEEPABLE_ATTACK_FIELDS].join(', ')})`,
        );
        continue;
      }
      sw.values.forEach((v, j) => {
        const r = resolveParams(attack.params, { [sw.param]: v });
        if (!r.ok) problems.push(...r.problems.map((p) => `sweeps[${i}].values[${j}]: ${p}`));
        else if (attack.id === 'negative' && sw.param === 'seed' && inReferenceRange(r.values.seed as number))
          problems.push(`sweeps[${i}].values[${j}]: ${referenceRangeProblem(r.values.seed as number)}`);
      });
    }
  });

  const metricIds = specMetricIds(spec);
  spec.checkpoints?.metrics?.forEach((id, j) => {
    if (!metricIds.includes(id))
      problems.push(
        `checkpoints.metrics[${j}]: unknown metric "${id}" (metrics of the spec's defences: ${metricIds.join(', ')})`,
      );
  });
  if ('references' in spec.calibration) {
    for (const id of Object.keys(spec.calibration.metricRules ?? {})) {
      if (!metricIds.includes(id))
        problems.push(
          `${formatPath(['calibration', 'metricRules', id])}: unknown metric (metrics of the spec's defences: ${metricIds.join(', ')})`,
        );
    }
  }

  // Two variants that make the same row (same label and scenario) would share job keys.
  try {
    const owner = new Map<string, number>();
    for (const a of expandSpec(spec).attacks) {
      for (const scenario of a.scenarios) {
        const k = `${a.rowId}\u0000${scenario}`;
        const first = owner.get(k);
        if (first !== undefined && first !== a.index) {
          problems.push(
            `attacks[${a.index}]: makes the same row as attacks[${first}] ("${a.label}", scenario ${scenario}); give one of them a distinct label`,
          );
        } else if (first === undefined) owner.set(k, a.index);
      }
    }
  } catch (e) {
    problems.push(`sweeps: ${(e as Error).message}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// Jobs

function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Iterations of a model directory's recorded training recipe, if it has one. */
function recordedIterations(modelDir: string): number | undefined {
  try {
    const meta = JSON.parse(readFileSync(join(modelDir, 'ownership-audit.json'), 'utf8')) as {
      training?: { iterations?: unknown };
    };
    const it = meta.training?.iterations;
    return typeof it === 'number' && it > 0 ? it : undefined;
  } catch {
    return undefined;
  }
}

function epochIterations(epochs: number, batchSize: number | undefined, maxTrain: number | undefined): number {
  return Math.ceil((epochs * (maxTrain ?? ASSUMED_TRAINING_IMAGES)) / (batchSize ?? 128));
}

export function attackWeight(name: string, iterations: number, batchSize = 128): number {
  const rate = ATTACK_SECONDS_PER_ITERATION[name] ?? 0.19;
  return Math.round(ATTACK_OVERHEAD_SECONDS + (iterations * rate * batchSize) / 128);
}

function trainingWeight(iterations: number): number {
  return Math.round(TRAINING_OVERHEAD_SECONDS + iterations * TRAINING_SECONDS_PER_ITERATION);
}

export function planJobs(spec: AuditSpec, ctx: PlanContext): PlannedJob[] {
  const problems = validateAgainstRegistries(spec);
  if (problems.length) {
    throw new AuditError('SPEC_INVALID', `The audit spec is invalid:\n  ${problems.join('\n  ')}`, {
      hint: 'Fix the fields named above; `ownership-audit attacks` lists attack parameters.',
    });
  }
  const W = resolve(ctx.workDir);
  const abs = (p: string): string => resolve(ctx.baseDir, p);
  const jobs: PlannedJob[] = [];
  const trained = 'train' in spec.victim ? spec.victim.train : undefined;
  const victimDir = trained ? join(W, 'victim') : abs((spec.victim as { model: string }).model);
  const victimDeps = trained ? ['victim'] : [];
  const dataTrain = abs(spec.data.train);
  const testDir = abs(spec.data.test ?? spec.data.train);
  const { maxTest, maxTrain } = spec.data;

  // Iterations of the victim's recipe (for the weights of victim and references).
  let victimIterations: number;
  if (trained) {
    victimIterations =
      trained.iterations ??
      (trained.epochs !== undefined
        ? epochIterations(trained.epochs, trained.batchSize, maxTrain)
        : DEFAULT_TRAINING_ITERATIONS);
    const payload: TrainModelRequest = compact({
      arch: trained.arch,
      dataDir: abs(trained.data),
      partition: trained.partition,
      partitionSeed: trained.partition ? PARTITION_SEED : undefined,
      outDir: victimDir,
      seed: trained.seed,
      epochs: trained.epochs,
      iterations: trained.iterations,
      batchSize: trained.batchSize,
      learningRate: trained.learningRate,
      width: trained.width,
      blocks: trained.blocks,
      depth: trained.depth,
      hidden: trained.hidden,
      maxTrain,
      maxTest,
    });
    jobs.push({
      key: 'victim',
      kind: 'train-victim',
      deps: [],
      payload: { ...payload },
      weight: trainingWeight(victimIterations),
      label: `train victim (${trained.arch}, seed ${trained.seed})`,
    });
  } else {
    victimIterations = recordedIterations(victimDir) ?? DEFAULT_TRAINING_ITERATIONS;
  }

  // Calibration.
  let calibrationFile: string;
  if ('reuse' in spec.calibration) {
    if (!ctx.calibration) {
      throw new AuditError(
        'INVALID_ARGUMENT',
        `The spec reuses calibration ${spec.calibration.reuse} but the planner was not given its file`,
        { hint: 'Look the calibration up in the store and pass its filePath.' },
      );
    }
    calibrationFile = resolve(ctx.calibration.filePath);
    jobs.push({
      key: 'calibrate',
      kind: 'calibrate',
      deps: victimDeps,
      payload: { reuse: calibrationFile, victimDir },
      weight: 1,
      label: `reuse calibration ${spec.calibration.reuse}`,
    });
  } else {
    const cal = spec.calibration;
    calibrationFile = join(W, 'calibration', 'calibration.json');
    const request: CalibrateRequest = compact({
      victimDir,
      dataDir: dataTrain,
      outFile: calibrationFile,
      references: cal.references,
      defenses: spec.defenses.map((d) => d.id),
      defenseParams: Object.fromEntries(spec.defenses.map((d) => [d.id, { ...(d.params ?? {}) }])),
      rule: cal.rule,
      metricRules: cal.metricRules,
      referenceIterations: cal.referenceIterations,
      referenceEpochs: cal.referenceEpochs,
      noise: cal.noise,
      maxTrain,
      maxTest,
    });
    const refIterations =
      cal.referenceIterations ??
      (cal.referenceEpochs !== undefined
        ? epochIterations(cal.referenceEpochs, trained?.batchSize, maxTrain)
        : victimIterations);
    const refKeys: string[] = [];
    for (let i = 0; i < cal.references; i++) {
      refKeys.push(`reference:${i}`);
      jobs.push({
        key: `reference:${i}`,
        kind: 'reference',
        deps: victimDeps,
        payload: { index: i, calibrate: request },
        weight: trainingWeight(refIterations),
        label: `reference model ${i + 1}/${cal.references}`,
      });
    }
    jobs.push({
      key: 'calibrate',
      kind: 'calibrate',
      deps: [...victimDeps, ...refKeys],
      payload: { ...request },
      weight: CALIBRATE_BASE_SECONDS + CALIBRATE_SECONDS_PER_REFERENCE * cal.references,
      label: `calibration (${cal.references} references)`,
    });
  }

  // Attacks and their scoring.
  const { scenarios, attacks } = expandSpec(spec);
  const scenarioById = new Map(scenarios.map((s) => [s.id, s]));
  const victimPartOfTrain = trained?.partition && abs(trained.data) === dataTrain ? trained.partition : undefined;
  const checkpointMetrics = spec.checkpoints ? (spec.checkpoints.metrics ?? specMetricIds(spec)) : null;
  const rule = spec.verdict?.rule ?? 'majority';

  for (const a of attacks) {
    for (const scenarioId of a.scenarios) {
      let substitute: Pick<RunAttackRequest, 'substituteDir' | 'fraction' | 'partition' | 'partitionSeed'>;
      if (scenarioId === NO_SCENARIO) {
        // A negative model trains from scratch on the victim's training data, as the references do.
        substitute = { substituteDir: dataTrain };
      } else {
        const s = scenarioById.get(scenarioId) as ExpandedScenario;
        substitute =
          s.kind === 'ltd'
            ? // S_LTD: a share of the victim's training data (of its part when it trained on one).
              compact({
                substituteDir: dataTrain,
                fraction: s.fraction,
                partition: victimPartOfTrain,
                partitionSeed: victimPartOfTrain ? PARTITION_SEED : undefined,
              })
            : compact({
                substituteDir: abs(s.data ?? spec.data.train),
                partition: s.partition,
                partitionSeed: s.partition ? PARTITION_SEED : undefined,
              });
      }
      for (const seed of a.seeds) {
        const tail = `${a.rowId}:${scenarioId}:${seed}`;
        const attackKey = `attack:${tail}`;
        const outDir = join(W, 'suspects', `${a.rowId}-${scenarioId}-s${seed}`);
        const where = scenarioId === NO_SCENARIO ? '' : ` ${scenarioId}`;
        const request: RunAttackRequest & {
          seed: number;
          rowId: string;
          scenario: string;
          label: string;
          suspectKey: string;
        } = compact({
          attack: a.name,
          victimDir,
          ...substitute,
          testDir,
          params: a.name === 'negative' ? { seed, ...a.params } : { ...a.params },
          iterations: a.iterations,
          batchSize: a.batchSize,
          outDir,
          checkpointEvery: spec.checkpoints?.every ?? Math.max(50, Math.ceil(a.iterations / 10)),
          keepTrajectory: Boolean(spec.checkpoints),
          resume: true,
          block: a.block,
          maxTest,
          maxTrain,
          seed,
          rowId: a.rowId,
          scenario: scenarioId,
          label: a.label,
          suspectKey: attackKey,
        });
        jobs.push({
          key: attackKey,
          kind: 'attack',
          deps: [...victimDeps],
          payload: { ...request },
          weight: attackWeight(a.name, a.iterations, a.batchSize),
          label: `${a.label}${where} seed ${seed}`,
        });

        const checkpoints = spec.checkpoints ? Math.floor(a.iterations / spec.checkpoints.every) : 0;
        jobs.push({
          key: `score:${tail}`,
          kind: 'score',
          deps: [attackKey, 'calibrate'],
          payload: compact({
            suspectKey: attackKey,
            victimDir,
            suspectDir: outDir,
            dataDir: testDir,
            calibrationFile,
            rule,
            maxTest,
            checkpointMetrics,
            rowId: a.rowId,
            scenario: scenarioId,
            seed,
            label: a.label,
            attack: a.name,
          }),
          weight: SCORE_BASE_SECONDS + SCORE_SECONDS_PER_CHECKPOINT * (checkpointMetrics ? checkpoints : 0),
          label: `score ${a.label}${where} seed ${seed}`,
        });
      }
    }
  }
  return jobs;
}
