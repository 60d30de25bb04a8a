/**
 * The runner's side of one worker process: start it (the bundled CLI's hidden `worker job`
 * command, or any entry that calls `runWorker`), hand it the job, and turn its messages and
 * its exit into one promise. A worker that exits without a result (killed, out of memory)
 * rejects with WORKER_CRASHED so the runner can retry it from its checkpoint.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { ProgressEvent } from '../engine/context';
import { AuditError } from '../engine/errors';
import type { JobInput } from './executors';
import type { FromWorker, ToWorker, WorkerError } from './protocol';

/**
 * A started worker process as the runner sees it, whatever started it: Node's
 * child_process.fork (CLI, browser mode, tests) or Electron's utilityProcess (the desktop
 * app, see src-main/app/utility-worker.ts). The messages are the same either way.
 */
export interface WorkerChannel {
  pid: number | undefined;
  send(m: ToWorker): void;
  onMessage(listener: (m: FromWorker) => void): void;
  /** Called once when the process has ended (signal null where the launcher cannot tell). */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /** The process could not be started. */
  onError(listener: (e: Error) => void): void;
  /** The last stderr output, for crash messages ('' where not captured). */
  stderrTail(): string;
  kill(): void;
}

export type WorkerLauncher = (entry: string, args: string[]) => WorkerChannel;

/** The default launcher: a Node child process with a JSON IPC channel. */
export const forkWorker: WorkerLauncher = (entry, args) => {
  const child: ChildProcess = fork(entry, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  });
  let stderrTail = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-2000);
  });
  return {
    pid: child.pid,
    send: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.on('exit', (code, signal) => listener(code, signal)),
    onError: (listener) => child.on('error', listener),
    stderrTail: () => stderrTail,
    kill: () => child.kill('SIGKILL'),
  };
};

export interface WorkerOptions {
  /** Script to fork (default: this process's own entry, i.e. the bundled CLI). */
  entry: string;
  /** Arguments that make the entry run a worker (default: ['worker', 'job']). */
  args?: string[];
  backend: string;
  /** Start the wasm backend's threaded build with this many threads (left out: single-threaded). */
  threads?: number;
  onProgress?: (e: ProgressEvent) => void;
  onLog?: (message: string) => void;
  /** How to start the process (default: forkWorker). */
  launch?: WorkerLauncher;
}

export interface WorkerHandle {
  pid: number | undefined;
  result: Promise<unknown>;
  /** Asks the job to stop at its next iteration (it checkpoints first). */
  cancel(): void;
  /** Gives the job another share of the cores (a job started with `threads`). */
  setThreads?(count: number): void;
  /** Kills the process at once. */
  kill(): void;
}

/** A job's failure as the runner records it. `crashed`: the process died without a result. */
export class JobFailure extends Error {
  constructor(
    readonly error: WorkerError,
    readonly crashed: boolean,
  ) {
    super(error.message);
    this.name = 'JobFailure';
  }
}

export function startWorker(job: JobInput, opts: WorkerOptions): WorkerHandle {
  const child = (opts.launch ?? forkWorker)(opts.entry, opts.args ?? ['worker', 'job']);
  const result = new Promise<unknown>((resolve, reject) => {
    let outcome: { ok: true; value: unknown } | { ok: false; error: WorkerError } | undefined;
    child.onMessage((m: FromWorker) => {
      if (m.type === 'progress') opts.onProgress?.(m.event);
      else if (m.type === 'log') opts.onLog?.(m.message);
      else if (m.type === 'done') outcome = { ok: true, value: m.result };
      else if (m.type === 'error') outcome = { ok: false, error: m.error };
    });
    child.onError((e) =>
      reject(new JobFailure({ code: 'WORKER_CRASHED', message: `Could not start a worker: ${e.message}` }, true)),
    );
    child.onExit((code, signal) => {
      if (outcome?.ok) return resolve(outcome.value);
      if (outcome && !outcome.ok) return reject(new JobFailure(outcome.error, false));
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      const tail = child.stderrTail().trim().split('\n').slice(-3).join(' | ');
      reject(
        new JobFailure(
          {
            code: 'WORKER_CRASHED',
            message: `The worker process ${how} before finishing${tail ? `: ${tail}` : ''}`,
            hint: 'Run the audit again: it resumes from the last checkpoint. If it keeps failing, check memory (one worker per core).',
          },
          true,
        ),
      );
    });
  });
  child.send({
    type: 'start',
    job,
    backend: opts.backend,
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
  });
  return {
    pid: child.pid,
    result,
    cancel: () => child.send({ type: 'cancel' }),
    ...(opts.threads === undefined ? {} : { setThreads: (count: number) => child.send({ type: 'threads', count }) }),
    kill: () => child.kill(),
  };
}

/** The AuditError a failure stands for (for callers that throw). */
export function failureToError(f: JobFailure): AuditError {
  return new AuditError(
    (f.error.code as ConstructorParameters<typeof AuditError>[0]) ?? 'WORKER_CRASHED',
    f.error.message,
    { hint: f.error.hint ?? 'See the job log.' },
  );
}
