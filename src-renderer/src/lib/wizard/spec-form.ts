/**
 * The wizard's form and the audit spec, both ways: `specToForm` fills the form from a spec (a
 * preset, or a run to repeat), `formToSpec` writes the spec the form stands for (it may be
 * invalid: the schema and the steps' checks say why). Pure: no DOM, no runes, no calls; the
 * wizard's state (wizard/*.svelte.ts) holds a form's fields as reactive state and hands
 * itself to `formToSpec`.
 */
import { ARCH_NAMES, THRESHOLD_RULE_NAMES, VOTE_RULES, type AuditSpec } from '../../../../src-shared/audit/spec';
import type { Catalog, CatalogAttack } from '../../../../src-shared/contract/api';
import { paramDefaults, type ParamSpec } from '../../../../src-shared/params';

export type ParamInput = Record<string, number | boolean | string | null>;

export interface ScenarioEntry {
  uid: number;
  kind: 'ltd' | 'lsd';
  /** Fixed id (from a loaded spec); null = derived from the fields. */
  id: string | null;
  fraction: number | null;
  lsdSource: 'data' | 'partition';
  data: string;
  partition: string;
}

export interface DefenceEntry {
  id: string;
  enabled: boolean;
  params: ParamInput;
  /** Parameters a loaded spec stated explicitly: kept even at their default (they name the row). */
  explicit?: string[];
}

export interface AttackEntry {
  uid: number;
  name: string;
  enabled: boolean;
  params: ParamInput;
  explicit?: string[];
  seeds: string;
  iterations: number | null;
  /** Kept from a loaded spec. */
  label?: string;
  batchSize?: number;
  scenarios?: string[];
  /** The row's own checkpoints, kept from a loaded spec (the form edits the spec-wide ones). */
  checkpoints?: { every: number; metrics?: string[] };
  block: string;
}

/** Fields of a loaded spec the form does not edit, written back as they were. */
export interface KeptFields {
  victimTrain?: Record<string, unknown>;
  data?: Record<string, unknown>;
  calibration?: Record<string, unknown>;
  sweeps?: unknown[];
  frontier?: Record<string, unknown>;
}

/** Step 1: the victim. */
export interface VictimForm {
  victimMode: 'demo' | 'folder' | 'train';
  modelPath: string;
  trainArch: (typeof ARCH_NAMES)[number];
  trainData: string;
  trainSeed: number | null;
  trainEpochs: number | null;
}

/** Step 2: the data and the attacker's substitute scenarios. */
export interface DataForm {
  dataTrain: string;
  dataTest: string;
  maxTest: number | null;
  scenarios: ScenarioEntry[];
}

/** Step 3: the defences, their calibration and the vote. */
export interface DefencesForm {
  defences: DefenceEntry[];
  calibrationMode: 'build' | 'reuse';
  references: number | null;
  rule: (typeof THRESHOLD_RULE_NAMES)[number];
  ruleParameter: number | null;
  referenceIterations: number | null;
  reuseId: string;
  verdictRule: (typeof VOTE_RULES)[number];
}

/** Step 4: the attacks and their checkpoints. */
export interface AttacksForm {
  attacks: AttackEntry[];
  checkpointsEvery: number | null;
  checkpointMetrics: string[];
}

/** Everything the form edits; the review step adds the name. */
export interface WizardForm extends VictimForm, DataForm, DefencesForm, AttacksForm {
  name: string;
  kept: KeptFields;
}

export const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
export const isInt = (x: unknown): x is number => isNum(x) && Number.isInteger(x);

let nextUid = 1;
/** Keys for the form's list entries (stable across edits, new on every load). */
export const newUid = (): number => nextUid++;

/** '1, 2 3' -> [1, 2, 3]; a one-line problem otherwise. */
export function parseSeeds(text: string): { ok: true; seeds: number[] } | { ok: false; problem: string } {
  const parts = text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) return { ok: false, problem: 'needs at least one seed (one suspect per seed)' };
  const seeds: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return { ok: false, problem: `"${p}" is not a seed: seeds are non-negative integers` };
    const n = Number(p);
    if (seeds.includes(n)) return { ok: false, problem: `seed ${n} appears twice: each seed gives one suspect` };
    seeds.push(n);
  }
  return { ok: true, seeds };
}

