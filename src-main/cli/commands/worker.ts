/**
 * `ownership-audit worker --queue URL --shared DIR`: this machine works for distributed runs
 * (runner/queue/worker-host.ts) until Ctrl-C.
 *
 * Internal subcommands: `worker job` runs one audit job sent by the job runner over IPC;
 * `worker train --request JSON` one training job in its own process, with its own TF.js (the
 * wasm backend is single-threaded, so parallel work needs processes), for `calibrate --workers N`.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { type Command } from 'commander';
import { initBackend } from '../../engine/backend';
import { AuditError } from '../../engine/errors';
import { trainModel, type TrainModelRequest } from '../../engine/training/train-model';
import { runWorker } from '../../runner/worker-main';
import { JOB_KINDS, type JobKind } from '../../../src-shared/domain/states';
import { connectQueue } from '../../runner/queue/connection';
import { startQueueWorker } from '../../runner/queue/worker-host';
import { intArg } from '../options';
import { emit, fail, progress } from '../output';

interface WorkerFlags {
  queue?: string;
  shared?: string;
  kinds?: string;
  lockSeconds: number;
  threads: number;
  json?: boolean;
}

function parseKinds(list: string | undefined): JobKind[] {
  if (!list) return [...JOB_KINDS];
  const kinds = list.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(JOB_KINDS as readonly string[]).includes(k));
  if (unknown.length || kinds.length === 0)
    throw new AuditError('INVALID_ARGUMENT', `Unknown job kind(s): ${unknown.join(', ') || '(none)'}`, {
      hint: `Job kinds: ${JOB_KINDS.join(', ')}.`,
    });
  return kinds as JobKind[];
}

/** Takes jobs from the queue until SIGINT/SIGTERM; a job in progress is checkpointed and given back. */
async function serveQueue(program: Command, f: WorkerFlags): Promise<void> {
  if (!f.queue || !f.shared)
    throw new AuditError('INVALID_ARGUMENT', 'worker needs --queue and --shared', {
      hint: 'Example: ownership-audit worker --queue redis://coordinator:6379 --shared /mnt/audit',
    });
  const kinds = parseKinds(f.kinds);
  const backend = await initBackend(program.opts<{ backend?: string }>().backend);
  const connection = await connectQueue(f.queue);
  const handle = await startQueueWorker({
    connection,
    sharedRoot: resolve(f.shared),
    kinds,
    backend: backend.backend,
    entry: process.argv[1],
    lockMs: f.lockSeconds * 1000,
    threads: f.threads,
    log: (line) => progress(line),
  });
  progress(`worker ${handle.info.id}: ${backend.backend}, version ${handle.info.version}, kinds ${kinds.join(',')}`);
  if (f.json) process.stdout.write(`${JSON.stringify({ event: 'ready', worker: handle.info })}\n`);
  const onSignal = () => {
    progress(`worker ${handle.info.id}: stopping (a job in progress is checkpointed and given back)`);
    void handle.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await handle.stopped;
  connection.disconnect();
}

export function registerWorker(program: Command): void {
  const worker = program
    .command('worker')
    .description('work for distributed runs: take jobs from a Redis queue (`run --queue`) until Ctrl-C')
    .option('--queue <url>', 'the queue the coordinator uses (redis://HOST:PORT or rediss://:PASSWORD@HOST:PORT)')
    .option('--shared <dir>', "this machine's mount of the coordinator's shared folder (`run --shared`)")
    .option('--kinds <list>', `job kinds to take, most preferred first (default: ${JOB_KINDS.join(',')})`)
    .option(
      '--lock-seconds <n>',
      'a job whose worker has not been heard from for this long is given to another worker',
      intArg(1),
      30,
    )
    .option(
      '--threads <n>',
      'threads of each job on the wasm backend (one worker per machine: its cores; several: share them)',
      intArg(1),
      1,
    )
    .option('--json', 'print one JSON line per event')
    .action(async (f: WorkerFlags) => {
      const mode = { json: Boolean(f.json) };
      try {
        await serveQueue(program, f);
      } catch (e) {
        fail(mode, e);
      }
    });
  // A job of an audit run, received from the job runner over IPC.
  worker
    .command('job', { hidden: true })
    .description('internal: run one audit job sent by the job runner')
    .action(() => runWorker());
  worker
    .command('train', { hidden: true })
    .requiredOption('--request <json>', 'a TrainModelRequest as JSON')
    .action(async (f: { request: string }) => {
      const mode = { json: true };
      try {
        await initBackend(program.opts<{ backend?: string }>().backend);
        const request = JSON.parse(f.request) as TrainModelRequest;
        let last = 0;
        const r = await trainModel({
          ...request,
          onProgress: (p) => {
            if (Date.now() - last < 5000 && p.iteration !== p.totalIterations) return;
            last = Date.now();
            progress(
              `[seed ${request.seed}] iter ${p.iteration}/${p.totalIterations} loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(1)}% ${p.examplesPerSec.toFixed(0)} ex/s`,
            );
          },
        });
        emit(mode, { model: r.model, testAccuracy: r.testAccuracy }, () => '');
      } catch (e) {
        fail(mode, e);
      }
    });
}

/** Runs a TrainModelRequest in a child `worker train` process; rejects with the child's error. */
export function trainInWorker(request: TrainModelRequest, backend: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [process.argv[1], '--backend', backend, 'worker', 'train', '--request', JSON.stringify(request)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) return resolvePromise();
      const last = out.trim().split('\n').pop() ?? '';
      let error: { code?: string; message?: string; hint?: string } = {};
      try {
        error = (JSON.parse(last) as { error?: typeof error }).error ?? {};
      } catch {
        // no JSON: the worker died (killed, out of memory)
      }
      reject(
        new AuditError(
          'INVALID_ARGUMENT',
          `Training worker for seed ${request.seed} failed: ${error.message ?? `exit code ${code}`}`,
          {
            hint: error.hint ?? 'Run the calibration again: references already trained are reused.',
          },
        ),
      );
    });
  });
}
