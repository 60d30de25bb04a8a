/**
 * Step 5, the review: the audit's name, the spec the form writes, the main side's opinion of
 * it (`checkSpec`: registries, files, the estimate), every step's problems, and the start.
 */
import type { ApiError, SpecCheck } from '../../../../src-shared/contract/api';
import { settle } from '../format';
import { AttacksStep } from './attacks.svelte';
import { formToSpec, type KeptFields } from './spec-form';
import { STEPS, checkSpecInput, problemPath, problemsByStep, type StepId } from './steps';

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