/** The auto id of a scenario: 'ltd10' for 10 %, 'lsd' / 'lsd-1of2' for S_LSD. */
export function autoScenarioId(s: Pick<ScenarioEntry, 'kind' | 'fraction' | 'lsdSource' | 'partition'>): string {
  if (s.kind === 'ltd') {
    const pct = isNum(s.fraction) ? Number((s.fraction * 100).toPrecision(4)) : 0;
    return `ltd${String(pct).replace(/[^0-9.]/g, '')}`;
  }
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s.partition);
  return s.lsdSource === 'partition' && m ? `lsd-${m[1]}of${m[2]}` : 'lsd';
}

/** The ids the scenarios get in the spec: fixed or derived, numbered where two derive the same. */
export function scenarioIds(scenarios: readonly ScenarioEntry[]): string[] {
  const seen = new Map<string, number>();
  return scenarios.map((s) => {
    const base = s.id ?? autoScenarioId(s);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return s.id !== null || n === 1 ? base : `${base}-${n}`;
  });
}

/** The values that differ from their defaults, and those in `keep` (what the spec needs to say). */
export function changedParams(
  specs: readonly ParamSpec[],
  values: ParamInput,
  keep: readonly string[] = [],
): Record<string, number | boolean | string> | undefined {
  const out: Record<string, number | boolean | string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined) continue;
    const spec = specs.find((s) => s.key === k);
    if (spec && spec.default === v && !keep.includes(k)) continue;
    out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Metric ids of the enabled defences (what checkpoints can record). */
export function availableMetrics(defences: readonly DefenceEntry[], catalog: Catalog): { id: string; kind: string }[] {
  const on = new Set(defences.filter((d) => d.enabled).map((d) => d.id));
  return catalog.defenses
    .filter((d) => on.has(d.id))
    .flatMap((d) => d.metrics.map((m) => ({ id: m.id, kind: m.kind })));
}

export function newScenario(kind: 'ltd' | 'lsd'): ScenarioEntry {
  return { uid: newUid(), kind, id: null, fraction: 0.1, lsdSource: 'partition', data: '', partition: '1/2' };
}

/** An attack as the form offers it before anyone edits it. */
export function newAttack(a: CatalogAttack, enabled: boolean): AttackEntry {
  return {
    uid: newUid(),
    name: a.id,
    enabled,
    params: paramDefaults(a.params),
    seeds: a.defaultSeeds.join(', '),
    iterations: 300,
    block: '',
  };
}

/** Empty form with defaults: demo victim, every defence but the opt-in ones, every attack off. */
export function emptyForm(catalog: Catalog): WizardForm {
  return {
    name: 'audit',
    kept: {},
    victimMode: 'demo',
    modelPath: '',
    trainArch: 'cnn',
    trainData: catalog.demo.data,
    trainSeed: 1,
    trainEpochs: 8,
    dataTrain: catalog.demo.data,
    dataTest: '',
    maxTest: null,
    scenarios: [newScenario('ltd')],
    // Opt-in defences (baselines) are listed but start unchecked.
    defences: catalog.defenses.map((d) => ({ id: d.id, enabled: !d.optIn, params: paramDefaults(d.params) })),
    calibrationMode: 'build',
    references: 5,
    rule: 'paper',
    ruleParameter: null,
    referenceIterations: null,
    reuseId: '',
    verdictRule: 'majority',
    attacks: catalog.attacks.map((a) => newAttack(a, false)),
    checkpointsEvery: null,
    checkpointMetrics: [],
  };
}

