/**
 * The API, implemented once for both transports (Electron IPC and the browser mode's HTTP
 * server): `createAuditService(...)` returns an object with one method per API method (each
 * returning a Result), `dispatch(method, rawInput)` for the transports, which validates the
 * input against the contract's schemas, and `onEvent` for the runs' live events.
 *
 * Runs start in this process through the job runner (`startAudit`): the heavy work happens
 * in the worker processes it starts, so the host only records results and forwards events.
 * Active runs are kept by id so that pause, cancel and cancelJob reach them.
 */
import { distributedRecord } from '../runner/queue/run-record';
import { runWorkers } from '../runner/queue/run-workers';
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { AuditSpec } from '../../src-shared/audit/spec';
import {
  API_METHODS,
  type AuditClient,
  type AuditEvent,
  type AuditApi,
  type RunDetail,
} from '../../src-shared/contract/api';
import { AuditError } from '../engine/errors';
import { loadModel } from '../engine/models/io';
import { loadResultsTable, loadTrajectories } from '../runner/results';
import { defaultWorkers, processAlive, startAudit, type AuditHandle, type RunAuditOptions } from '../runner/run-audit';
import type { WorkerLauncher } from '../runner/worker-process';
import { databasePath, openStore, runsDir } from '../store';
import type { AuditStore } from '../store/types';
import { buildCatalog } from './catalog';
import { createDispatch, type ApiHandlers, type Dispatch } from './dispatch';
import { ApiFailure, jsonNormalized, withoutFileContents } from './errors';
import { createPathPolicy } from './path-policy';
import { previewDataset } from './preview';
import type { ReportFormat } from '../../src-shared/domain/reports';
import { exportReport } from './report-export';
import { checkSpec, specProblems, withAbsolutePaths } from './spec-check';
import { calibrationSummary, jobView, runSummary, toAuditEvent } from './views';
import { jobKindOf } from '../runner/jobs';
import { packageRoot } from '../cli/paths';

/** The compute backend the runs use, as `initBackend` reports it. */
export interface EngineDescription {
  backend: string;
  available: string[];
  tfjsVersion: string;
}

/** Native dialogs and the file manager (Electron only). */
export interface ApiDialogs {
  pickPath(input: { kind: 'folder' | 'file'; title: string }): Promise<string | null>;
  /** A Save dialog for one file; its absolute path, or null when cancelled. */
  saveFile(input: { title: string; defaultName: string; extension: string; label: string }): Promise<string | null>;
  /** Opens the file's folder in the system's file manager with the file selected. */
  showInFolder(path: string): void;
}

/** What a Save dialog offers per report format. */
const REPORT_FILE_TYPES: Record<ReportFormat, string> = {
  pdf: 'PDF report',
  html: 'HTML report',
  csv: 'Results table (CSV)',
  json: 'Results (JSON)',
};

export interface AuditServiceOptions {
  /** The data folder: database and run folders. */
  home: string;
  /** The backend every worker initialises; a promise where it is still being probed (the app asks a child process). */
  backend: string | EngineDescription | Promise<EngineDescription>;
  /** The bundled CLI (dist/cli.cjs): workers run its `worker job`, HTML/PDF reports its `report`. */
  workerEntry: string;
  workerArgs?: string[];
  /** How worker processes start (default child_process.fork; Electron passes a utilityProcess launcher). */
  launchWorker?: WorkerLauncher;
  dialogs?: ApiDialogs;
  /** Relative paths in specs resolve against this folder (default: the process's working directory). */
  baseDir?: string;
  /** Folders the API may read besides the home and the bundled resources (serve: its folder, --allow-dir). */
  readRoots?: string[];
  /** For tests: an open store (default: the home's database, closed by close()). */
  store?: AuditStore;
  /** For tests: a stand-in for the job runner. */
  startAudit?: (opts: RunAuditOptions) => AuditHandle;
}

export interface AuditService extends AuditClient {
  /** Validates and runs one call; never throws (both transports call this). */
  dispatch: Dispatch;
  readonly home: string;
  readonly store: AuditStore;
  /** Pauses active runs (their jobs checkpoint), waits a little for them, closes the store. */
  close(): Promise<void>;
  /**
   * The newest report of a run in that format, as the store recorded it: the file a browser
   * downloads. Only files the store lists as the run's reports are ever served.
   */
  reportFile(input: { runId: string; format: string }): { path: string; name: string };
}

const runNotFound = (id: string) =>
  new AuditError('RUN_NOT_FOUND', `No run with id ${id}`, {
    hint: 'The run may have been deleted; refresh the history.',
  });

