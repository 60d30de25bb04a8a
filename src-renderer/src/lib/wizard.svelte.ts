/**
 * The audit wizard's state: five steps that together produce an audit spec (the same JSON
 * document the CLI runs). Every step validates as you go: local checks give one-line
 * explanations in the words of the form, then `parseAuditSpec` (the shared schema) and the
 * main side's `checkSpec` (registries, files, the estimate) add what only they can know.
 *
 * No DOM here: the screens bind to these fields, the tests drive them directly.
 */
import {
  ARCH_NAMES,
  THRESHOLD_RULE_NAMES,
  VOTE_RULES,
  isPartition,
  parseAuditSpec,
  SCENARIO_ID_RE,
  type AuditSpec,
} from '../../../src-shared/audit/spec';
import type {
  ApiError,
  AuditClient,
  CalibrationSummary,
  Catalog,
  CatalogEntry,
  DatasetPreview,
  ModelSummary,
  SpecCheck,
} from '../../../src-shared/contract/api';
import { resolveParams, type ParamSpec } from '../../../src-shared/params';
import { settle } from './format';

export type StepId = 'victim' | 'data' | 'defences' | 'attacks' | 'review';

export const STEPS: readonly { id: StepId; title: string; help: string }[] = [
  { id: 'victim', title: 'Victim', help: 'The model whose ownership you want to protect.' },
  { id: 'data', title: 'Data', help: "The test set that measures fidelity, and the attacker's substitute data." },
  {
    id: 'defences',
    title: 'Defences',
    help: 'The fingerprinting defences to audit and how their thresholds are calibrated.',
  },
  { id: 'attacks', title: 'Attacks', help: 'The removal attacks each defence must withstand, with seeds and budgets.' },
  { id: 'review', title: 'Review', help: 'The audit spec as it will run; start it here.' },
];

/** One line per choice, shown next to it. */
export const HELP = {
  victimDemo:
    'The committed demo CNN, trained on the embedded Fashion-MNIST subset (89.8 % test accuracy): nothing to prepare.',
  victimFolder:
    'A model saved by `ownership-audit train` or the attack command: the folder that holds model.json and its metadata.',
  victimTrain: 'Trains a victim from a zoo architecture as the first job of the audit; pick its data, seed and epochs.',
  dataTrain:
    'The data set the victim was trained on: its test split measures fidelity and S_LTD draws from its training split.',
  dataTest:
    "Leave empty to use the test split of the victim's data set; or name another data folder whose test split to use.",
  maxTest:
    'Test images used for fidelity and fingerprints: fewer is faster, more is steadier. Empty = the whole test split.',
  ltd: "S_LTD: the attacker holds a share of the victim's own training data (the paper uses 10 %).",
  lsd: 'S_LSD: the attacker holds other data of the same task: another data set folder, or another part "k/n" of the victim\'s data.',
  calibrationBuild:
    'Trains K reference models independently of the victim; each threshold tau separates them from derived models.',
  calibrationReuse: 'Reuses the thresholds of an earlier audit of the same victim: no reference models to train.',
  references: 'K reference models: more give steadier thresholds and take longer (the paper uses 5-10).',
  rule: 'How tau follows from the reference values: "paper" takes the closest reference; the others fit a distribution.',
  referenceIterations: "Training iterations per reference model; empty = the victim's own recipe.",
  verdict: 'How the metrics vote on each suspect: majority (paper), any metric, or all metrics.',
  seeds: 'One suspect per seed: comma-separated non-negative integers. More seeds give mean ± std per row.',
  iterations: 'Optimiser steps per attack (the paper runs 1000); cost grows linearly.',
  checkpoints:
    'Scores suspects every N iterations to draw fidelity against normalised distance; empty = final models only.',
  workers: 'Parallel worker processes for this audit: one per core on CPU backends, one on a GPU.',
} as const;

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
  block: string;
}

