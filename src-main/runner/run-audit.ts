/**
 * Runs an audit: the spec expands into a job graph stored with the run; worker processes
 * run ready jobs in parallel; every finished job is recorded in the store in one
 * transaction before the next decision, so a killed runner loses at most the jobs that
 * were in flight, and those continue from their checkpoints when the run is started again.
 *
 * The same function serves the CLI, the desktop app and the browser mode.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isLossKey } from '../../src-shared/domain/losses';
import type { AuditSpec } from '../../src-shared/audit/spec';
import type { ResultsTable, RunStatus } from '../../src-shared/audit/results';
import type { ProgressEvent } from '../engine/context';
import { AuditError } from '../engine/errors';
import { processAlive } from '../engine/process-alive';
import { machineThreads } from '../engine/wasm-threads';
import type { AuditStore, JobRecord } from '../store/types';
import { HEARTBEAT_MS } from '../store/claim';
import { jobKindOf, storedJob, storedResult, type JobKind } from './jobs';
import { defaultWorkers, openRun, specHash } from './open-run';
import { recordResult } from './record-result';
import { loadResultsTable } from './results';
import { chainWeights, estimateEta, readyJobs, threadShares } from './scheduler';
import type { DistributedRun } from './queue/distributed-run';
import type { RemoteHandle } from './queue/dispatcher';
import { JobFailure, startWorker, type WorkerHandle, type WorkerLauncher } from './worker-process';

export type RunEvent =
  | { type: 'run'; runId: string; status: RunStatus; resumed: boolean; jobs: number; done: number }
  | {
      type: 'job';
      runId: string;
      key: string;
      kind: JobKind;
      label: string;
      status: JobRecord['status'];
      attempt: number;
      error?: string;
    }
  | {
      type: 'progress';
      runId: string;
      key: string;
      kind: JobKind;
      label: string;
      event: ProgressEvent;
      done: number;
      total: number;
      etaSeconds: number | null;
    };

export interface RunAuditOptions {
  store: AuditStore;
  /** The data folder: runs work in `<home>/runs/<runId>`. */
  home: string;
  spec: AuditSpec;
  /** Relative paths in the spec are resolved against this folder. */
  baseDir: string;
  /** Parallel worker processes (default: one per core on CPU backends, one on a GPU). */
  workers?: number;
  /** Backend every worker initialises. */
  backend: string;
  /** Script that runs a worker (the bundled CLI) and the arguments that select it. */
  workerEntry: string;
  workerArgs?: string[];
  /** Continue this run instead of finding one by the spec's hash. */
  resumeRunId?: string;
  /** Start a new run even when an unfinished one with the same spec exists. */
  fresh?: boolean;
  /** How worker processes start (default: child_process.fork; the desktop app uses Electron's utilityProcess). */
  launchWorker?: WorkerLauncher;
  /** Attempts per job when its worker crashes (a typed error is not retried). Default 2. */
  maxAttempts?: number;
  /**
   * A distributed run (`run --queue`): jobs go to the queue's workers instead of local
   * processes, and the run's folder and artifacts live in the shared location.
   */
  distributed?: DistributedRun;
  onEvent?: (e: RunEvent) => void;
}

export interface AuditHandle {
  runId: string;
  /** Resolves when the run stops: completed, failed (some job failed), paused or cancelled. */
  done: Promise<{ runId: string; status: RunStatus; table: ResultsTable }>;
  /** Stops every running job at its next checkpoint; the run can be resumed. */
  pause(): void;
  /** Stops the run; it can still be resumed later. */
  cancel(): void;
  /** Cancels one job (and so the jobs that need it). */
  cancelJob(key: string): void;
  /**
   * Leaves at once (a second Ctrl-C): kills the workers and records, synchronously, the
   * run as paused with no owner and its running jobs as pending, so the process can exit.
   */
  abandon(): void;
}

export { defaultWorkers, processAlive, specHash };

