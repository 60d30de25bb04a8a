/**
 * Step 4, the attacks: which removal attacks each defence must withstand, in variants with
 * their own parameters, seeds (one suspect each) and budgets; checkpoints; the worker count.
 */
import { isInt, newUid, parseSeeds, type AttackEntry, type AttacksForm } from './spec-form';
import { DefencesStep } from './defences.svelte';
import { paramProblems } from './params';
import type { WizardClient, WizardOptions } from './victim.svelte';
import type { Catalog } from '../../../../src-shared/contract/api';

export class AttacksStep extends DefencesStep implements AttacksForm {
  attacks = $state<AttackEntry[]>([]);
  checkpointsEvery = $state<number | null>(null);
  checkpointMetrics = $state<string[]>([]);
  /** Worker processes for the audit (not part of the spec: the check and the start take it). */
  workers = $state<number | null>(null);

  constructor(client: WizardClient, catalog: Catalog, opts: WizardOptions = {}) {
    super(client, catalog, opts);
    this.workers = opts.workers ?? null;
  }

  /** Another variant of an attack (other parameters), right below it. */
  duplicateAttack(entryUid: number): void {
    const i = this.attacks.findIndex((a) => a.uid === entryUid);
    if (i < 0) return;
    const copy: AttackEntry = { ...$state.snapshot(this.attacks[i]), uid: newUid(), enabled: true };
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

  /** The step's own checks, worded for the form. */
  attackProblems(): string[] {
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

  /** The worker count to send with the spec, when one is set. */
  protected workersInput(): { workers?: number } {
    // Out of range, the form's own problem says so; the engine is asked with its default instead.
    return this.workers !== null && isInt(this.workers) && this.workers >= 1 && this.workers <= 64
      ? { workers: this.workers }
      : {};
  }
}