export type PreviewState =
  { status: 'loading' } | { status: 'ok'; value: DatasetPreview } | { status: 'error'; error: ApiError };

export type WizardClient = Pick<
  AuditClient,
  'inspectModel' | 'previewDataset' | 'checkSpec' | 'startRun' | 'listCalibrations' | 'pickPath'
>;

export interface WizardOptions {
  /** Worker processes by default (EngineInfo.defaultWorkers). */
  workers?: number;
  /** A native file dialog is available (Electron). */
  canBrowse?: boolean;
}

const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isInt = (x: unknown): x is number => num(x) && Number.isInteger(x);

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
    const pct = num(s.fraction) ? Number((s.fraction * 100).toPrecision(4)) : 0;
    return `ltd${String(pct).replace(/[^0-9.]/g, '')}`;
  }
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s.partition);
  return s.lsdSource === 'partition' && m ? `lsd-${m[1]}of${m[2]}` : 'lsd';
}

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

/** Which step a spec problem such as `attacks[1].seeds: ...` belongs to. */
export function stepOfProblem(problem: string): StepId {
  const head = /^([A-Za-z_$][\w$]*)/.exec(problem)?.[1] ?? '';
  if (head === 'victim') return 'victim';
  if (head === 'data' || head === 'scenarios') return 'data';
  if (head === 'defenses' || head === 'calibration' || head === 'verdict') return 'defences';
  if (head === 'attacks' || head === 'checkpoints' || head === 'sweeps') return 'attacks';
  return 'review';
}

let nextUid = 1;
const uid = (): number => nextUid++;

export class WizardState {
  readonly client: WizardClient;
  readonly catalog: Catalog;
  readonly canBrowse: boolean;

  step = $state(0);
  name = $state('audit');

  // (1) victim
  victimMode = $state<'demo' | 'folder' | 'train'>('demo');
  modelPath = $state('');
  trainArch = $state<(typeof ARCH_NAMES)[number]>('cnn');
  trainData = $state('');
  trainSeed = $state<number | null>(1);
  trainEpochs = $state<number | null>(8);
  modelSummary = $state.raw<ModelSummary | null>(null);
  modelError = $state.raw<ApiError | null>(null);
  inspecting = $state(false);
  /** The path the summary or error is for. */
  inspectedPath = $state('');

  // (2) data
  dataTrain = $state('');
  dataTest = $state('');
  maxTest = $state<number | null>(null);
  scenarios = $state<ScenarioEntry[]>([]);
  previews = $state<Record<string, PreviewState>>({});

  // (3) defences and calibration
  defences = $state<DefenceEntry[]>([]);
  calibrationMode = $state<'build' | 'reuse'>('build');
  references = $state<number | null>(5);
  rule = $state<(typeof THRESHOLD_RULE_NAMES)[number]>('paper');
  ruleParameter = $state<number | null>(null);
  referenceIterations = $state<number | null>(null);
  reuseId = $state('');
  calibrations = $state.raw<CalibrationSummary[]>([]);
  calibrationsError = $state.raw<ApiError | null>(null);
  verdictRule = $state<(typeof VOTE_RULES)[number]>('majority');

  // (4) attacks
  attacks = $state<AttackEntry[]>([]);
  checkpointsEvery = $state<number | null>(null);
  checkpointMetrics = $state<string[]>([]);
  workers = $state<number | null>(null);

  // the main side's opinion
  check = $state.raw<SpecCheck | null>(null);
  checkError = $state.raw<ApiError | null>(null);
  checking = $state(false);
  /** The spec JSON the check is for (a stale check is not shown as current). */
  checkedJson = $state('');
  starting = $state(false);
  startError = $state.raw<ApiError | null>(null);

  /** Fields of a loaded spec the form does not edit, kept as they were. */
  private extras: {
    victimTrain?: Record<string, unknown>;
    data?: Record<string, unknown>;
    calibration?: Record<string, unknown>;
    sweeps?: unknown[];
  } = {};
  private checkTimer: ReturnType<typeof setTimeout> | null = null;
  private checkSeq = 0;

