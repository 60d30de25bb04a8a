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

export interface WorkerOptions {
  /** Script to fork (default: this process's own entry, i.e. the bundled CLI). */
  entry: string;
  /** Arguments that make the entry run a worker (default: ['worker', 'job']). */
  args?: string[];
  backend: string;
  onProgress?: (e: ProgressEvent) => void;
  onLog?: (message: string) => void;
}

export interface WorkerHandle {
  pid: number | undefined;
  result: Promise<unknown>;
  /** Asks the job to stop at its next iteration (it checkpoints first). */
  cancel(): void;
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
  const child: ChildProcess = fork(opts.entry, opts.args ?? ['worker', 'job'], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  });
  let stderrTail = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-2000);
  });
  const result = new Promise<unknown>((resolve, reject) => {
    let outcome: { ok: true; value: unknown } | { ok: false; error: WorkerError } | undefined;
    child.on('message', (m: FromWorker) => {
      if (m.type === 'progress') opts.onProgress?.(m.event);
      else if (m.type === 'log') opts.onLog?.(m.message);
      else if (m.type === 'done') outcome = { ok: true, value: m.result };
      else if (m.type === 'error') outcome = { ok: false, error: m.error };
    });
    child.on('error', (e) => reject(new JobFailure({ code: 'WORKER_CRASHED', message: `Could not start a worker: ${e.message}` }, true)));
    child.on('exit', (code, signal) => {
      if (outcome?.ok) return resolve(outcome.value);
      if (outcome && !outcome.ok) return reject(new JobFailure(outcome.error, false));
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      const tail = stderrTail.trim().split('\n').slice(-3).join(' | ');
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
  const send = (m: ToWorker) => {
    if (child.connected) child.send(m);
  };
  send({ type: 'start', job, backend: opts.backend });
  return {
    pid: child.pid,
    result,
    cancel: () => send({ type: 'cancel' }),
    kill: () => child.kill('SIGKILL'),
  };
}

/** The AuditError a failure stands for (for callers that throw). */
export function failureToError(f: JobFailure): AuditError {
  return new AuditError((f.error.code as ConstructorParameters<typeof AuditError>[0]) ?? 'WORKER_CRASHED', f.error.message, { hint: f.error.hint ?? 'See the job log.' });
}