function scenarioEntry(s: AuditSpec['scenarios'][number]): ScenarioEntry {
  const e: ScenarioEntry =
    s.kind === 'ltd'
      ? { ...newScenario('ltd'), id: s.id, fraction: s.fraction }
      : {
          ...newScenario('lsd'),
          id: s.id,
          lsdSource: s.data ? 'data' : 'partition',
          data: s.data ?? '',
          partition: s.partition ?? '1/2',
        };
  if (autoScenarioId(e) === s.id) e.id = null;
  return e;
}

/** The form that writes `spec` (a preset, or a run to repeat). */
export function specToForm(spec: AuditSpec, catalog: Catalog): WizardForm {
  const f = emptyForm(catalog);
  f.name = spec.name;
  if ('model' in spec.victim) {
    if (spec.victim.model !== catalog.demo.model) {
      f.victimMode = 'folder';
      f.modelPath = spec.victim.model;
    }
  } else {
    const { arch, data, seed, epochs, ...rest } = spec.victim.train;
    f.victimMode = 'train';
    f.trainArch = arch;
    f.trainData = data;
    f.trainSeed = seed;
    f.trainEpochs = epochs ?? null;
    if (Object.keys(rest).length) f.kept.victimTrain = rest;
  }
  const { train, test, maxTest, ...dataRest } = spec.data;
  f.dataTrain = train;
  f.dataTest = test ?? '';
  f.maxTest = maxTest ?? null;
  if (Object.keys(dataRest).length) f.kept.data = dataRest;
  f.scenarios = spec.scenarios.map(scenarioEntry);

  const chosen = new Map<string, (typeof spec.defenses)[number]>(spec.defenses.map((d) => [d.id, d]));
  // The spec's order first (it orders the table's columns and keeps the spec's hash), then the rest.
  const defenceOrder = [
    ...spec.defenses.map((d) => d.id as string),
    ...catalog.defenses.map((d) => d.id).filter((id) => !chosen.has(id)),
  ];
  f.defences = defenceOrder.flatMap((id) => {
    const d = catalog.defenses.find((x) => x.id === id);
    const given = chosen.get(id)?.params ?? {};
    const params = { ...paramDefaults(d?.params ?? []), ...given };
    return d ? [{ id: d.id, enabled: chosen.has(d.id), params, explicit: Object.keys(given) }] : [];
  });
  if ('reuse' in spec.calibration) {
    f.calibrationMode = 'reuse';
    f.reuseId = spec.calibration.reuse;
  } else {
    const { references, rule, referenceIterations, ...calRest } = spec.calibration;
    f.references = references;
    f.rule = rule?.name ?? 'paper';
    f.ruleParameter = rule?.parameter ?? null;
    f.referenceIterations = referenceIterations ?? null;
    if (Object.keys(calRest).length) f.kept.calibration = calRest;
  }
  f.verdictRule = spec.verdict?.rule ?? 'majority';

  // The spec's attacks in its order (the order of the table's rows), then the others switched off.
  f.attacks = spec.attacks.flatMap((g): AttackEntry[] => {
    const a = catalog.attacks.find((x) => x.id === g.name);
    if (!a) return [];
    return [
      {
        uid: newUid(),
        name: a.id,
        enabled: true,
        params: { ...paramDefaults(a.params), ...(g.params ?? {}) },
        explicit: Object.keys(g.params ?? {}),
        seeds: g.seeds.join(', '),
        iterations: g.iterations,
        block: g.block ?? '',
        ...(g.label !== undefined ? { label: g.label } : {}),
        ...(g.batchSize !== undefined ? { batchSize: g.batchSize } : {}),
        ...(g.scenarios !== undefined ? { scenarios: [...g.scenarios] } : {}),
        ...(g.checkpoints !== undefined ? { checkpoints: structuredClone(g.checkpoints) } : {}),
      },
    ];
  });
  for (const a of catalog.attacks) if (!spec.attacks.some((g) => g.name === a.id)) f.attacks.push(newAttack(a, false));
  f.checkpointsEvery = spec.checkpoints?.every ?? null;
  f.checkpointMetrics = spec.checkpoints?.metrics ? [...spec.checkpoints.metrics] : [];
  if (spec.sweeps) f.kept.sweeps = spec.sweeps;
  if (spec.frontier) f.kept.frontier = spec.frontier;
  return f;
}