  constructor(client: WizardClient, catalog: Catalog, opts: WizardOptions = {}) {
    this.client = client;
    this.catalog = catalog;
    this.canBrowse = opts.canBrowse ?? false;
    this.workers = opts.workers ?? null;
    const start = catalog.presets.find((p) => p.id === 'demo') ?? catalog.presets[0];
    if (start) this.loadSpec(start.spec);
    else this.reset();
  }

  // ---------------------------------------------------------------------------------------
  // Loading

  /** Empty form with defaults: demo victim, all four defences, every attack off. */
  reset(): void {
    this.extras = {};
    this.name = 'audit';
    this.victimMode = 'demo';
    this.modelPath = '';
    this.trainData = this.catalog.demo.data;
    this.dataTrain = this.catalog.demo.data;
    this.dataTest = '';
    this.maxTest = null;
    this.scenarios = [
      { uid: uid(), kind: 'ltd', id: null, fraction: 0.1, lsdSource: 'partition', data: '', partition: '1/2' },
    ];
    this.defences = this.catalog.defenses.map((d) => ({ id: d.id, enabled: true, params: defaults(d.params) }));
    this.calibrationMode = 'build';
    this.references = 5;
    this.rule = 'paper';
    this.ruleParameter = null;
    this.referenceIterations = null;
    this.reuseId = '';
    this.verdictRule = 'majority';
    this.attacks = this.catalog.attacks.map((a) => this.attackEntry(a, false));
    this.checkpointsEvery = null;
    this.checkpointMetrics = [];
    this.step = 0;
    this.check = null;
    this.startError = null;
  }

  private attackEntry(a: CatalogEntry, enabled: boolean): AttackEntry {
    return {
      uid: uid(),
      name: a.id,
      enabled,
      params: defaults(a.params),
      seeds: a.id === 'negative' ? '777' : '1',
      iterations: 300,
      block: '',
    };
  }