export function startAudit(opts: RunAuditOptions): AuditHandle {
  const { store } = opts;
  const { runId, resumed, retried } = openRun(opts);
  const { distributed } = opts;
  // Distributed: every ready job is enqueued (the queue balances them over its workers);
  // `workers` then only sizes the ETA.
  const workers = Math.max(1, opts.workers ?? (distributed ? 1 : defaultWorkers(opts.backend)));
  const slots = distributed ? Number.POSITIVE_INFINITY : workers;
  distributed?.dispatcher.forget(runId, retried);
  distributed?.dispatcher.sweep(
    runId,
    store
      .listJobs(runId)
      .filter((j) => j.status === 'done')
      .map((j) => ({ key: j.key, kind: jobKindOf(j), attempts: j.attempts })),
  );
  const maxAttempts = opts.maxAttempts ?? 2;
  const running = new Map<string, WorkerHandle | RemoteHandle>();
  // Local wasm runs share the machine's cores among their running jobs (wasm-threads.ts);
  // native TensorFlow sizes its own pools, and a queue's workers run on other machines.
  const coreShares = !distributed && opts.backend === 'wasm' ? machineThreads() : undefined;
  const threadsOf = new Map<string, number>();
  const cancelledJobs = new Set<string>();
  let stopping: 'paused' | 'cancelled' | undefined;
  const sessionStart = Date.now();
  const wallBefore = store.getRun(runId)?.wallSeconds ?? 0;
  const emit = (e: RunEvent) => opts.onEvent?.(e);
  // The claim's heartbeat (store/claim.ts): while it beats, no other process may take the run.
  const heartbeat = setInterval(() => {
    try {
      store.heartbeatRun(runId, process.pid);
    } catch {
      // A busy or closed store: the next beat tries again; a claim goes stale only after many.
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  /** Records how the run stopped: its status, no owner, and the wall time of this session. */
  const release = (status: RunStatus, extra: { finishedAt?: string; error?: string | null } = {}) => {
    clearInterval(heartbeat);
    store.updateRun(runId, {
      status,
      ownerPid: null,
      wallSeconds: wallBefore + (Date.now() - sessionStart) / 1000,
      ...extra,
    });
  };
  const emitJob = (j: JobRecord, status: JobRecord['status'], attempt: number, error?: string) =>
    emit({
      type: 'job',
      runId,
      key: j.key,
      kind: jobKindOf(j),
      label: j.label,
      status,
      attempt,
      ...(error === undefined ? {} : { error }),
    });
  // One log file per job in the run's folder: worker messages, attempts and failures.
  const logDir = join(store.getRun(runId)?.workDir || join(opts.home, 'runs', runId), 'logs');
  mkdirSync(logDir, { recursive: true });
  const jobLog = (key: string, message: string) =>
    appendFileSync(
      join(logDir, `${key.replace(/[^A-Za-z0-9._-]+/g, '_')}.log`),
      `${new Date().toISOString()} ${message}\n`,
    );

  const jobs = () => store.listJobs(runId);
  const counts = () => {
    const all = jobs();
    return { all, done: all.filter((j) => j.status === 'done').length };
  };
  {
    const { all, done } = counts();
    emit({ type: 'run', runId, status: 'running', resumed, jobs: all.length, done });
  }

  const done = new Promise<{ runId: string; status: RunStatus; table: ResultsTable }>((resolveDone, rejectDone) => {
    const finish = () => {
      const all = jobs();
      const failed = all.some((j) => j.status === 'failed' || (j.status === 'cancelled' && !stopping));
      const status: RunStatus =
        stopping ?? (all.every((j) => j.status === 'done') ? 'completed' : failed ? 'failed' : 'cancelled');
      release(status, {
        ...(status === 'completed' || status === 'failed' ? { finishedAt: new Date().toISOString() } : {}),
        error: failed
          ? all
              .filter((j) => j.status === 'failed')
              .map((j) => `${j.key}: ${j.errorMessage}`)
              .join('; ')
              .slice(0, 2000) || null
          : null,
      });
      emit({
        type: 'run',
        runId,
        status,
        resumed,
        jobs: all.length,
        done: all.filter((j) => j.status === 'done').length,
      });
      resolveDone({ runId, status, table: loadResultsTable(store, runId) });
    };

    const pump = () => {
      try {
        const all = jobs();
        // Jobs whose dependency failed or was cancelled can never run.
        for (const j of all) {
          if (j.status !== 'pending') continue;
          const blocker = j.deps
            .map((d) => all.find((x) => x.key === d))
            .find((d) => d && (d.status === 'failed' || d.status === 'cancelled'));
          if (blocker) {
            store.updateJob(runId, j.key, {
              status: 'cancelled',
              errorCode: 'DEPENDENCY_FAILED',
              errorMessage: `needs ${blocker.key}, which ${blocker.status === 'failed' ? 'failed' : 'was cancelled'}`,
            });
            emitJob(j, 'cancelled', j.attempts, `needs ${blocker.key}`);
            return pump();
          }
        }
        if (!stopping) {
          const all = jobs();
          const ready = readyJobs(all, running.size, slots);
          const shares = coreShares
            ? threadShares([...running.keys(), ...ready.map((j) => j.key)], chainWeights(all), coreShares)
            : undefined;
          for (const j of ready) launch(j, shares?.get(j.key));
          // The others' shares change as jobs start and end (a job left alone takes every core).
          for (const [key, handle] of running) {
            const share = shares?.get(key);
            if (share !== undefined && handle.setThreads && threadsOf.get(key) !== share) {
              threadsOf.set(key, share);
              handle.setThreads(share);
              jobLog(key, `share of the cores now ${share} thread${share > 1 ? 's' : ''}`);
            }
          }
        }
        if (running.size === 0) finish();
      } catch (e) {
        // The runner itself failed: the run must not stay "running" under this process.
        try {
          for (const h of running.values()) h.kill();
          release('failed', { error: `runner: ${e instanceof Error ? e.message : String(e)}`.slice(0, 2000) });
        } catch {
          // The store is what failed; the heartbeat has stopped, so the claim goes stale.
        }
        rejectDone(e);
      }
    };

    const launch = (j: JobRecord, threads: number | undefined) => {
      const all = jobs();
      const deps = Object.fromEntries(j.deps.map((d) => [d, storedResult(all.find((x) => x.key === d))]));
      const attempt = j.attempts + 1;
      store.updateJob(runId, j.key, { status: 'running', attempts: attempt, startedAt: new Date().toISOString() });
      emitJob(j, 'running', attempt);
      jobLog(
        j.key,
        `attempt ${attempt} started${threads === undefined ? '' : ` on ${threads} thread${threads > 1 ? 's' : ''}`}`,
      );
      const started = Date.now();
      const onLog = (message: string) => jobLog(j.key, message);
      const onProgress = (event: ProgressEvent) => {
        // The worker's pid rides along so that monitors (and the crash tests) can find it.
        store.updateJob(runId, j.key, { progress: { ...event, pid: handle.pid } });
        // Losses are kept with the run, so a finished run shows its curves too.
        store.addLossPoints(
          runId,
          j.key,
          Object.entries(event.values ?? {})
            .filter(([k, v]) => isLossKey(k) && Number.isFinite(v))
            .map(([series, value]) => ({ series, iteration: event.iteration, value })),
        );
        const { all: now, done: finished } = counts();
        emit({
          type: 'progress',
          runId,
          key: j.key,
          kind: jobKindOf(j),
          label: j.label,
          event,
          done: finished,
          total: now.length,
          etaSeconds: estimateEta(now, workers),
        });
      };
      const input = { ...storedJob(j), deps };
      const handle: WorkerHandle | RemoteHandle = distributed
        ? distributed.dispatcher.dispatch({ runId, key: j.key, attempt, job: input, onLog, onProgress })
        : startWorker(input, {
            entry: opts.workerEntry,
            args: opts.workerArgs,
            backend: opts.backend,
            threads,
            launch: opts.launchWorker,
            onLog,
            onProgress,
          });
      const remote = distributed ? (handle as RemoteHandle) : undefined;
      running.set(j.key, handle);
      if (threads !== undefined) threadsOf.set(j.key, threads);
      handle.result.then(
        (result) => {
          running.delete(j.key);
          threadsOf.delete(j.key);
          const details = remote?.details();
          // A queued job's time is its time on the worker, not its wait in the queue.
          const seconds = details?.seconds ?? (Date.now() - started) / 1000;
          jobLog(j.key, `done in ${seconds.toFixed(1)} s`);
          try {
            if (details && details.ranOn.backend !== opts.backend)
              jobLog(
                j.key,
                `computed on ${details.ranOn.backend}, not the run's ${opts.backend} (${details.ranOn.id})`,
              );
            store.transaction(() => {
              // At-least-once delivery: an outcome for an attempt already recorded is ignored.
              const now = store.getJob(runId, j.key);
              if (now?.status !== 'running' || now.attempts !== attempt) return;
              recordResult(store, runId, j, result);
              store.updateJob(runId, j.key, {
                status: 'done',
                result,
                finishedAt: new Date().toISOString(),
                seconds,
                errorCode: null,
                errorMessage: null,
                ...(details ? { ranOn: details.ranOn, outputs: details.wrote } : {}),
              });
            });
            emitJob(j, 'done', attempt);
          } catch (e) {
            const message = e instanceof Error ? e.message : String(e);
            store.updateJob(runId, j.key, {
              status: 'failed',
              errorCode: e instanceof AuditError ? e.code : 'INTERNAL',
              errorMessage: message,
              finishedAt: new Date().toISOString(),
              seconds,
            });
            emitJob(j, 'failed', attempt, message);
          }
          // Done or failed, the outcome is stored: the queue may forget the job.
          remote?.recorded();
          pump();
        },
        (e: unknown) => {
          running.delete(j.key);
          threadsOf.delete(j.key);
          const f = e instanceof JobFailure ? e : new JobFailure({ code: 'INTERNAL', message: String(e) }, false);
          const seconds = (Date.now() - started) / 1000;
          jobLog(j.key, `attempt ${attempt} ended: [${f.error.code}] ${f.error.message}`);
          if (f.error.code === 'CANCELLED' || (stopping && f.crashed)) {
            // Stopped on purpose: back to pending (its checkpoint stays), unless this job alone was cancelled.
            const alone = cancelledJobs.has(j.key);
            store.updateJob(runId, j.key, {
              status: alone ? 'cancelled' : 'pending',
              attempts: alone ? attempt : attempt - 1,
              errorCode: alone ? 'CANCELLED' : null,
              errorMessage: alone ? 'cancelled by the user' : null,
            });
            emitJob(j, alone ? 'cancelled' : 'pending', attempt);
          } else if (f.crashed && attempt < maxAttempts) {
            store.updateJob(runId, j.key, {
              status: 'pending',
              errorCode: f.error.code,
              errorMessage: f.error.message,
            });
            emitJob(j, 'pending', attempt, `${f.error.message}; retrying from its checkpoint`);
          } else {
            store.updateJob(runId, j.key, {
              status: 'failed',
              errorCode: f.error.code,
              errorMessage: f.error.hint ? `${f.error.message} (${f.error.hint})` : f.error.message,
              finishedAt: new Date().toISOString(),
              seconds,
            });
            emitJob(j, 'failed', attempt, f.error.message);
          }
          remote?.recorded();
          pump();
        },
      );
    };

    pump();
  });

  const stopAll = (how: 'paused' | 'cancelled') => {
    stopping = how;
    for (const h of running.values()) h.cancel();
  };
  return {
    runId,
    done,
    pause: () => stopAll('paused'),
    cancel: () => stopAll('cancelled'),
    abandon: () => {
      stopping = 'paused';
      for (const h of running.values()) h.kill();
      store.transaction(() => {
        for (const key of running.keys()) {
          const j = store.getJob(runId, key);
          // Back to pending; the attempt cut short was not the worker's fault.
          if (j?.status === 'running')
            store.updateJob(runId, key, { status: 'pending', attempts: Math.max(0, j.attempts - 1) });
        }
        release('paused');
      });
      running.clear();
    },
    cancelJob: (key) => {
      cancelledJobs.add(key);
      const h = running.get(key);
      if (h) h.cancel();
      else if (store.getJob(runId, key)?.status === 'pending') {
        store.updateJob(runId, key, {
          status: 'cancelled',
          errorCode: 'CANCELLED',
          errorMessage: 'cancelled by the user',
        });
      }
    },
  };
}
