/**
 * The one API between the UI and the main side: every call the renderer can make and every
 * event it receives. Implemented once on the main side (src-main/api) and exposed two ways:
 * Electron IPC through the preload (one function per method, nothing raw) and the browser
 * mode's loopback HTTP + WebSocket server (`ownership-audit serve`).
 *
 * Every method takes at most one argument, a JSON object validated against its schema in
 * `API_INPUT_SCHEMAS` on the main side before anything runs; errors cross the boundary as
 * data (`Result`), never as exceptions, so a bad payload can never crash the main process.
 *
 * Both transports carry the same JSON: every Result and event is JSON-normalised on the main
 * side, so a number that is not finite (NaN, Infinity) arrives as null in either mode.
 *
 * Transports (implemented in src-main/api/server.ts and src-main/app/, clients in
 * http-client.ts and src-main/preload/index.ts):
 * - Electron: `window.auditApi`, one function per API_METHODS entry plus `onEvent`
 *   (IPC channels `api:<method>` and `api:event`).
 * - Browser mode (`ownership-audit serve`): the page is opened as
 *   `http://127.0.0.1:PORT/#token=TOKEN` (TOKEN: 43 base64url characters, 32 random bytes).
 *   `POST /api/<method>` with header `Authorization: Bearer TOKEN` and the input as JSON body
 *   (no body for argument-less methods) answers 200 with the Result JSON; transport errors
 *   answer with a Result error too: 400 BAD_JSON, 401 UNAUTHORIZED, 404 UNKNOWN_METHOD,
 *   405 METHOD_NOT_ALLOWED, 413 PAYLOAD_TOO_LARGE (1 MiB).
 *   Events: WebSocket `ws://127.0.0.1:PORT/api/events`. The client's first message is
 *   `{"type":"auth","token":TOKEN}` (or the URL carries `?token=TOKEN`); the server answers
 *   `{"type":"ready"}` and then sends `{"type":"event","event":AuditEvent}` per event.
 *   Close code 4401: wrong token; 4408: no auth message within 5 s.
 */
import { z } from 'zod';
import type { ResultsTable, RunStatus, Trajectory } from '../audit/results';
import type { AuditSpec } from '../audit/spec';
import type { AttackRole } from '../domain/attacks';
import type { JobKind, JobStatus } from '../domain/states';
import type { MetricKind } from '../domain/metrics';
import { REPORT_FORMATS, type ReportFormat } from '../domain/reports';
import type { ParamSpec } from '../params';
import { API_METHOD_NAMES, type ApiMethodName, type AppCommand } from './methods';