  /** Fills the form from a spec (a preset, or a run to repeat). */
  loadSpec(spec: AuditSpec): void {
    this.reset();
    this.name = spec.name;
    if ('model' in spec.victim) {
      if (spec.victim.model === this.catalog.demo.model) this.victimMode = 'demo';
      else {
        this.victimMode = 'folder';
        this.modelPath = spec.victim.model;
      }
    } else {
      const { arch, data, seed, epochs, ...rest } = spec.victim.train;
      this.victimMode = 'train';
      this.trainArch = arch;
      this.trainData = data;
      this.trainSeed = seed;
      this.trainEpochs = epochs ?? null;
      this.extras.victimTrain = rest;
    }
    const { train, test, maxTest, ...dataRest } = spec.data;
    this.dataTrain = train;
    this.dataTest = test ?? '';
    this.maxTest = maxTest ?? null;
    this.extras.data = dataRest;
    this.scenarios = spec.scenarios.map((s) => {
      const e: ScenarioEntry =
        s.kind === 'ltd'
          ? {
              uid: uid(),
              kind: 'ltd',
              id: s.id,
              fraction: s.fraction,
              lsdSource: 'partition',
              data: '',
              partition: '1/2',
            }
          : {
              uid: uid(),
              kind: 'lsd',
              id: s.id,
              fraction: 0.1,
              lsdSource: s.data ? 'data' : 'partition',
              data: s.data ?? '',
              partition: s.partition ?? '1/2',
            };
      if (autoScenarioId(e) === s.id) e.id = null;
      return e;
    });
    const chosen = new Map<string, (typeof spec.defenses)[number]>(spec.defenses.map((d) => [d.id, d]));
    // The spec's order first (it orders the table's columns and keeps the spec's hash), then the rest.
    const defenceOrder = [
      ...spec.defenses.map((d) => d.id as string),
      ...this.catalog.defenses.map((d) => d.id).filter((id) => !chosen.has(id)),
    ];
    this.defences = defenceOrder.flatMap((id) => {
      const d = this.catalog.defenses.find((x) => x.id === id);
      const given = chosen.get(id)?.params ?? {};
      return d
        ? [
            {
              id: d.id,
              enabled: chosen.has(d.id),
              params: { ...defaults(d.params), ...given },
              explicit: Object.keys(given),
            },
          ]
        : [];
    });
    if ('reuse' in spec.calibration) {
      this.calibrationMode = 'reuse';
      this.reuseId = spec.calibration.reuse;
    } else {
      const { references, rule, referenceIterations, ...calRest } = spec.calibration;
      this.calibrationMode = 'build';
      this.references = references;
      this.rule = rule?.name ?? 'paper';
      this.ruleParameter = rule?.parameter ?? null;
      this.referenceIterations = referenceIterations ?? null;
      this.extras.calibration = calRest;
    }
    this.verdictRule = spec.verdict?.rule ?? 'majority';
    // The spec's attacks in its order (the order of the table's rows), then the others switched off.
    const entries: AttackEntry[] = [];
    for (const g of spec.attacks) {
      const a = this.catalog.attacks.find((x) => x.id === g.name);
      if (!a) continue;
      {
        entries.push({
          uid: uid(),
          name: a.id,
          enabled: true,
          params: { ...defaults(a.params), ...(g.params ?? {}) },
          explicit: Object.keys(g.params ?? {}),
          seeds: g.seeds.join(', '),
          iterations: g.iterations,
          block: g.block ?? '',
          ...(g.label !== undefined ? { label: g.label } : {}),
          ...(g.batchSize !== undefined ? { batchSize: g.batchSize } : {}),
          ...(g.scenarios !== undefined ? { scenarios: [...g.scenarios] } : {}),
        });
      }
    }
    for (const a of this.catalog.attacks)
      if (!spec.attacks.some((g) => g.name === a.id)) entries.push(this.attackEntry(a, false));
    this.attacks = entries;
    this.checkpointsEvery = spec.checkpoints?.every ?? null;
    this.checkpointMetrics = spec.checkpoints?.metrics ? [...spec.checkpoints.metrics] : [];
    if (spec.sweeps) this.extras.sweeps = spec.sweeps;
    this.step = 0;
  }