export function createAuditService(opts: AuditServiceOptions): AuditService {
  const home = resolve(opts.home);
  const baseDir = opts.baseDir ?? process.cwd();
  const ownStore = !opts.store;
  const store = opts.store ?? openStore(databasePath(home));
  const start = opts.startAudit ?? startAudit;
  const paths = createPathPolicy({
    home,
    baseDir,
    resourcesDir: join(packageRoot(), 'resources'),
    readRoots: opts.readRoots,
  });
  const specContext = { store, home, baseDir, readable: paths.isReadable };
  /** Writes the run's report to `out` (already checked against the path policy). */
  const reportTo = async (runId: string, format: ReportFormat, out: string): Promise<{ path: string }> => {
    const { backend } = await engine;
    return exportReport({ store, home, backend, cliEntry: opts.workerEntry, runId, format, out });
  };
  /** The native dialogs, or NOT_AVAILABLE (the browser mode) with what to do instead. */
  const desktopDialogs = (instead: string): ApiDialogs => {
    if (!opts.dialogs) throw new ApiFailure('NOT_AVAILABLE', 'Only the desktop app has native dialogs', instead);
    return opts.dialogs;
  };
  const engine: Promise<EngineDescription> = Promise.resolve(
    typeof opts.backend === 'string'
      ? { backend: opts.backend, available: [opts.backend], tfjsVersion: tf.version.tfjs }
      : opts.backend,
  );
  // Probing may fail (a broken install): calls that need the backend report it, the rest work.
  engine.catch(() => undefined);
  const active = new Map<string, AuditHandle>();
  const listeners = new Set<(e: AuditEvent) => void>();

  const emit = (e: AuditEvent) => {
    const normalized = jsonNormalized(e);
    for (const l of listeners) {
      try {
        l(normalized);
      } catch {
        // A failing subscriber (a closed window, a dead socket) must not stop the run.
      }
    }
  };

  const getRunOrThrow = (id: string) => {
    const run = store.getRun(id);
    if (!run) throw runNotFound(id);
    return run;
  };

  const activeHandle = (id: string): AuditHandle => {
    const h = active.get(id);
    if (h) return h;
    const run = getRunOrThrow(id);
    throw new ApiFailure(
      'RUN_NOT_ACTIVE',
      `Run ${id} is not running in this app (status: ${run.status})`,
      run.status === 'completed'
        ? 'The run has finished.'
        : 'Resume it first; only runs driven by this app can be paused or cancelled.',
    );
  };

  const launch = async (o: { spec: AuditSpec; workers?: number; resumeRunId?: string }): Promise<{ runId: string }> => {
    const { backend } = await engine;
    const handle = start({
      store,
      home,
      spec: o.spec,
      baseDir,
      workers: o.workers,
      backend,
      workerEntry: opts.workerEntry,
      workerArgs: opts.workerArgs,
      launchWorker: opts.launchWorker,
      resumeRunId: o.resumeRunId,
      // The wizard's Start always makes a new run; continuing one is resumeRun's job.
      fresh: o.resumeRunId === undefined,
      onEvent: (e) => emit(toAuditEvent(e)),
    });
    active.set(handle.runId, handle);
    handle.done.then(
      () => active.delete(handle.runId),
      (e: unknown) => {
        // The runner itself failed (not a job): record it so the run does not look alive.
        active.delete(handle.runId);
        const message = e instanceof Error ? e.message : String(e);
        try {
          store.updateRun(handle.runId, { status: 'failed', ownerPid: null, error: message.slice(0, 2000) });
          const jobs = store.listJobs(handle.runId);
          emit({
            type: 'run',
            runId: handle.runId,
            status: 'failed',
            jobs: jobs.length,
            done: jobs.filter((j) => j.status === 'done').length,
          });
        } catch {
          // the run was deleted meanwhile
        }
      },
    );
    return { runId: handle.runId };
  };

  const handlers: ApiHandlers = {
    engineInfo: async () => {
      const e = await engine;
      return {
        backend: e.backend,
        available: e.available,
        tfjsVersion: e.tfjsVersion,
        defaultWorkers: defaultWorkers(e.backend),
        home,
        baseDir,
      };
    },
    catalog: () => buildCatalog(),
    inspectModel: async ({ path }) => {
      const file = paths.readable(path, 'inspectModel.path');
      const { model, meta } = await loadModel(file).catch((e: unknown) => {
        throw withoutFileContents(e);
      });
      model.dispose();
      return {
        path: file,
        arch: meta.arch,
        lineage: meta.lineage,
        inputShape: meta.inputShape,
        numClasses: meta.numClasses,
        blocks: meta.blocks,
        defaultAttackBlock: meta.defaultAttackBlock,
        testAccuracy: meta.testAccuracy ?? null,
        contentHash: meta.contentHash,
      };
    },
    previewDataset: ({ path, samplesPerSplit }) =>
      previewDataset(paths.readable(path, 'previewDataset.path'), samplesPerSplit ?? 8),
    checkSpec: async ({ spec, workers }) => {
      const { backend } = await engine;
      return checkSpec(spec, workers ?? defaultWorkers(backend), backend, specContext);
    },
    startRun: async ({ spec, workers }) => {
      const checked = specProblems(spec, specContext);
      if (checked.notAllowed) {
        throw new AuditError(
          'PATH_NOT_ALLOWED',
          `The audit spec names paths the workbench may not read:\n  ${checked.notAllowed.join('\n  ')}`,
          {
            hint: 'Put the files under the data folder or the folder `ownership-audit serve` was started in, or restart serve with `--allow-dir <folder>`.',
          },
        );
      }
      // The estimate's ceiling too: the same refusal the wizard shows before the start.
      const { backend } = await engine;
      const problems = checked.spec
        ? checkSpec(spec, workers ?? defaultWorkers(backend), backend, specContext).problems
        : checked.problems;
      if (!checked.spec || problems.length) {
        throw new AuditError('SPEC_INVALID', `The audit spec is invalid:\n  ${problems.join('\n  ')}`, {
          hint: 'Fix the fields named above (checkSpec lists the same problems).',
        });
      }
      return launch({ spec: withAbsolutePaths(checked.spec, baseDir), workers });
    },
    resumeRun: async ({ runId, workers }) => {
      if (active.has(runId))
        throw new ApiFailure('RUN_BUSY', `Run ${runId} is running already`, 'Wait for it, or pause it first.');
      const run = getRunOrThrow(runId);
      return launch({ spec: run.spec as AuditSpec, workers, resumeRunId: runId });
    },
    pauseRun: ({ runId }) => {
      activeHandle(runId).pause();
      return null;
    },
    cancelRun: ({ runId }) => {
      activeHandle(runId).cancel();
      return null;
    },
    cancelJob: ({ runId, key }) => {
      const handle = activeHandle(runId);
      const before = store.getJob(runId, key);
      if (!before)
        throw new ApiFailure('INVALID_ARGUMENT', `No job ${key} in run ${runId}`, 'Take the key from getRun().jobs.');
      handle.cancelJob(key);
      // A pending job is cancelled in the store at once, without a runner event: tell the UI.
      const after = store.getJob(runId, key);
      if (before.status === 'pending' && after?.status === 'cancelled') {
        emit({
          type: 'job',
          runId,
          key,
          kind: jobKindOf(after),
          label: after.label,
          status: 'cancelled',
          attempt: after.attempts,
          error: 'cancelled by the user',
        });
      }
      return null;
    },
    listRuns: ({ status, name }) =>
      store.listRuns({ status, name }).map((r) => runSummary(r, store.listJobs(r.id), active.has(r.id))),
    getRun: ({ runId }): RunDetail => {
      const run = getRunOrThrow(runId);
      const jobs = store.listJobs(runId);
      const curves: RunDetail['curves'] = {};
      for (const s of store.listSuspects(runId)) {
        curves[s.key] = store
          .listCurve(runId, s.key)
          .map((p) => ({ iteration: p.iteration, fidelity: p.fidelity, agreement: p.agreement }));
      }
      return {
        run: {
          ...runSummary(run, jobs, active.has(runId)),
          spec: run.spec as AuditSpec,
          error: run.error,
          workDir: run.workDir,
        },
        jobs: jobs.map(jobView),
        distributed: distributedView(run.distributed),
        workers: runWorkers(jobs),
        table: loadResultsTable(store, runId),
        trajectories: loadTrajectories(store, runId),
        curves,
        losses: store.lossCurves(runId),
        reports: store.listReports(runId).map((r) => ({ format: r.format, path: r.path, createdAt: r.createdAt })),
      };
    },
    deleteRun: ({ runId, files }) => {
      if (active.has(runId))
        throw new ApiFailure('RUN_BUSY', `Run ${runId} is running`, 'Pause or cancel it first, then delete it.');
      const run = getRunOrThrow(runId);
      if (run.status === 'running' && run.ownerPid && run.ownerPid !== process.pid && processAlive(run.ownerPid)) {
        throw new ApiFailure(
          'RUN_BUSY',
          `Run ${runId} is being run by process ${run.ownerPid}`,
          'Stop that process first (Ctrl-C pauses a CLI run).',
        );
      }
      // Only folders inside the home's runs folder are ever removed, whatever the database says.
      const rel = run.workDir ? relative(runsDir(home), resolve(run.workDir)) : '';
      const removable = Boolean(files && run.workDir && rel && !rel.startsWith('..') && !isAbsolute(rel));
      if (files && run.workDir && !removable) {
        throw new ApiFailure(
          'INVALID_ARGUMENT',
          `The run's folder ${run.workDir} is outside ${runsDir(home)}`,
          'Delete the run without files, and remove that folder by hand if you mean to.',
        );
      }
      store.deleteRun(runId);
      if (removable && existsSync(run.workDir)) rmSync(run.workDir, { recursive: true, force: true });
      return null;
    },
    listCalibrations: () => store.listCalibrations().map(calibrationSummary),
    exportReport: async ({ runId, format, out, grant }) => {
      const run = getRunOrThrow(runId);
      // A chosen place is checked (path-policy.ts); the default is the run's own folder.
      const target =
        out !== undefined || grant !== undefined
          ? paths.writable(out ?? `report-${runId}.${format}`, grant)
          : join(run.workDir || join(runsDir(home), runId), `report-${runId}.${format}`);
      return reportTo(runId, format, target);
    },
    pickPath: async (input) => {
      const picked = await desktopDialogs('Type or paste the path instead.').pickPath({
        kind: input.purpose === 'export' ? 'folder' : input.kind,
        title: input.title,
      });
      if (picked === null) return null;
      // What the user picked is what the API may use: an export folder by grant, a read by its folder.
      if (input.purpose === 'export') return paths.grantFolder(picked);
      paths.addReadRoot(input.kind === 'file' ? dirname(picked) : picked);
      return picked;
    },
    saveReportAs: async ({ runId, format }) => {
      getRunOrThrow(runId);
      const chosen = await desktopDialogs('Use Export report: the browser downloads the file.').saveFile({
        title: 'Save the report as',
        defaultName: `report-${runId}.${format}`,
        extension: format,
        label: REPORT_FILE_TYPES[format],
      });
      if (chosen === null) return null;
      // The folder the user chose in the dialog is granted, and the containment checks still apply.
      return reportTo(runId, format, paths.writable(basename(chosen), paths.grantFolder(dirname(chosen))));
    },
    showInFolder: ({ runId, path }) => {
      const dialogs = desktopDialogs('Open the folder named under the report yourself.');
      getRunOrThrow(runId);
      // Only a report recorded with the run: the page cannot make the app open arbitrary paths.
      const report = store.listReports(runId).find((r) => resolve(r.path) === resolve(path));
      if (!report || !existsSync(report.path))
        throw new ApiFailure(
          'REPORT_NOT_FOUND',
          `${path} is not a report of run ${runId} on disk`,
          'Export the report again, then show it in its folder.',
        );
      dialogs.showInFolder(report.path);
      return null;
    },
  };

  const reportFile = ({ runId, format }: { runId: string; format: string }): { path: string; name: string } => {
    getRunOrThrow(runId);
    const report = store
      .listReports(runId)
      .filter((r) => r.format === format)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    if (!report || !existsSync(report.path))
      throw new ApiFailure(
        'REPORT_NOT_FOUND',
        `Run ${runId} has no ${format.toUpperCase()} report on disk`,
        'Export the report first (Export report), then download it.',
      );
    return { path: report.path, name: basename(report.path) };
  };

  const dispatch = createDispatch(handlers);
  const methods = Object.fromEntries(
    API_METHODS.map((m) => [m, (input?: unknown) => dispatch(m, input)]),
  ) as unknown as AuditApi;

  return {
    ...methods,
    dispatch,
    home,
    store,
    reportFile,
    onEvent(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      const running = [...active.values()];
      for (const h of running) h.pause();
      await Promise.race([
        Promise.allSettled(running.map((h) => h.done)),
        new Promise((r) => setTimeout(r, 15_000).unref()),
      ]);
      listeners.clear();
      if (ownStore) store.close();
    },
  };
}

/** Where a distributed run's queue and shared folder are, for the app (null for a local run). */
function distributedView(value: unknown): RunDetail['distributed'] {
  const d = distributedRecord(value);
  return d ? { queue: d.queue, shared: d.shared } : null;
}
