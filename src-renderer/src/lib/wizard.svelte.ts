/**
 * The audit wizard's state: five steps that together produce an audit spec (the same JSON
 * document the CLI runs). Every step validates as you go: local checks give one-line
 * explanations in the words of the form, then the shared schema and the main side's
 * `checkSpec` (registries, files, the estimate) add what only they can know, each problem on
 * the step that edits the field it names.
 *
 * Each step's fields, checks and calls are in its own module under wizard/ (victim, data,
 * defences, attacks, review), the mapping between the form and the spec in wizard/spec-form.ts;
 * this class adds loading and the moves between steps. No DOM here: the screens bind to
 * these fields, the tests drive them directly.
 */
import type { AuditSpec } from '../../../src-shared/audit/spec';
import type { Catalog } from '../../../src-shared/contract/api';
import { ReviewStep } from './wizard/review.svelte';
import { emptyForm, specToForm, type WizardForm } from './wizard/spec-form';
import { STEPS } from './wizard/steps';
import type { WizardClient, WizardOptions } from './wizard/victim.svelte';

export class WizardState extends ReviewStep {
  step = $state(0);
  /** The spec as last loaded or reset: what the form holds beyond it are the user's edits. */
  private loadedJson = $state('');

  constructor(client: WizardClient, catalog: Catalog, opts: WizardOptions = {}) {
    super(client, catalog, opts);
    const start = catalog.presets.find((p) => p.id === 'demo') ?? catalog.presets[0];
    if (start) this.loadSpec(start.spec);
    else this.reset();
  }

  // ---------------------------------------------------------------------------------------
  // Loading

  /** Every field of the form is a reactive field of a step (this class is a WizardForm). */
  private setForm(form: WizardForm): void {
    Object.assign(this, form);
    this.step = 0;
    this.check = null;
    this.startError = null;
    this.loadedJson = this.specJson;
  }

  /** Starts the audit; the started spec is kept with the run, so the form holds no unsaved edits after it. */
  override async start(): Promise<string | null> {
    const runId = await super.start();
    if (runId) this.loadedJson = this.specJson;
    return runId;
  }

  /** Whether the form was edited since it was last loaded (a preset would overwrite the edits). */
  get edited(): boolean {
    return this.specJson !== this.loadedJson;
  }

  /** Empty form with defaults: demo victim, all four defences, every attack off. */
  reset(): void {
    this.setForm(emptyForm(this.catalog));
  }

  /** Fills the form from a spec (a preset, or a run to repeat). */
  loadSpec(spec: AuditSpec): void {
    this.setForm(specToForm(spec, this.catalog));
  }

  /** Starts from a built-in preset ('demo' or 'smoke'). */
  loadPreset(id: string): boolean {
    const p = this.catalog.presets.find((x) => x.id === id);
    if (!p) return false;
    this.loadSpec(p.spec);
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Moving between steps

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
}
