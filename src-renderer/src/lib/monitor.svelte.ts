/**
 * The run monitor's state: applies the runner's events (job status, progress with losses
 * and fidelity, job counts and the ETA) as they stream in, and reloads the stored run
 * (`getRun`: the Table-1 results, checkpoint trajectories, fidelity curves) whenever a job
 * finishes, so the verdict table fills in row by row.
 *
 * The pure parts are beside it: monitor/jobs.ts folds events and stored job views into one
 * record per job, monitor/charts.ts computes the charts' data. No DOM here: the screen draws
 * `lossesChart()`, `fidelityChart()` and `trajectoryChart()` with the shared echarts option
 * builders; the tests feed events to `apply`.
 */
import type { RunStatus } from '../../../src-shared/audit/results';
import type { LossesChartData, TrajectoryChartData } from '../../../src-shared/charts';
import type { HttpAuditClient } from '../../../src-shared/contract/http-client';
import type { ApiError, AuditClient, AuditEvent, RunDetail } from '../../../src-shared/contract/api';
import type { ReportFormat } from '../../../src-shared/domain/reports';
import { settle } from './format';
import { fidelityChart, lossesChart, trajectoryChart, trajectoryMetrics } from './monitor/charts';
import { appendPoint, blankJob, isLossKey, jobFraction, mergeJobViews, type LiveJob } from './monitor/jobs';

export type MonitorClient = Pick<
  AuditClient,
  'getRun' | 'pauseRun' | 'cancelRun' | 'resumeRun' | 'exportReport' | 'saveReportAs' | 'showInFolder' | 'onEvent'
>;

const TERMINAL: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'paused'];

export class RunMonitorState {
  readonly client: MonitorClient;
  readonly runId: string;

  detail = $state.raw<RunDetail | null>(null);
  loadError = $state.raw<ApiError | null>(null);
  loading = $state(false);

  status = $state<RunStatus>('pending');
  jobsDone = $state(0);
  jobsTotal = $state(0);
  etaSeconds = $state<number | null>(null);
  /** When the ETA was last reported (ms since epoch): the screen counts down from it. */
  etaAt = $state(0);

  jobs = $state.raw<Record<string, LiveJob>>({});
  order = $state.raw<string[]>([]);
  /** Loss series per job: job key -> series name -> [iteration, value]. */
  losses = $state.raw<Record<string, Record<string, [number, number][]>>>({});
  /** Fidelity seen in progress events per job: [iteration, accuracy]. */
  liveFidelity = $state.raw<Record<string, [number, number][]>>({});
  /** The job whose losses the chart shows (null: the most recent one with losses). */
  pinnedJob = $state<string | null>(null);
  trajectoryMetric = $state<string | null>(null);

  actionError = $state.raw<ApiError | null>(null);
  busy = $state<'pause' | 'cancel' | 'resume' | 'export' | null>(null);
  /** The last export: where the engine wrote it, and in browser mode the name the browser saved it under. */
  exported = $state.raw<{ format: string; path: string; downloaded?: string } | null>(null);
  /** The format Export and Save as write (the menu's commands use it too). */
  exportFormat = $state<ReportFormat>('pdf');
  /** The desktop app: a native Save dialog and the file manager are there. */
  readonly desktop: boolean;

  private unsubscribe: (() => void) | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private lastLossJob: string | null = null;
  private now: () => number;

  private saveFile: (blob: Blob, name: string) => void;

  constructor(
    client: MonitorClient,
    runId: string,
    opts: { now?: () => number; saveFile?: (blob: Blob, name: string) => void; desktop?: boolean } = {},
  ) {
    this.client = client;
    this.runId = runId;
    this.desktop = opts.desktop ?? false;
    this.now = opts.now ?? (() => Date.now());
    this.saveFile = opts.saveFile ?? saveWithBrowser;
  }

  /** Subscribes to events first (nothing is missed), then loads the stored run. */
  async start(): Promise<void> {
    if (!this.unsubscribe) this.unsubscribe = this.client.onEvent((e) => this.apply(e));
    this.loading = true;
    await this.refresh();
    this.loading = false;
  }

