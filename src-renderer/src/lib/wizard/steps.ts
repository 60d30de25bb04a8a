/**
 * The wizard's five steps, the one-line help shown next to each choice, and which step owns
 * a spec problem: the step that edits the spec field the problem names. Pure (no DOM, no runes).
 */
import { AuditSpecSchema, formatIssues, type AuditSpec } from '../../../../src-shared/audit/spec';

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

/** The step that edits each top-level field of the spec (a new field does not compile until routed). */
const STEP_OF_FIELD: Record<keyof AuditSpec, StepId> = {
  version: 'review',
  name: 'review',
  victim: 'victim',
  data: 'data',
  scenarios: 'data',
  defenses: 'defences',
  calibration: 'defences',
  verdict: 'defences',
  attacks: 'attacks',
  checkpoints: 'attacks',
  sweeps: 'attacks',
  frontier: 'attacks',
};

export type FieldPath = readonly (string | number)[];

/** The step owning a spec field path such as ['attacks', 1, 'seeds']; the review step for the whole spec. */
export function stepOfPath(path: FieldPath): StepId {
  const head = path[0];
  // Not a spec field: the run's worker count, set beside the attacks' estimate.
  if (head === 'workers') return 'attacks';
  return typeof head === 'string' && Object.hasOwn(STEP_OF_FIELD, head)
    ? STEP_OF_FIELD[head as keyof AuditSpec]
    : 'review';
}

/** One segment of a path as `formatPath` writes it: `name`, `.name`, `[1]` or `["key"]`. */
const PATH_SEGMENT = /^(?:\.?([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;

/**
 * The field path a problem line `path: message` starts with (as the schema's `formatPath` and
 * the main side's checks write it): `attacks[1].seeds: ...` -> ['attacks', 1, 'seeds'].
 * Empty when the line names no field.
 */
export function problemPath(problem: string): (string | number)[] {
  const path: (string | number)[] = [];
  let rest = problem;
  for (let m = PATH_SEGMENT.exec(rest); m; m = PATH_SEGMENT.exec(rest)) {
    path.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(m[3]) as string)));
    rest = rest.slice(m[0].length);
  }
  return rest.startsWith(': ') ? path : [];
}

/** Which step a problem line such as `attacks[1].seeds: ...` belongs to. */
export function stepOfProblem(problem: string): StepId {
  return stepOfPath(problemPath(problem));
}

export interface FieldProblem {
  path: FieldPath;
  problem: string;
}

/** The schema's verdict on a spec input: the spec, or its problems with the path of each. */
export function checkSpecInput(
  input: unknown,
): { ok: true; spec: AuditSpec; problems: [] } | { ok: false; problems: FieldProblem[] } {
  const r = AuditSpecSchema.safeParse(input, { reportInput: true });
  if (r.success) return { ok: true, spec: r.data, problems: [] };
  // One issue at a time, so that every line keeps the path of the issue it came from.
  const problems = r.error.issues.flatMap((issue) =>
    formatIssues([issue]).map((problem) => ({ path: issue.path as (string | number)[], problem })),
  );
  return { ok: false, problems };
}

/**
 * Problems per step: the step's own checks (worded for the form) first; where it has none,
 * the schema's and the main side's problems about the fields it edits.
 */
export function problemsByStep(
  local: Readonly<Record<StepId, readonly string[]>>,
  found: readonly FieldProblem[],
): Record<StepId, string[]> {
  const out = {} as Record<StepId, string[]>;
  for (const { id } of STEPS) {
    const own = found.filter((p) => stepOfPath(p.path) === id).map((p) => p.problem);
    out[id] = local[id].length ? [...local[id]] : [...new Set(own)];
  }
  return out;
}
