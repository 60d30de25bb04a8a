/**
 * The workbench as a whole: the client, what the engine reports about itself (backend,
 * catalog of attacks, defences and presets), which screen is showing, and the state of
 * each screen. Screens keep their state while you move between them.
 */
import type { ApiError, AuditClient, Catalog, EngineInfo } from '../../../src-shared/contract/api';
import { CalibrationsState } from './calibrations.svelte';
import { settle, useCatalogVocabulary } from './format';
import { HistoryState } from './history.svelte';
import { RunMonitorState } from './monitor.svelte';
import { WizardState } from './wizard.svelte';

export type Screen = 'wizard' | 'run' | 'history' | 'calibrations';

export class AppState {
  readonly client: AuditClient;
  readonly mode: 'electron' | 'browser';

  info = $state.raw<EngineInfo | null>(null);
  catalog = $state.raw<Catalog | null>(null);
  initError = $state.raw<ApiError | null>(null);
  ready = $state(false);

  screen = $state<Screen>('wizard');
  wizard = $state.raw<WizardState | null>(null);
  monitor = $state.raw<RunMonitorState | null>(null);
  readonly history: HistoryState;
  readonly calibrations: CalibrationsState;
  /** Browser mode: whether the event socket is up (null before it first connects). */
  connected = $state<boolean | null>(null);

  constructor(client: AuditClient, mode: 'electron' | 'browser') {
    this.client = client;
    this.mode = mode;
    this.history = new HistoryState(client);
    this.calibrations = new CalibrationsState(client);
  }

  async init(): Promise<void> {
    const [info, catalog] = await Promise.all([settle(this.client.engineInfo()), settle(this.client.catalog())]);
    if (!info.ok || !catalog.ok) {
      this.initError = !info.ok ? info.error : (catalog as { ok: false; error: ApiError }).error;
      return;
    }
    this.initError = null;
    this.info = info.value;
    this.catalog = catalog.value;
    useCatalogVocabulary(catalog.value);
    this.wizard = new WizardState(this.client, catalog.value, {
      workers: info.value.defaultWorkers,
      canBrowse: this.mode === 'electron',
    });
    this.ready = true;
  }

  /**
   * The event connection went up or down. Events sent while it was down (or before it first
   * came up) are not replayed, so the open run reloads whenever it comes up.
   */
  onConnection(up: boolean): void {
    this.connected = up;
    if (up) void this.monitor?.refresh();
  }

  go(screen: Screen): void {
    this.screen = screen;
    if (screen === 'history') void this.history.load();
    if (screen === 'calibrations') void this.calibrations.load();
  }

  /** Shows a run in the monitor (live while it runs, its stored results once it has stopped). */
  openRun(runId: string): RunMonitorState {
    if (this.monitor?.runId !== runId) {
      this.monitor?.dispose();
      this.monitor = new RunMonitorState(this.client, runId);
      void this.monitor.start();
    } else void this.monitor.refresh();
    this.screen = 'run';
    return this.monitor;
  }

  /** A fresh wizard, optionally from a preset or a past run's spec. */
  newAudit(preset?: string): void {
    if (!this.wizard) return;
    if (preset) this.wizard.loadPreset(preset);
    this.screen = 'wizard';
  }
}
