/**
 * Step 1, the victim: the demo model, a model folder, or a victim the audit trains first;
 * and what the main side says about the chosen model (its summary, or why it cannot be read).
 *
 * The wizard's state is built step on step: each later step's class extends this one's
 * (DataStep, DefencesStep, AttacksStep, ReviewStep, WizardState), so the screens bind to one
 * object while each step's fields, checks and calls live in their own module.
 */
import type { ApiError, AuditClient, Catalog, ModelSummary } from '../../../../src-shared/contract/api';
import { settle } from '../format';
import { isInt, isNum, type VictimForm } from './spec-form';

export type WizardClient = Pick<
  AuditClient,
  'inspectModel' | 'previewDataset' | 'checkSpec' | 'startRun' | 'listCalibrations' | 'pickPath'
>;

export interface WizardOptions {
  /** Worker processes by default (EngineInfo.defaultWorkers). */
  workers?: number;
  /** A native file dialog is available (Electron). */
  canBrowse?: boolean;
  /** The folder relative paths are read from (EngineInfo.baseDir). */
  baseDir?: string;
}

export class VictimStep implements VictimForm {
  readonly client: WizardClient;
  readonly catalog: Catalog;
  readonly canBrowse: boolean;
  readonly baseDir: string;

  victimMode = $state<VictimForm['victimMode']>('demo');
  modelPath = $state('');
  trainArch = $state<VictimForm['trainArch']>('cnn');
  trainData = $state('');
  trainSeed = $state<number | null>(1);
  trainEpochs = $state<number | null>(8);
  modelSummary = $state.raw<ModelSummary | null>(null);
  modelError = $state.raw<ApiError | null>(null);
  inspecting = $state(false);
  /** The path the summary or error is for. */
  inspectedPath = $state('');

  constructor(client: WizardClient, catalog: Catalog, opts: WizardOptions = {}) {
    this.client = client;
    this.catalog = catalog;
    this.canBrowse = opts.canBrowse ?? false;
    this.baseDir = opts.baseDir ?? '';
  }

  /** The folder the victim step inspects (null when the victim is trained by the audit). */
  get victimPath(): string | null {
    if (this.victimMode === 'demo') return this.catalog.demo.model;
    if (this.victimMode === 'folder') return this.modelPath.trim() || null;
    return null;
  }

  /** The step's own checks, worded for the form. */
  victimProblems(): string[] {
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
      for (const problem of [this.trainSeedProblem(), this.trainEpochsProblem()]) if (problem) p.push(problem);
    }
    return p;
  }

  /** The training seed's problem, shown on its field as well as in the step's list. */
  trainSeedProblem(): string | null {
    return !isInt(this.trainSeed) || this.trainSeed < 0 ? 'The training seed must be a whole number, 0 or more.' : null;
  }

  /** The epochs' problem, shown on its field as well as in the step's list. */
  trainEpochsProblem(): string | null {
    return this.trainEpochs !== null && !(isNum(this.trainEpochs) && this.trainEpochs > 0)
      ? 'Epochs must be a number above 0 (fractions allowed, e.g. 0.5).'
      : null;
  }

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

  /** A native folder dialog into one of the path fields (Electron only). */
  async browse(kind: 'folder' | 'file', title: string): Promise<string | null> {
    const r = await settle(this.client.pickPath({ kind, title }));
    return r.ok ? r.value : null;
  }
}
