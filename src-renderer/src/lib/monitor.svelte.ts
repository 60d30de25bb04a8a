/**
 * The run monitor's state: applies the runner's events (job status, progress with losses
 * and fidelity, job counts and the ETA) as they stream in, and reloads the stored run
 * (`getRun`: the Table-1 results, checkpoint trajectories, fidelity curves) whenever a job
 * finishes, so the verdict table fills in row by row.
 *
 * No DOM here: the screen draws `lossesChart()`, `fidelityChart()` and `trajectoryChart()`
 * with the shared echarts option builders; the tests feed events to `apply`.
 */
import type { RunStatus } from '../../../src-shared/audit/results';
import type { LossesChartData, TrajectoryChartData } from '../../../src-shared/charts';
import type { ApiError, AuditClient, AuditEvent, JobView, RunDetail } from '../../../src-shared/contract/api';
import { metricLabel, settle } from './format';

export type MonitorClient = Pick<
  AuditClient,
  'getRun' | 'pauseRun' | 'cancelRun' | 'resumeRun' | 'exportReport' | 'onEvent'
>;

export interface LiveJob {
  key: string;
  label: string;
  kind: string;
  status: JobView['status'];
  attempt: number;
  stage: string | null;
  iteration: number | null;
  total: number | null;
  values: Record<string, number>;
  error: string | null;
  seconds: number | null;
}

/** Progress values that are losses (drawn on the losses chart). */
const LOSS_KEYS = new Set(['loss', 'ce', 'kl', 'feat']);
export function isLossKey(k: string): boolean {
  return LOSS_KEYS.has(k) || /loss$/i.test(k);
}

const TERMINAL: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'paused'];

/** The job kind from its key: 'attack:row:scen:1' -> 'attack', 'reference:0' -> 'reference'. */
export function kindOfKey(key: string): string {
  if (key === 'victim') return 'train-victim';
  return key.split(':')[0] || key;
}

/** A job's own fraction done: 1 when done, iteration/total while running. */
export function jobFraction(j: Pick<LiveJob, 'status' | 'iteration' | 'total'>): number {
  if (j.status === 'done') return 1;
  if (j.status !== 'running' || !j.total || j.iteration === null) return 0;
  return Math.min(1, Math.max(0, j.iteration / j.total));
}

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
  exported = $state.raw<{ format: string; path: string } | null>(null);

  private unsubscribe: (() => void) | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private lastLossJob: string | null = null;
  private now: () => number;

  constructor(client: MonitorClient, runId: string, opts: { now?: () => number } = {}) {
    this.client = client;
    this.runId = runId;
    this.now = opts.now ?? (() => Date.now());
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
        ...(prev ?? this.blankJob(e.key, e.label)),
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
    const prev = this.jobs[e.key] ?? this.blankJob(e.key, e.label);
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

  private blankJob(key: string, label: string): LiveJob {
    return {
      key,
      label,
      kind: kindOfKey(key),
      status: 'pending',
      attempt: 0,
      stage: null,
      iteration: null,
      total: null,
      values: {},
      error: null,
      seconds: null,
    };
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
    const jobs = { ...this.jobs };
    const order = d.jobs.map((j) => j.key);
    for (const view of d.jobs) {
      const live = jobs[view.key];
      const stale = live && isTerminalJob(live.status) && !isTerminalJob(view.status);
      const p = view.progress;
      jobs[view.key] = {
        key: view.key,
        label: view.label,
        kind: view.kind,
        status: stale ? live.status : view.status,
        attempt: Math.max(view.attempts, live?.attempt ?? 0),
        stage: live?.stage ?? p?.stage ?? null,
        iteration: live?.iteration ?? p?.iteration ?? null,
        total: live?.total ?? p?.total ?? null,
        values: { ...(p?.values ?? {}), ...(live?.values ?? {}) },
        error: view.error ?? live?.error ?? null,
        seconds: view.seconds,
      };
    }
    for (const k of this.order) if (!order.includes(k)) order.push(k);
    this.jobs = jobs;
    this.order = order;
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

  lossesChart(): LossesChartData {
    const key = this.lossJob;
    const series = key ? Object.entries(this.losses[key] ?? {}).map(([name, points]) => ({ name, points })) : [];
    const all = series.flatMap((s) => s.points.map((p) => p[1]));
    const positive = all.length > 0 && all.every((v) => v > 0);
    const logY = positive && Math.max(...all) / Math.min(...all) > 100;
    return { title: key ? `Losses: ${this.jobs[key]?.label ?? key}` : 'Losses', series, logY };
  }

  /** Test accuracy over iterations of every attack job: stored curves, then live points. */
  fidelityChart(): LossesChartData {
    const keys = new Set<string>([...Object.keys(this.detail?.curves ?? {}), ...Object.keys(this.liveFidelity)]);
    const series = [...keys].map((key) => {
      const pts = new Map<number, number>();
      for (const p of this.detail?.curves[key] ?? []) pts.set(p.iteration, p.fidelity);
      for (const [it, v] of this.liveFidelity[key] ?? []) pts.set(it, v);
      return {
        name: this.jobs[key]?.label ?? key,
        points: [...pts.entries()].sort((a, b) => a[0] - b[0]).map(([it, v]): [number, number] => [it, v * 100]),
      };
    });
    return { title: 'Fidelity over the attack', series, yName: 'test accuracy %' };
  }

  /** Metric ids that have checkpoint values. */
  get trajectoryMetrics(): string[] {
    const ids = new Set<string>();
    for (const t of this.detail?.trajectories ?? [])
      for (const p of t.points) for (const [id, v] of Object.entries(p.metrics)) if (v.normalized !== null) ids.add(id);
    const wanted = this.detail?.run.spec.checkpoints?.metrics ?? [];
    return [...wanted.filter((m) => ids.has(m)), ...[...ids].filter((m) => !wanted.includes(m))];
  }

  trajectoryChart(): TrajectoryChartData | null {
    const metrics = this.trajectoryMetrics;
    const metricId =
      this.trajectoryMetric && metrics.includes(this.trajectoryMetric) ? this.trajectoryMetric : metrics[0];
    if (!metricId) return null;
    const column = this.detail?.table.metrics.find((m) => m.id === metricId);
    const series = (this.detail?.trajectories ?? []).map((t) => ({
      name: this.jobs[t.suspectKey]?.label ?? t.suspectKey,
      points: t.points.flatMap((p) => {
        const m = p.metrics[metricId];
        return m && m.normalized !== null && Number.isFinite(p.fidelity)
          ? [{ iteration: p.iteration, fidelity: p.fidelity, normalized: m.normalized }]
          : [];
      }),
    }));
    return {
      metricId,
      metricLabel: metricLabel(metricId),
      kind: column?.kind ?? null,
      series: series.filter((s) => s.points.length > 0),
      title: `Fidelity against ${metricLabel(metricId)} / tau at each checkpoint`,
    };
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

  async exportReport(format: 'pdf' | 'html' | 'csv' | 'json' = 'pdf'): Promise<string | null> {
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
    return r.value.path;
  }
}

function isTerminalJob(s: JobView['status']): boolean {
  return s === 'done' || s === 'failed' || s === 'cancelled';
}

/** Adds a point, replacing one at the same iteration (a resumed job repeats some). */
function appendPoint(points: [number, number][], iteration: number, value: number): [number, number][] {
  const last = points[points.length - 1];
  if (last && last[0] === iteration) return [...points.slice(0, -1), [iteration, value]];
  if (last && last[0] > iteration) return [...points.filter((p) => p[0] < iteration), [iteration, value]];
  return [...points, [iteration, value]];
}
