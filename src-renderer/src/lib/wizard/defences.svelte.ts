/**
 * Step 3, the defences: which fingerprinting defences to audit with which parameters, how
 * their thresholds are calibrated (K reference models, or a stored calibration), and the vote.
 */
import type { ApiError, CalibrationSummary } from '../../../../src-shared/contract/api';
import { settle } from '../format';
import { availableMetrics, isInt, isNum, type DefenceEntry, type DefencesForm } from './spec-form';
import { DataStep } from './data.svelte';
import { paramProblems } from './params';

export class DefencesStep extends DataStep implements DefencesForm {
  defences = $state<DefenceEntry[]>([]);
  calibrationMode = $state<DefencesForm['calibrationMode']>('build');
  references = $state<number | null>(5);
  rule = $state<DefencesForm['rule']>('paper');
  ruleParameter = $state<number | null>(null);
  referenceIterations = $state<number | null>(null);
  reuseId = $state('');
  calibrations = $state.raw<CalibrationSummary[]>([]);
  calibrationsError = $state.raw<ApiError | null>(null);
  verdictRule = $state<DefencesForm['verdictRule']>('majority');

  /** Metric ids of the enabled defences. */
  get availableMetrics(): { id: string; kind: string }[] {
    return availableMetrics(this.defences, this.catalog);
  }

  /** The step's own checks, worded for the form. */
  defenceProblems(): string[] {
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
      return p;
    }
    if (!(isInt(this.references) && this.references >= 2 && this.references <= 1000))
      p.push('K must be a whole number from 2 to 1000: tau needs at least two reference models.');
    const q = this.ruleParameter;
    if (q !== null && this.rule !== 'paper') {
      if ((this.rule === 'normal' || this.rule === 'confidence') && !(isNum(q) && q > 0 && q < 1))
        p.push(`The ${this.rule} rule's parameter must lie strictly between 0 and 1.`);
      if (this.rule === 'quantile' && !(isNum(q) && q >= 0 && q <= 1))
        p.push("The quantile rule's q must lie in [0, 1].");
      if (this.rule === 'reference-ratio' && !(isNum(q) && q > 0))
        p.push("The reference-ratio rule's ratio must be above 0.");
    }
    if (this.referenceIterations !== null && !(isInt(this.referenceIterations) && this.referenceIterations >= 1))
      p.push('Reference iterations must be a whole number of at least 1, or empty.');
    return p;
  }

  /** The stored calibrations to offer for reuse. */
  async loadCalibrations(): Promise<void> {
    const r = await settle(this.client.listCalibrations());
    if (r.ok) {
      this.calibrations = r.value;
      this.calibrationsError = null;
    } else this.calibrationsError = r.error;
  }
}
