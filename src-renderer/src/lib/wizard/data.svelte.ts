/**
 * Step 2, the data: the victim's data set (its test split measures fidelity), another test
 * set, and the attacker's substitute scenarios (S_LTD, S_LSD); with a preview of each folder.
 */
import { MIN_SUBSTITUTE_PER_CLASS } from '../../../../src-shared/audit/semantic-limits';
import { SCENARIO_ID_RE, isPartition } from '../../../../src-shared/audit/spec';
import type { ApiError, DatasetPreview } from '../../../../src-shared/contract/api';
import { settle } from '../format';
import { isInt, isNum, newScenario, scenarioIds, type DataForm, type ScenarioEntry } from './spec-form';
import { VictimStep } from './victim.svelte';

export type PreviewState =
  { status: 'loading' } | { status: 'ok'; value: DatasetPreview } | { status: 'error'; error: ApiError };

export class DataStep extends VictimStep implements DataForm {
  dataTrain = $state('');
  dataTest = $state('');
  maxTest = $state<number | null>(null);
  scenarios = $state<ScenarioEntry[]>([]);
  previews = $state<Record<string, PreviewState>>({});

  addScenario(kind: 'ltd' | 'lsd'): void {
    this.scenarios.push(newScenario(kind));
  }

  removeScenario(entryUid: number): void {
    this.scenarios = this.scenarios.filter((s) => s.uid !== entryUid);
  }

  /** The step's own checks, worded for the form. */
  dataProblems(): string[] {
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
    const ids = scenarioIds(this.scenarios);
    this.scenarios.forEach((s, i) => {
      const name = s.kind === 'ltd' ? `S_LTD ${i + 1}` : `S_LSD ${i + 1}`;
      if (s.kind === 'ltd') {
        if (!(isNum(s.fraction) && s.fraction > 0 && s.fraction <= 1))
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

  /** What runs but is probably not meant: an S_LTD share too small to train a surrogate on. */
  dataWarnings(): string[] {
    const pv = this.previews[this.dataTrain.trim()];
    if (pv?.status !== 'ok') return [];
    const total = pv.value.counts.train.reduce((a, b) => a + b, 0);
    const classes = pv.value.numClasses;
    const out: string[] = [];
    this.scenarios.forEach((s, i) => {
      if (s.kind !== 'ltd' || !isNum(s.fraction) || s.fraction <= 0 || s.fraction > 1) return;
      const images = Math.floor(s.fraction * total);
      if (images < MIN_SUBSTITUTE_PER_CLASS * classes)
        out.push(
          `S_LTD ${i + 1}: ${+(s.fraction * 100).toPrecision(3)} % of the ${total.toLocaleString('en-US')} training images is about ${images} for ${classes} classes, under ${MIN_SUBSTITUTE_PER_CLASS} per class: the attacks learn little from it (the paper uses 10 %).`,
        );
    });
    return out;
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
}
