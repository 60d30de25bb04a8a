/**
 * The worker side of a job: started by the runner with an IPC channel, it receives one job,
 * runs it with its own TF.js backend, streams progress and sends the result or a typed
 * error. It exits when the runner goes away (a killed parent must not leave orphans
 * training on), and cancels cleanly on request: attacks and trainings write a checkpoint.
 */
import { initBackend } from '../engine/backend';
import { multiplyAddFlavour } from '../engine/wasm-kernels/simd-module';
import { isAuditError } from '../engine/errors';
import { setWasmThreads } from '../engine/wasm-threads';
import { executeJob } from './executors';
import type { FromWorker, ToWorker } from './protocol';

/**
 * In an Electron utilityProcess (the desktop app's workers) the channel to the runner is
 * `process.parentPort` instead of Node's process.send / process.on('message').
 */
interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}
const parentPort = (process as { parentPort?: ParentPort }).parentPort;

function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (parentPort) {
      parentPort.postMessage(message);
      // postMessage has no completion callback: give the message a moment to leave
      // before a following process.exit.
      if (message.type === 'done' || message.type === 'error') setTimeout(resolve, 200);
      else resolve();
      return;
    }
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

function onRunnerMessage(listener: (m: ToWorker) => void): void {
  if (parentPort) parentPort.on('message', (e) => listener(e.data as ToWorker));
  else process.on('message', listener);
}

/** Progress is rate-limited: a monitor needs a few events a second, not one per iteration. */
function throttled(minMs: number): (e: Extract<FromWorker, { type: 'progress' }>['event']) => void {
  let last = 0;
  return (event) => {
    const now = Date.now();
    if (now - last < minMs && event.iteration !== event.total) return;
    last = now;
    void send({ type: 'progress', event });
  };
}

export function runWorker(): void {
  if (!process.send && !parentPort) {
    process.stderr.write('`worker job` is started by the job runner (it needs an IPC channel).\n');
    process.exit(2);
  }
  const controller = new AbortController();
  // The runner died (kill -9, crash): stop at once. Checkpoints already written stay.
  // (A utilityProcess ends with the app that started it.)
  process.on('disconnect', () => process.exit(1));
  // The share of the cores the runner last gave this job; applied between two kernels (a
  // message is handled between iterations), or once the backend is up if it came earlier.
  let threads: number | undefined;
  let backendUp = false;
  const applyThreads = (count: number) => {
    const now = setWasmThreads(count);
    void send({ type: 'log', message: `kernels on ${now} thread${now > 1 ? 's' : ''}` });
  };
  onRunnerMessage((raw: ToWorker) => {
    if (raw.type === 'cancel') {
      controller.abort();
      return;
    }
    if (raw.type === 'threads') {
      threads = raw.count;
      if (backendUp) applyThreads(raw.count);
      return;
    }
    if (raw.type !== 'start') return;
    void (async () => {
      try {
        const backend = await initBackend(raw.backend, raw.threads === undefined ? {} : { threads: raw.threads });
        backendUp = true;
        // Results differ in the last bits between the two flavours: the log says which ran.
        if (backend.tfjsBackend === 'wasm')
          void send({ type: 'log', message: `wasm kernels: ${multiplyAddFlavour()}` });
        // Confirms in the job's log what the kernels run on (1 where the threaded build fell back).
        if (raw.threads !== undefined) applyThreads(threads ?? raw.threads);
        await send({ type: 'ready', backend: backend.backend });
        const payload = raw.job.payload;
        const seed = 'seed' in payload && typeof payload.seed === 'number' ? payload.seed : 0;
        const result = await executeJob(
          {
            seed,
            signal: controller.signal,
            progress: throttled(500),
            log: (message) => void send({ type: 'log', message }),
          },
          raw.job,
        );
        await send({ type: 'done', result });
        process.exit(0);
      } catch (e) {
        const error = isAuditError(e)
          ? e.toJSON()
          : { code: 'INTERNAL', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
        await send({ type: 'error', error });
        process.exit(isAuditError(e) && e.code === 'CANCELLED' ? 130 : 2);
      }
    })();
  });
}