  /** Starts from a built-in preset ('demo' or 'smoke'). */
  loadPreset(id: string): boolean {
    const p = this.catalog.presets.find((x) => x.id === id);
    if (!p) return false;
    this.loadSpec(p.spec);
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Editing helpers

  addScenario(kind: 'ltd' | 'lsd'): void {
    this.scenarios.push({
      uid: uid(),
      kind,
      id: null,
      fraction: 0.1,
      lsdSource: 'partition',
      data: '',
      partition: '1/2',
    });
  }

  removeScenario(entryUid: number): void {
    this.scenarios = this.scenarios.filter((s) => s.uid !== entryUid);
  }

  /** Another variant of an attack (other parameters), right below it. */
  duplicateAttack(entryUid: number): void {
    const i = this.attacks.findIndex((a) => a.uid === entryUid);
    if (i < 0) return;
    const a = this.attacks[i];
    const copy: AttackEntry = { ...$state.snapshot(a), uid: uid(), enabled: true };
    delete copy.label;
    this.attacks.splice(i + 1, 0, copy);
  }

  removeAttack(entryUid: number): void {
    const a = this.attacks.find((x) => x.uid === entryUid);
    if (!a) return;
    // The last entry of an attack stays in the list, switched off.
    if (this.attacks.filter((x) => x.name === a.name).length > 1)
      this.attacks = this.attacks.filter((x) => x.uid !== entryUid);
    else a.enabled = false;
  }

  /** Metric ids of the enabled defences. */
  get availableMetrics(): { id: string; kind: string }[] {
    const on = new Set(this.defences.filter((d) => d.enabled).map((d) => d.id));
    return this.catalog.defenses
      .filter((d) => on.has(d.id))
      .flatMap((d) => d.metrics.map((m) => ({ id: m.id, kind: m.kind })));
  }

  /** The folder the victim step inspects (null when the victim is trained by the audit). */
  get victimPath(): string | null {
    if (this.victimMode === 'demo') return this.catalog.demo.model;
    if (this.victimMode === 'folder') return this.modelPath.trim() || null;
    return null;
  }

  // ---------------------------------------------------------------------------------------
  // The spec

  /** The spec as the form stands (it may be invalid: see `problems`). */
  specInput = $derived.by((): Record<string, unknown> => this.buildSpec());

  specJson = $derived(JSON.stringify(this.specInput, null, 2));

  parsed = $derived(parseAuditSpec(this.specInput));

  private scenarioIds(): string[] {
    const seen = new Map<string, number>();
    return this.scenarios.map((s) => {
      const base = s.id ?? autoScenarioId(s);
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      return s.id !== null || n === 1 ? base : `${base}-${n}`;
    });
  }

  private buildSpec(): Record<string, unknown> {
    const specs = (id: string, list: readonly CatalogEntry[]): ParamSpec[] =>
      list.find((x) => x.id === id)?.params ?? [];
    const victim =
      this.victimMode === 'train'
        ? {
            train: {
              ...(this.extras.victimTrain ?? {}),
              arch: this.trainArch,
              data: this.trainData.trim(),
              seed: this.trainSeed,
              ...(this.trainEpochs !== null ? { epochs: this.trainEpochs } : {}),
            },
          }
        : { model: this.victimPath ?? '' };
    const ids = this.scenarioIds();
    const scenarios = this.scenarios.map((s, i) =>
      s.kind === 'ltd'
        ? { id: ids[i], kind: 'ltd', fraction: s.fraction }
        : {
            id: ids[i],
            kind: 'lsd',
            ...(s.lsdSource === 'data' ? { data: s.data.trim() } : { partition: s.partition.trim() }),
          },
    );
    const defenses = this.defences
      .filter((d) => d.enabled)
      .map((d) => {
        const params = changedParams(specs(d.id, this.catalog.defenses), d.params, d.explicit);
        return { id: d.id, ...(params ? { params } : {}) };
      });
    const calibration =
      this.calibrationMode === 'reuse'
        ? { reuse: this.reuseId }
        : {
            ...(this.extras.calibration ?? {}),
            references: this.references,
            ...(this.rule !== 'paper' || this.ruleParameter !== null
              ? {
                  rule: {
                    name: this.rule,
                    ...(this.ruleParameter !== null && this.rule !== 'paper' ? { parameter: this.ruleParameter } : {}),
                  },
                }
              : {}),
            ...(this.referenceIterations !== null ? { referenceIterations: this.referenceIterations } : {}),
          };
    const attacks = this.attacks
      .filter((a) => a.enabled)
      .map((a) => {
        const params = changedParams(specs(a.name, this.catalog.attacks), a.params, a.explicit);
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
        };
      });
    const metrics = this.checkpointMetrics.filter((m) => this.availableMetrics.some((x) => x.id === m));
    return {
      version: 1,
      name: this.name.trim(),
      victim,
      data: {
        train: this.dataTrain.trim(),
        ...(this.dataTest.trim() ? { test: this.dataTest.trim() } : {}),
        ...(this.maxTest !== null ? { maxTest: this.maxTest } : {}),
        ...(this.extras.data ?? {}),
      },
      scenarios,
      defenses,
      calibration,
      attacks,
      ...(this.checkpointsEvery !== null
        ? { checkpoints: { every: this.checkpointsEvery, ...(metrics.length ? { metrics } : {}) } }
        : {}),
      verdict: { rule: this.verdictRule },
      ...(this.extras.sweeps ? { sweeps: this.extras.sweeps } : {}),
    };
  }