export interface ApiError {
  code: string;
  message: string;
  hint: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export interface EngineInfo {
  backend: string;
  available: string[];
  tfjsVersion: string;
  /** Worker processes a run gets by default on this backend. */
  defaultWorkers: number;
  /** The data folder (run history, database). */
  home: string;
  /**
   * The folder relative paths are read from (where `serve` or the app was started); a started
   * audit stores its paths made absolute against it, so a resume elsewhere reads the same files.
   */
  baseDir: string;
}

export interface CatalogEntry {
  id: string;
  title: string;
  /** One line for the wizard. */
  help: string;
  params: ParamSpec[];
}

export interface CatalogAttack extends CatalogEntry {
  /** The paper's name, e.g. 'FT'. */
  name: string;
  role: AttackRole;
  /** Added: the attack's colour in every chart (the same in every run). */
  color?: string;
  defaultSeeds: number[];
  needs: { sameArchitecture?: boolean; block?: boolean; labels?: boolean };
}

export interface CatalogMetric {
  id: string;
  kind: MetricKind;
  /** e.g. 'DeepJudge LOD'. */
  label: string;
  /** e.g. 'LOD'. */
  shortLabel: string;
  votes: boolean;
  /** False for a voting metric left out of the combined verdict (a baseline's); absent otherwise. */
  combined?: boolean;
}

export interface CatalogDefense extends CatalogEntry {
  /** The paper's name, e.g. 'DeepJudge'. */
  name: string;
  metrics: CatalogMetric[];
  /** True for a defence offered but not run by default (a baseline): the wizard starts it unchecked. */
  optIn?: boolean;
}

/**
 * Everything the workbench may list, read from the main side's registries: adding an
 * attack or a defence there makes it appear here, with its help, labels and defaults.
 */
export interface Catalog {
  attacks: CatalogAttack[];
  defenses: CatalogDefense[];
  /** Metrics that are reported but never vote (fidelity), with their labels. */
  reportedMetrics: CatalogMetric[];
  /** Built-in specs: 'demo' and 'smoke'. */
  presets: { id: string; title: string; spec: AuditSpec }[];
  /** The embedded demo victim and data (absolute paths on the main side). */
  demo: { model: string; data: string };
}

export interface DatasetPreview {
  path: string;
  layout: string;
  /** [height, width, channels] */
  shape: [number, number, number];
  numClasses: number;
  classNames?: string[];
  counts: { train: number[]; test: number[] };
  /** A few images per split as PNG data URLs, with their labels. */
  samples: { split: 'train' | 'test'; label: number; png: string }[];
}

export interface ModelSummary {
  path: string;
  arch: string;
  lineage: string;
  inputShape: [number, number, number];
  numClasses: number;
  blocks: string[];
  defaultAttackBlock: string;
  testAccuracy: number | null;
  contentHash: string;
}

export interface SpecCheck {
  /** Empty when the spec can run; each problem names its field. They block the start. */
  problems: string[];
  /**
   * Added: what runs but probably not as meant (more workers than cores, an estimate above a
   * few hours, a reused calibration on few or weak references); each names its field. They
   * never block the start.
   */
  warnings?: string[];
  /**
   * Present when the spec is valid. From the planner's per-job weights (measured on the wasm
   * backend) scaled for the active backend; `note` (added; always set by the main side) says
   * what the figure rests on.
   * wallSeconds: max(workerSeconds / workers, the longest chain of dependent jobs).
   */
  estimate?: {
    jobs: number;
    workerSeconds: number;
    wallSeconds: number;
    workers: number;
    backend: string;
    note?: string;
  };
}

export interface RunSummary {
  id: string;
  name: string;
  status: RunStatus;
  createdAt: string;
  wallSeconds: number;
  backend: string;
  jobs: number;
  done: number;
  /** Added: this main process is driving the run now (pause/cancel apply). */
  active?: boolean;
}

export interface JobView {
  key: string;
  label: string;
  kind: JobKind;
  status: JobStatus;
  attempts: number;
  seconds: number | null;
  error: string | null;
  /** Last progress event: iteration, total, values (losses, fidelity...). */
  progress: { stage?: string; iteration?: number; total?: number; values?: Record<string, number> } | null;
}

/** A queue worker that worked on a distributed run, as the run's jobs recorded it. */
export interface WorkerView {
  id: string;
  host: string;
  backend: string;
  version: string;
  /** Label of the job of this run it runs now, or null. */
  current: string | null;
  /** Jobs of this run it finished. */
  done: number;
}

export interface RunDetail {
  run: RunSummary & { spec: AuditSpec; error: string | null; workDir: string };
  /** Added: a run driven through a queue (`run --queue`): its queue (no password) and shared folder; null when local. */
  distributed?: { queue: string; shared: string } | null;
  /** Added: the workers of a distributed run (empty for a local one). */
  workers?: WorkerView[];
  jobs: JobView[];
  table: ResultsTable;
  trajectories: Trajectory[];
  /** Fidelity curves per suspect (attack key -> points). */
  curves: Record<string, { iteration: number; fidelity: number; agreement: number }[]>;
  /** Added: loss curves per job as the runner streamed them (job key -> series -> [iteration, value]). */
  losses?: Record<string, Record<string, [number, number][]>>;
  reports: { format: string; path: string; createdAt: string }[];
}

export interface CalibrationSummary {
  id: string;
  createdAt: string;
  file: string;
  runId: string | null;
  references: { path: string; seed: number; testAccuracy?: number }[];
  /**
   * Changed: tau and values are null where not finite (a degenerate calibration can give NaN,
   * which JSON, and so the calibration file, stores as null). rule: e.g. 'paper' or 'quantile(0.95)'.
   */
  metrics: {
    id: string;
    kind: string;
    tau: number | null;
    degenerate: boolean;
    rule: string;
    values: (number | null)[];
  }[];
}

/** Events pushed to the UI: the job runner's, per run. */
export type AuditEvent =
  | { type: 'run'; runId: string; status: RunStatus; jobs: number; done: number }
  | {
      type: 'job';
      runId: string;
      key: string;
      kind: JobKind;
      label: string;
      status: JobView['status'];
      attempt: number;
      error?: string;
    }
  | {
      type: 'progress';
      runId: string;
      key: string;
      kind: JobKind;
      label: string;
      event: { stage: string; iteration: number; total: number; values?: Record<string, number> };
      done: number;
      total: number;
      etaSeconds: number | null;
    };

/** The request-response methods. The object form keeps every payload one validated JSON value. */
export interface AuditApi {
  engineInfo(): Promise<Result<EngineInfo>>;
  catalog(): Promise<Result<Catalog>>;
  inspectModel(input: { path: string }): Promise<Result<ModelSummary>>;
  previewDataset(input: { path: string; samplesPerSplit?: number }): Promise<Result<DatasetPreview>>;
  checkSpec(input: { spec: unknown; workers?: number }): Promise<Result<SpecCheck>>;
  startRun(input: { spec: unknown; workers?: number }): Promise<Result<{ runId: string }>>;
  resumeRun(input: { runId: string; workers?: number }): Promise<Result<{ runId: string }>>;
  pauseRun(input: { runId: string }): Promise<Result<null>>;
  cancelRun(input: { runId: string }): Promise<Result<null>>;
  cancelJob(input: { runId: string; key: string }): Promise<Result<null>>;
  listRuns(input: { status?: RunStatus; name?: string }): Promise<Result<RunSummary[]>>;
  getRun(input: { runId: string }): Promise<Result<RunDetail>>;
  deleteRun(input: { runId: string; files?: boolean }): Promise<Result<null>>;
  listCalibrations(): Promise<Result<CalibrationSummary[]>>;
  /**
   * `out` is a file name under `<home>/exports` (default: the run's folder), or under the
   * folder a `pickPath({ purpose: 'export' })` grant names. Anything else is PATH_NOT_ALLOWED.
   */
  exportReport(input: {
    runId: string;
    format: ReportFormat;
    out?: string;
    grant?: string;
  }): Promise<Result<{ path: string }>>;
  /**
   * A native folder/file dialog (Electron only; the browser mode answers NOT_AVAILABLE and the
   * UI asks for a path). purpose 'read' (default) answers the path and makes it readable;
   * 'export' picks a folder and answers an opaque grant id for exportReport.
   */
  pickPath(input: {
    kind: 'folder' | 'file';
    title: string;
    purpose?: 'read' | 'export';
  }): Promise<Result<string | null>>;
  /**
   * Desktop only (the browser mode answers NOT_AVAILABLE and downloads instead): a native
   * Save dialog, then the report written where the user chose; null when the dialog is
   * cancelled. The report is recorded with the run like any export.
   */
  saveReportAs(input: { runId: string; format: ReportFormat }): Promise<Result<{ path: string } | null>>;
  /** Desktop only: shows a report recorded with the run in the system's file manager. */
  showInFolder(input: { runId: string; path: string }): Promise<Result<null>>;
}

export type ApiMethod = keyof AuditApi;

const runId = z.string().regex(/^r-[A-Za-z0-9-]{1,64}$/);
const path = z.string().min(1).max(4096);
const workers = z.number().int().min(1).max(64).optional();
const RUN_STATUSES = ['pending', 'running', 'paused', 'cancelled', 'failed', 'completed'] as const;

/** Schema of each method's input (undefined input for the argument-less ones). */
export const API_INPUT_SCHEMAS = {
  engineInfo: z.undefined(),
  catalog: z.undefined(),
  inspectModel: z.strictObject({ path }),
  previewDataset: z.strictObject({ path, samplesPerSplit: z.number().int().min(0).max(32).optional() }),
  checkSpec: z.strictObject({ spec: z.unknown(), workers }),
  startRun: z.strictObject({ spec: z.unknown(), workers }),
  resumeRun: z.strictObject({ runId, workers }),
  pauseRun: z.strictObject({ runId }),
  cancelRun: z.strictObject({ runId }),
  cancelJob: z.strictObject({ runId, key: z.string().min(1).max(512) }),
  listRuns: z.strictObject({ status: z.enum(RUN_STATUSES).optional(), name: z.string().max(200).optional() }),
  getRun: z.strictObject({ runId }),
  deleteRun: z.strictObject({ runId, files: z.boolean().optional() }),
  listCalibrations: z.undefined(),
  exportReport: z.strictObject({
    runId,
    format: z.enum(REPORT_FORMATS),
    out: path.optional(),
    grant: z
      .string()
      .regex(/^g-[0-9a-f]{32}$/)
      .optional(),
  }),
  pickPath: z.strictObject({
    kind: z.enum(['folder', 'file']),
    title: z.string().max(200),
    purpose: z.enum(['read', 'export']).optional(),
  }),
  saveReportAs: z.strictObject({ runId, format: z.enum(REPORT_FORMATS) }),
  showInFolder: z.strictObject({ runId, path }),
} satisfies Record<ApiMethod, z.ZodType>;

type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time check: methods.ts lists exactly the methods of AuditApi. */
const namesMatchApi: SameKeys<ApiMethod, ApiMethodName> = true;
void namesMatchApi;

/**
 * Every method name, in one place (methods.ts, in the order of AuditApi): the preload
 * exposes exactly these, the IPC handlers and the HTTP server route exactly these.
 */
export const API_METHODS: readonly ApiMethod[] = API_METHOD_NAMES;

/** What the renderer sees on `window.auditApi` (Electron) or gets from the HTTP client (browser mode). */
export interface AuditClient extends AuditApi {
  /** Subscribes to run events; returns the unsubscribe function. */
  onEvent(listener: (e: AuditEvent) => void): () => void;
  /** Desktop only: the application menu's commands (absent in the browser mode, which has no menu). */
  onCommand?(listener: (c: AppCommand) => void): () => void;
}