  dispose(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  // ---------------------------------------------------------------------------------------
  // Events

  apply(e: AuditEvent): void {
    if (e.runId !== this.runId) return;
    if (e.type === 'run') {
      this.status = e.status;
      this.jobsTotal = e.jobs;
      this.jobsDone = e.done;
      if (TERMINAL.includes(e.status)) {
        this.etaSeconds = null;
        this.refreshSoon(0);
      }
      return;
    }
    if (e.type === 'job') {
      const prev = this.jobs[e.key];
      const job: LiveJob = {
        ...(prev ?? blankJob(e.key, e.kind, e.label)),
        label: e.label,
        status: e.status,
        attempt: e.attempt,
        error: e.error ?? (e.status === 'failed' ? (prev?.error ?? null) : null),
      };
      if (e.status === 'running' && prev && prev.status !== 'running') {
        job.iteration = null;
        job.total = null;
      }
      this.setJob(job);
      if (this.status === 'pending') this.status = 'running';
      if (e.status === 'done') {
        this.jobsDone = Math.max(this.jobsDone, Object.values(this.jobs).filter((j) => j.status === 'done').length);
        this.refreshSoon();
      }
      if (e.status === 'failed') this.refreshSoon();
      return;
    }
    // progress
    const prev = this.jobs[e.key] ?? blankJob(e.key, e.kind, e.label);
    const values = e.event.values ?? {};
    this.setJob({
      ...prev,
      label: e.label,
      status: 'running',
      stage: e.event.stage,
      iteration: e.event.iteration,
      total: e.event.total,
      values: { ...prev.values, ...values },
    });
    if (this.status === 'pending') this.status = 'running';
    this.jobsDone = e.done;
    this.jobsTotal = e.total;
    this.etaSeconds = e.etaSeconds;
    this.etaAt = this.now();
    const lossEntries = Object.entries(values).filter(([k, v]) => isLossKey(k) && Number.isFinite(v));
    if (lossEntries.length) {
      const series = { ...(this.losses[e.key] ?? {}) };
      for (const [k, v] of lossEntries) series[k] = appendPoint(series[k] ?? [], e.event.iteration, v);
      this.losses = { ...this.losses, [e.key]: series };
      this.lastLossJob = e.key;
    }
    if (typeof values.fidelity === 'number' && Number.isFinite(values.fidelity)) {
      this.liveFidelity = {
        ...this.liveFidelity,
        [e.key]: appendPoint(this.liveFidelity[e.key] ?? [], e.event.iteration, values.fidelity),
      };
    }
  }

  private setJob(job: LiveJob): void {
    if (!(job.key in this.jobs)) this.order = [...this.order, job.key];
    this.jobs = { ...this.jobs, [job.key]: job };
  }

  // ---------------------------------------------------------------------------------------
  // The stored run

  /** Reloads the run now, or once more after the reload in flight. */
  async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const r = await settle(this.client.getRun({ runId: this.runId }));
        if (!r.ok) {
          this.loadError = r.error;
          continue;
        }
        this.loadError = null;
        this.merge(r.value);
      } while (this.refreshAgain);
    })();
    try {
      await this.refreshing;
    } finally {
      this.refreshing = null;
    }
  }

  /** A reload a moment from now; events that arrive meanwhile share it. */
  refreshSoon(delayMs = 200): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh();
    }, delayMs);
  }

  private merge(d: RunDetail): void {
    this.detail = d;
    // The stored status is authoritative once the run has stopped; while it runs, events are newer.
    if (TERMINAL.includes(d.run.status) || this.status === 'pending' || !TERMINAL.includes(this.status))
      this.status = d.run.status;
    this.jobsTotal = d.run.jobs;
    this.jobsDone = Math.max(d.run.done, d.jobs.filter((j) => j.status === 'done').length);
    if (TERMINAL.includes(d.run.status)) this.etaSeconds = null;
    const { jobs, order } = mergeJobViews(this.jobs, this.order, d.jobs);
    this.jobs = jobs;
    this.order = order;
    // Stored curves fill in what this window did not see stream (a finished run, a late open);
    // a series that streamed here is at least as recent and stays.
    const stored = d.losses ?? {};
    if (Object.keys(stored).length) {
      const losses = { ...this.losses };
      for (const [key, series] of Object.entries(stored)) losses[key] = { ...series, ...(losses[key] ?? {}) };
      this.losses = losses;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Derived figures

  get jobList(): LiveJob[] {
    return this.order.map((k) => this.jobs[k]).filter(Boolean);
  }

  get runName(): string {
    return this.detail?.run.name ?? this.runId;
  }

  get backend(): string | null {
    return this.detail?.run.backend || null;
  }

  get active(): boolean {
    return this.status === 'running' || this.status === 'pending';
  }

  /**
   * A run marked running that no process drives (the app or server stopped mid-run, or a
   * CLI run in another process): pause and cancel do not apply, resume does (once free).
   */
  get orphaned(): boolean {
    return this.active && this.detail?.run.active === false;
  }

  /** Overall fraction done: finished jobs plus the running ones' own progress. */
  get overall(): number {
    const total = this.jobsTotal || this.order.length;
    if (!total) return 0;
    if (this.status === 'completed') return 1;
    const jobs = this.jobList;
    const done = Math.max(this.jobsDone, jobs.filter((j) => j.status === 'done').length);
    const running = jobs.filter((j) => j.status === 'running').reduce((a, j) => a + jobFraction(j), 0);
    return Math.min(1, (done + running) / total);
  }

  /** Seconds left, counted down since the last estimate (never below 0). */
  etaLeft(now = this.now()): number | null {
    if (this.etaSeconds === null || !this.active) return null;
    return Math.max(0, this.etaSeconds - (now - this.etaAt) / 1000);
  }

  /** The job the losses chart follows. */
  get lossJob(): string | null {
    if (this.pinnedJob && this.losses[this.pinnedJob]) return this.pinnedJob;
    if (this.lastLossJob && this.losses[this.lastLossJob]) return this.lastLossJob;
    return Object.keys(this.losses)[0] ?? null;
  }

  /** A job's label, for chart series. */
  private labelOf = (key: string): string => this.jobs[key]?.label ?? key;

  lossesChart(): LossesChartData {
    return lossesChart(this.losses, this.lossJob, this.labelOf);
  }

  /** Test accuracy over iterations of every attack job: stored curves, then live points. */
  fidelityChart(): LossesChartData {
    return fidelityChart(this.detail, this.liveFidelity, this.labelOf);
  }

  /** Metric ids that have checkpoint values. */
  get trajectoryMetrics(): string[] {
    return trajectoryMetrics(this.detail);
  }

  trajectoryChart(): TrajectoryChartData | null {
    return trajectoryChart(this.detail, this.trajectoryMetric, this.labelOf);
  }

  // ---------------------------------------------------------------------------------------
  // Actions

  private async act(
    kind: 'pause' | 'cancel' | 'resume',
    call: () => Promise<{ ok: true } | { ok: false; error: ApiError }>,
  ): Promise<boolean> {
    this.busy = kind;
    this.actionError = null;
    const r = await call();
    this.busy = null;
    if (!r.ok) {
      this.actionError = r.error;
      return false;
    }
    this.refreshSoon(0);
    return true;
  }

  pause(): Promise<boolean> {
    return this.act('pause', () => settle(this.client.pauseRun({ runId: this.runId })));
  }

  cancel(): Promise<boolean> {
    return this.act('cancel', () => settle(this.client.cancelRun({ runId: this.runId })));
  }

  async resume(workers?: number): Promise<boolean> {
    const ok = await this.act('resume', () =>
      settle(this.client.resumeRun({ runId: this.runId, ...(workers ? { workers } : {}) })),
    );
    if (ok) this.status = 'running';
    return ok;
  }

  /** Desktop: the report written where the user picks in a Save dialog (null: cancelled or failed). */
  async saveReportAs(format: ReportFormat = this.exportFormat): Promise<string | null> {
    this.busy = 'export';
    this.actionError = null;
    const r = await settle(this.client.saveReportAs({ runId: this.runId, format }));
    this.busy = null;
    if (!r.ok) {
      this.actionError = r.error;
      return null;
    }
    if (r.value === null) return null; // Cancelled: the last export stays on screen.
    this.exported = { format, path: r.value.path };
    return r.value.path;
  }

  /** Desktop: the last exported report, selected in the system's file manager. */
  async showInFolder(): Promise<void> {
    if (!this.exported) return;
    const r = await settle(this.client.showInFolder({ runId: this.runId, path: this.exported.path }));
    this.actionError = r.ok ? null : r.error;
  }

  async exportReport(format: ReportFormat = this.exportFormat): Promise<string | null> {
    this.busy = 'export';
    this.actionError = null;
    this.exported = null;
    const r = await settle(this.client.exportReport({ runId: this.runId, format }));
    this.busy = null;
    if (!r.ok) {
      this.actionError = r.error;
      return null;
    }
    this.exported = { format, path: r.value.path };
    // Browser mode: the server's path means nothing to the browser; the file itself is saved.
    const download = (this.client as Partial<HttpAuditClient>).downloadReport;
    if (download) {
      const file = await settle(download({ runId: this.runId, format }));
      if (!file.ok) {
        this.actionError = file.error;
        return r.value.path;
      }
      this.saveFile(file.value.blob, file.value.name);
      this.exported = { format, path: r.value.path, downloaded: file.value.name };
    }
    return r.value.path;
  }
}

/** Saves a file the browser received (an object URL clicked with `download`). */
export function saveWithBrowser(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