  // ---------------------------------------------------------------------------------------
  // Validation

  /** The form's own checks per step, worded for the form. */
  localProblems = $derived.by((): Record<StepId, string[]> => ({
    victim: this.victimProblems(),
    data: this.dataProblems(),
    defences: this.defenceProblems(),
    attacks: this.attackProblems(),
    review: this.name.trim() ? [] : ['Name the audit: the name labels it in the history and the report.'],
  }));

  /** Problems per step: the form's own first; the schema's and the engine's where the form has none. */
  problems = $derived.by((): Record<StepId, string[]> => {
    const out: Record<StepId, string[]> = { victim: [], data: [], defences: [], attacks: [], review: [] };
    const local = this.localProblems;
    const schema = this.parsed.ok ? [] : this.parsed.problems;
    const engine = this.check && this.checkedJson === this.specJson ? this.check.problems : [];
    for (const s of STEPS) {
      out[s.id] = [...local[s.id]];
      if (out[s.id].length) continue;
      const more = [...schema, ...engine].filter((p) => stepOfProblem(p) === s.id);
      out[s.id] = [...new Set(more)];
    }
    return out;
  });

  /** Every problem of every step (the review step lists them all). */
  allProblems = $derived(STEPS.flatMap((s) => this.problems[s.id].map((p) => ({ step: s.id, problem: p }))));

  stepValid(i: number): boolean {
    const s = STEPS[i];
    return !!s && this.problems[s.id].length === 0;
  }

  /** Steps can be visited in any order once the earlier ones are valid. */
  canVisit(i: number): boolean {
    if (i < 0 || i >= STEPS.length) return false;
    for (let j = 0; j < i; j++) if (this.problems[STEPS[j].id].length > 0) return false;
    return true;
  }

  canStart = $derived(this.parsed.ok && this.allProblems.length === 0 && !this.starting);

  next(): boolean {
    if (this.problems[STEPS[this.step].id].length) return false;
    if (this.step < STEPS.length - 1) this.step++;
    return true;
  }

  back(): void {
    if (this.step > 0) this.step--;
  }

  goTo(i: number): boolean {
    if (!this.canVisit(i)) return false;
    this.step = i;
    return true;
  }

  private victimProblems(): string[] {
    const p: string[] = [];
    if (this.victimMode === 'folder') {
      if (!this.modelPath.trim()) p.push('Enter the model folder: the one that holds model.json.');
      else if (this.modelError && this.inspectedPath === this.modelPath.trim())
        p.push(`${this.modelError.message}${this.modelError.hint ? ` ${this.modelError.hint}` : ''}`);
    } else if (this.victimMode === 'demo') {
      if (this.modelError && this.inspectedPath === this.catalog.demo.model)
        p.push(`The demo model cannot be read: ${this.modelError.message}`);
    } else {
      if (!this.trainData.trim()) p.push('Enter the data set folder to train the victim on.');
      if (!isInt(this.trainSeed) || this.trainSeed < 0) p.push('The training seed must be a whole number, 0 or more.');
      if (this.trainEpochs !== null && !(num(this.trainEpochs) && this.trainEpochs > 0))
        p.push('Epochs must be a number above 0 (fractions allowed, e.g. 0.5).');
    }
    return p;
  }