/** The spec the form stands for, as JSON input to the schema (it may be invalid). */
export function formToSpec(f: Readonly<WizardForm>, catalog: Catalog): Record<string, unknown> {
  const specs = (id: string, list: readonly { id: string; params: ParamSpec[] }[]): ParamSpec[] =>
    list.find((x) => x.id === id)?.params ?? [];
  const victim =
    f.victimMode === 'train'
      ? {
          train: {
            ...(f.kept.victimTrain ?? {}),
            arch: f.trainArch,
            data: f.trainData.trim(),
            seed: f.trainSeed,
            ...(f.trainEpochs !== null ? { epochs: f.trainEpochs } : {}),
          },
        }
      : { model: f.victimMode === 'demo' ? catalog.demo.model : f.modelPath.trim() };
  const ids = scenarioIds(f.scenarios);
  const scenarios = f.scenarios.map((s, i) =>
    s.kind === 'ltd'
      ? { id: ids[i], kind: 'ltd', fraction: s.fraction }
      : {
          id: ids[i],
          kind: 'lsd',
          ...(s.lsdSource === 'data' ? { data: s.data.trim() } : { partition: s.partition.trim() }),
        },
  );
  const defenses = f.defences
    .filter((d) => d.enabled)
    .map((d) => {
      const params = changedParams(specs(d.id, catalog.defenses), d.params, d.explicit);
      return { id: d.id, ...(params ? { params } : {}) };
    });
  const ruleParameter = f.ruleParameter !== null && f.rule !== 'paper' ? { parameter: f.ruleParameter } : {};
  const calibration =
    f.calibrationMode === 'reuse'
      ? { reuse: f.reuseId }
      : {
          ...(f.kept.calibration ?? {}),
          references: f.references,
          ...(f.rule !== 'paper' || f.ruleParameter !== null ? { rule: { name: f.rule, ...ruleParameter } } : {}),
          ...(f.referenceIterations !== null ? { referenceIterations: f.referenceIterations } : {}),
        };
  const attacks = f.attacks
    .filter((a) => a.enabled)
    .map((a) => {
      const params = changedParams(specs(a.name, catalog.attacks), a.params, a.explicit);
      const seeds = parseSeeds(a.seeds);
      return {
        name: a.name,
        ...(a.label !== undefined ? { label: a.label } : {}),
        ...(params ? { params } : {}),
        seeds: seeds.ok ? seeds.seeds : [],
        iterations: a.iterations,
        ...(a.batchSize !== undefined ? { batchSize: a.batchSize } : {}),
        ...(a.scenarios !== undefined ? { scenarios: a.scenarios } : {}),
        ...(a.block ? { block: a.block } : {}),
        ...(a.checkpoints !== undefined ? { checkpoints: a.checkpoints } : {}),
      };
    });
  const offered = availableMetrics(f.defences, catalog);
  const metrics = f.checkpointMetrics.filter((m) => offered.some((x) => x.id === m));
  return {
    version: 1,
    name: f.name.trim(),
    victim,
    data: {
      train: f.dataTrain.trim(),
      ...(f.dataTest.trim() ? { test: f.dataTest.trim() } : {}),
      ...(f.maxTest !== null ? { maxTest: f.maxTest } : {}),
      ...(f.kept.data ?? {}),
    },
    scenarios,
    defenses,
    calibration,
    attacks,
    ...(f.checkpointsEvery !== null
      ? { checkpoints: { every: f.checkpointsEvery, ...(metrics.length ? { metrics } : {}) } }
      : {}),
    verdict: { rule: f.verdictRule },
    ...(f.kept.sweeps ? { sweeps: f.kept.sweeps } : {}),
    ...(f.kept.frontier ? { frontier: f.kept.frontier } : {}),
  };
}
