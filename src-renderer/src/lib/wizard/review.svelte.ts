/**
 * Step 5, the review: the audit's name, the spec the form writes, the main side's opinion of
 * it (`checkSpec`: registries, files, the estimate), every step's problems, and the start.
 */
import type { ApiError, SpecCheck } from '../../../../src-shared/contract/api';
import { settle } from '../format';
import { AttacksStep } from './attacks.svelte';
import { formToSpec, type KeptFields } from './spec-form';
import { STEPS, checkSpecInput, problemPath, problemsByStep, type FieldPath, type StepId } from './steps';

/** A problem (blocks the start) or a warning (does not) about one field, worded without its path. */
export interface FieldNote {
  text: string;
  level: 'problem' | 'warning';
}

/**
 * The API's own wording of a malformed call names the contract's source file: meant for API
 * users, not for someone filling in the form. The form's own checks say what is wrong.
 */
function formError(e: ApiError): ApiError {
  if (e.code !== 'INVALID_ARGUMENT') return e;
  return {
    code: e.code,
    message: 'The engine could not read the form as it stands',
    hint: 'Check the fields marked in each step; the estimate comes back once they are valid.',
  };
}

const NO_LOCAL: Record<StepId, string[]> = { victim: [], data: [], defences: [], attacks: [], review: [] };

function startsWith(path: FieldPath, prefix: FieldPath): boolean {
  return prefix.every((p, i) => path[i] === p);
}

export class ReviewStep extends AttacksStep {
  name = $state('audit');
  /** Fields of a loaded spec the form does not edit, kept as they were. */
  kept = $state.raw<KeptFields>({});

  // the main side's opinion
  check = $state.raw<SpecCheck | null>(null);
  checkError = $state.raw<ApiError | null>(null);
  checking = $state(false);
  /** The spec JSON the check is for (a stale check is not shown as current). */
  checkedJson = $state('');
  starting = $state(false);
  startError = $state.raw<ApiError | null>(null);

  private checkTimer: ReturnType<typeof setTimeout> | null = null;
  private checkSeq = 0;

  // ---------------------------------------------------------------------------------------
  // The spec

  /** The spec as the form stands (it may be invalid: see `problems`). */
  specInput = $derived.by((): Record<string, unknown> => formToSpec(this, this.catalog));

  specJson = $derived(JSON.stringify(this.specInput, null, 2));

  /** The schema's verdict: the spec, or its problems, each with the field path it is about. */
  parsed = $derived(checkSpecInput(this.specInput));

  // ---------------------------------------------------------------------------------------
  // Problems

  /** The form's own checks per step, worded for the form. */
  localProblems = $derived.by((): Record<StepId, string[]> => ({
    victim: this.victimProblems(),
    data: this.dataProblems(),
    defences: this.defenceProblems(),
    attacks: this.attackProblems(),
    review: this.name.trim() ? [] : ['Name the audit: the name labels it in the history and the report.'],
  }));

  /** Problems per step: the form's own first; the schema's and the main side's where the form has none. */
  problems = $derived.by((): Record<StepId, string[]> => {
    const engine = this.check && this.checkedJson === this.specJson ? this.check.problems : [];
    const found = [...this.parsed.problems, ...engine.map((problem) => ({ path: problemPath(problem), problem }))];
    return problemsByStep(this.localProblems, found);
  });

  /** The main side's warnings on the current spec: they never block the start. */
  engineWarnings = $derived.by((): string[] =>
    this.check && this.checkedJson === this.specJson ? (this.check.warnings ?? []) : [],
  );

  /** Warnings per step: the main side's, and the form's own (a tiny S_LTD share). */
  warnings = $derived.by((): Record<StepId, string[]> => {
    const byStep = problemsByStep(
      NO_LOCAL,
      this.engineWarnings.map((w) => ({ path: problemPath(w), problem: w })),
    );
    byStep.data.push(...this.dataWarnings());
    return byStep;
  });

  allWarnings = $derived(STEPS.flatMap((s) => this.warnings[s.id].map((w) => ({ step: s.id, warning: w }))));

  /**
   * Problems and warnings the main side found about one field or its children (path prefix
   * such as ['defenses', 0, 'params', 'block']), shown on the field itself.
   */
  fieldNotes(prefix: FieldPath, exact = false): FieldNote[] {
    const engine = this.check && this.checkedJson === this.specJson ? this.check.problems : [];
    const notes: FieldNote[] = [];
    const add = (line: string, level: FieldNote['level']): void => {
      const path = problemPath(line);
      if (path.length === 0 || !startsWith(path, prefix) || (exact && path.length !== prefix.length)) return;
      notes.push({ text: line.slice(line.indexOf(': ') + 2), level });
    };
    for (const p of engine) add(p, 'problem');
    for (const w of this.engineWarnings) add(w, 'warning');
    return notes;
  }

  /** A defence's index in the spec (enabled defences, in form order); -1 when it is off. */
  defenceIndex(id: string): number {
    return this.defences.filter((d) => d.enabled).findIndex((d) => d.id === id);
  }

  /** An attack entry's index in the spec (enabled attacks, in form order); -1 when it is off. */
  attackIndex(uid: number): number {
    return this.attacks.filter((a) => a.enabled).findIndex((a) => a.uid === uid);
  }

  /** Every problem of every step (the review step lists them all). */
  allProblems = $derived(STEPS.flatMap((s) => this.problems[s.id].map((p) => ({ step: s.id, problem: p }))));

  canStart = $derived(this.parsed.ok && this.allProblems.length === 0 && !this.starting);

  // ---------------------------------------------------------------------------------------
  // Calls to the main side

  /** Asks the main side about the spec as it stands: its problems and the estimate. */
  async runCheck(): Promise<void> {
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = null;
    const json = this.specJson;
    const seq = ++this.checkSeq;
    this.checking = true;
    const r = await settle(this.client.checkSpec({ spec: JSON.parse(json) as unknown, ...this.workersInput() }));
    if (seq !== this.checkSeq) return;
    this.checking = false;
    this.checkedJson = json;
    this.check = r.ok ? r.value : null;
    this.checkError = r.ok ? null : formError(r.error);
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

  /** Starts the audit; resolves to its run id, or null with `startError` set. */
  async start(): Promise<string | null> {
    if (!this.canStart) return null;
    this.starting = true;
    this.startError = null;
    const r = await settle(
      this.client.startRun({ spec: JSON.parse(this.specJson) as unknown, ...this.workersInput() }),
    );
    this.starting = false;
    if (!r.ok) {
      this.startError = formError(r.error);
      return null;
    }
    return r.value.runId;
  }

  dispose(): void {
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = null;
  }
}