  private dataProblems(): string[] {
    const p: string[] = [];
    if (!this.dataTrain.trim()) p.push("Enter the victim's data set folder: its test split measures fidelity.");
    else {
      const pv = this.previews[this.dataTrain.trim()];
      if (pv?.status === 'error') p.push(`Data set: ${pv.error.message}`);
    }
    if (this.dataTest.trim()) {
      const pv = this.previews[this.dataTest.trim()];
      if (pv?.status === 'error') p.push(`Test set: ${pv.error.message}`);
    }
    if (this.maxTest !== null && !(isInt(this.maxTest) && this.maxTest >= 1))
      p.push('Test images must be a whole number of at least 1, or empty for all.');
    if (this.scenarios.length === 0) p.push('Add a substitute scenario: the data the attacker holds (S_LTD or S_LSD).');
    const ids = this.scenarioIds();
    this.scenarios.forEach((s, i) => {
      const name = s.kind === 'ltd' ? `S_LTD ${i + 1}` : `S_LSD ${i + 1}`;
      if (s.kind === 'ltd') {
        if (!(num(s.fraction) && s.fraction > 0 && s.fraction <= 1))
          p.push(`${name}: the fraction must be above 0 % and at most 100 %.`);
      } else if (s.lsdSource === 'data') {
        if (!s.data.trim()) p.push(`${name}: enter the other data set's folder.`);
        else if (s.data.trim() === this.dataTrain.trim())
          p.push(`${name}: that is the victim's own data set; use S_LTD or a partition instead.`);
        else {
          const pv = this.previews[s.data.trim()];
          if (pv?.status === 'error') p.push(`${name}: ${pv.error.message}`);
        }
      } else if (!isPartition(s.partition))
        p.push(`${name}: the partition must look like "k/n" with 0 <= k < n, e.g. "1/2".`);
      if (!SCENARIO_ID_RE.test(ids[i])) p.push(`${name}: its id "${ids[i]}" must be letters, digits, '.', '_' or '-'.`);
    });
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) p.push(`Two scenarios share the id "${dup}": make them differ.`);
    return p;
  }

  private defenceProblems(): string[] {
    const p: string[] = [];
    const on = this.defences.filter((d) => d.enabled);
    if (on.length === 0) p.push('Pick at least one defence to audit.');
    for (const d of on) {
      const entry = this.catalog.defenses.find((x) => x.id === d.id);
      for (const q of paramProblems(entry?.params ?? [], d.params)) p.push(`${entry?.title ?? d.id}: ${q}.`);
    }
    if (this.calibrationMode === 'reuse') {
      if (!this.reuseId)
        p.push(
          this.calibrations.length
            ? 'Pick the stored calibration to reuse.'
            : 'No stored calibration to reuse yet: build one with K reference models.',
        );
    } else {
      if (!(isInt(this.references) && this.references >= 2 && this.references <= 1000))
        p.push('K must be a whole number from 2 to 1000: tau needs at least two reference models.');
      const q = this.ruleParameter;
      if (q !== null && this.rule !== 'paper') {
        if ((this.rule === 'normal' || this.rule === 'confidence') && !(num(q) && q > 0 && q < 1))
          p.push(`The ${this.rule} rule's parameter must lie strictly between 0 and 1.`);
        if (this.rule === 'quantile' && !(num(q) && q >= 0 && q <= 1))
          p.push("The quantile rule's q must lie in [0, 1].");
        if (this.rule === 'reference-ratio' && !(num(q) && q > 0))
          p.push("The reference-ratio rule's ratio must be above 0.");
      }
      if (this.referenceIterations !== null && !(isInt(this.referenceIterations) && this.referenceIterations >= 1))
        p.push('Reference iterations must be a whole number of at least 1, or empty.');
    }
    return p;
  }

  private attackProblems(): string[] {
    const p: string[] = [];
    const on = this.attacks.filter((a) => a.enabled);
    if (on.length === 0) p.push('Pick at least one attack.');
    for (const a of on) {
      const entry = this.catalog.attacks.find((x) => x.id === a.name);
      const title = entry?.title ?? a.name;
      for (const q of paramProblems(entry?.params ?? [], a.params)) p.push(`${title}: ${q}.`);
      const s = parseSeeds(a.seeds);
      if (!s.ok) p.push(`${title}: seeds ${s.problem}.`);
      if (!(isInt(a.iterations) && a.iterations >= 1))
        p.push(`${title}: iterations must be a whole number of at least 1.`);
    }
    if (this.checkpointsEvery !== null && !(isInt(this.checkpointsEvery) && this.checkpointsEvery >= 1))
      p.push('Checkpoints: "every" must be a whole number of iterations, or empty for none.');
    if (this.workers !== null && !(isInt(this.workers) && this.workers >= 1 && this.workers <= 64))
      p.push('Workers must be a whole number from 1 to 64.');
    return p;
  }

  // ---------------------------------------------------------------------------------------
  // Calls to the main side

  /** Reads the victim's summary (architecture, blocks, accuracy). */
  async inspectVictim(): Promise<void> {
    const path = this.victimPath;
    if (!path) {
      this.modelSummary = null;
      this.modelError = null;
      return;
    }
    if (path === this.inspectedPath && (this.modelSummary || this.modelError)) return;
    this.inspecting = true;
    this.inspectedPath = path;
    const r = await settle(this.client.inspectModel({ path }));
    if (this.inspectedPath !== path) return;
    this.inspecting = false;
    this.modelSummary = r.ok ? r.value : null;
    this.modelError = r.ok ? null : r.error;
  }

  /** Sample images and class counts of a data folder (cached per path). */
  async preview(path: string, force = false): Promise<void> {
    const p = path.trim();
    if (!p) return;
    const cur = this.previews[p];
    if (cur && !force && cur.status !== 'error') return;
    this.previews[p] = { status: 'loading' };
    const r = await settle(this.client.previewDataset({ path: p, samplesPerSplit: 8 }));
    this.previews[p] = r.ok ? { status: 'ok', value: r.value } : { status: 'error', error: r.error };
  }

  /** The stored calibrations to offer for reuse. */
  async loadCalibrations(): Promise<void> {
    const r = await settle(this.client.listCalibrations());
    if (r.ok) {
      this.calibrations = r.value;
      this.calibrationsError = null;
    } else this.calibrationsError = r.error;
  }

  /** Asks the main side about the spec as it stands: its problems and the estimate. */
  async runCheck(): Promise<void> {
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = null;
    const json = this.specJson;
    const seq = ++this.checkSeq;
    this.checking = true;
    const r = await settle(
      this.client.checkSpec({
        spec: JSON.parse(json) as unknown,
        ...(this.workers !== null && isInt(this.workers) ? { workers: this.workers } : {}),
      }),
    );
    if (seq !== this.checkSeq) return;
    this.checking = false;
    this.checkedJson = json;
    this.check = r.ok ? r.value : null;
    this.checkError = r.ok ? null : r.error;
  }

  /** `runCheck` after the form has been still for a moment (typing in a field). */
  scheduleCheck(delayMs = 350): void {
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = setTimeout(() => void this.runCheck(), delayMs);
  }

  /** The estimate, when the current spec has one. */
  get estimate(): SpecCheck['estimate'] | null {
    return this.check && this.checkedJson === this.specJson ? (this.check.estimate ?? null) : null;
  }

  /** A native folder dialog into one of the path fields (Electron only). */
  async browse(kind: 'folder' | 'file', title: string): Promise<string | null> {
    const r = await settle(this.client.pickPath({ kind, title }));
    return r.ok ? r.value : null;
  }

  /** Starts the audit; resolves to its run id, or null with `startError` set. */
  async start(): Promise<string | null> {
    if (!this.canStart) return null;
    this.starting = true;
    this.startError = null;
    const r = await settle(
      this.client.startRun({
        spec: JSON.parse(this.specJson) as unknown,
        ...(this.workers !== null && isInt(this.workers) ? { workers: this.workers } : {}),
      }),
    );
    this.starting = false;
    if (!r.ok) {
      this.startError = r.error;
      return null;
    }
    return r.value.runId;
  }

  dispose(): void {
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = null;
  }
}

function defaults(specs: readonly ParamSpec[]): ParamInput {
  return Object.fromEntries(specs.map((s) => [s.key, s.default]));
}
