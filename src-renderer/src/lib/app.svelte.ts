/**
 * The workbench as a whole: the client, what the engine reports about itself (backend,
 * catalog of attacks, defences and presets), which screen is showing, and the state of
 * each screen. Screens keep their state while you move between them.
 */
import type { ApiError, AuditClient, Catalog, EngineInfo } from '../../../src-shared/contract/api';
import type { AppCommand } from '../../../src-shared/contract/methods';
import { CalibrationsState } from './calibrations.svelte';
import { settle, useCatalogVocabulary } from './format';
import { HistoryState } from './history.svelte';
import { RunMonitorState } from './monitor.svelte';
import { formatRoute, parseRoute, type Route } from './routes';
import { WizardState } from './wizard.svelte';

export type Screen = 'wizard' | 'run' | 'history' | 'calibrations';

/** The address bar's fragment: read, set (a new history entry), and followed (Back, Forward, a pasted link). */
export interface Navigator {
  hash(): string;
  setHash(hash: string): void;
  onHashChange(listener: () => void): () => void;
  /** The page's address without its fragment (for links to a run). */
  base(): string;
}

/** The real window's navigator. */
export function windowNavigator(win: Window): Navigator {
  return {
    hash: () => win.location.hash,
    setHash: (h) => {
      if (win.location.hash !== h) win.location.hash = h;
    },
    onHashChange: (listener) => {
      win.addEventListener('hashchange', listener);
      return () => win.removeEventListener('hashchange', listener);
    },
    base: () => `${win.location.origin}${win.location.pathname}${win.location.search}`,
  };
}

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
  /** What the last menu command could not do (null when it did it). */
  commandNote = $state<string | null>(null);
  /** Browser mode: whether the event socket is up (null before it first connects). */
  connected = $state<boolean | null>(null);

  private readonly nav: Navigator | undefined;
  /** Browser mode's access token: links to a run carry it in their fragment. */
  private readonly token: string | undefined;
  private stopFollowing: (() => void) | null = null;
  private stopCommands: (() => void) | null = null;

  constructor(client: AuditClient, mode: 'electron' | 'browser', nav?: Navigator, token?: string) {
    this.client = client;
    this.mode = mode;
    this.nav = nav;
    this.token = token;
    this.history = new HistoryState(client);
    this.history.onDeleted = (runId) => this.forgetRun(runId);
    this.calibrations = new CalibrationsState(client);
  }

  /** A deleted run leaves the navigation: its monitor closes, nothing offers to resume it. */
  forgetRun(runId: string): void {
    if (this.monitor?.runId !== runId) return;
    this.monitor.dispose();
    this.monitor = null;
    if (this.screen === 'run') this.go('history');
  }

  /** The screen the address names (Back, Forward, a pasted or opened link); an unknown one changes nothing. */
  followAddress(): void {
    if (!this.ready || !this.nav) return;
    const route = parseRoute(this.nav.hash());
    if (route) this.show(route);
  }

  private show(route: Route): void {
    if (route.screen === 'run' && route.runId) this.openRun(route.runId);
    else if (route.screen === 'run') this.go(this.monitor ? 'run' : 'history');
    else this.go(route.screen);
  }

  /** Puts the current screen in the address bar (a new history entry when it changed). */
  private record(route: Route): void {
    this.nav?.setHash(formatRoute(route));
  }

  /**
   * A link that opens this run on its own, in another tab or window: in browser mode it
   * carries the token in its fragment (never in a query string, so no server log sees it).
   */
  runLink(runId: string): string {
    const base = this.nav?.base() ?? '';
    return `${base}${formatRoute({ screen: 'run', runId }, this.mode === 'browser' ? this.token : undefined)}`;
  }

  dispose(): void {
    this.stopFollowing?.();
    this.stopFollowing = null;
    this.stopCommands?.();
    this.stopCommands = null;
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
      baseDir: info.value.baseDir,
    });
    this.ready = true;
    if (this.nav && !this.stopFollowing) this.stopFollowing = this.nav.onHashChange(() => this.followAddress());
    if (!this.stopCommands) this.stopCommands = this.client.onCommand?.((c) => this.runCommand(c)) ?? null;
    const route = this.nav ? parseRoute(this.nav.hash()) : null;
    if (route) this.show(route);
    else this.record({ screen: this.screen });
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
    if (screen === 'run' && this.monitor) this.record({ screen: 'run', runId: this.monitor.runId });
    else if (screen !== 'run') this.record({ screen });
    if (screen === 'history') void this.history.load();
    if (screen === 'calibrations') void this.calibrations.load();
  }

  /** Shows a run in the monitor (live while it runs, its stored results once it has stopped). */
  openRun(runId: string): RunMonitorState {
    if (this.monitor?.runId !== runId) {
      this.monitor?.dispose();
      this.monitor = new RunMonitorState(this.client, runId, { desktop: this.mode === 'electron' });
      void this.monitor.start();
    } else void this.monitor.refresh();
    this.screen = 'run';
    this.record({ screen: 'run', runId });
    return this.monitor;
  }

  /**
   * A command of the desktop app's menu or its shortcuts. Export acts on the run on screen;
   * without one it says so in `commandNote` rather than doing nothing.
   */
  runCommand(command: AppCommand): void {
    this.commandNote = null;
    if (command === 'new-audit') return this.go('wizard');
    if (command === 'history' || command === 'calibrations') return this.go(command);
    const m = this.screen === 'run' ? this.monitor : null;
    if (!m?.detail) {
      this.commandNote = 'Open a run first (History, then Open): the report is of the run on screen.';
      return;
    }
    if (command === 'export-report') void m.exportReport();
    else void m.saveReportAs();
  }

  /** A fresh wizard, optionally from a preset or a past run's spec. */
  newAudit(preset?: string): void {
    if (!this.wizard) return;
    if (preset) this.wizard.loadPreset(preset);
    this.go('wizard');
  }
}
