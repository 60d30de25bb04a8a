/**
 * `ownership-audit worker train --request JSON`: one training job in its own process, with
 * its own TF.js (the wasm backend is single-threaded, so parallel work needs processes).
 * Used by `calibrate --workers N`; the job runner will use the same entry point.
 */
import { spawn } from 'node:child_process';
import { type Command } from 'commander';
import { initBackend } from '../../engine/backend';
import { AuditError } from '../../engine/errors';
import { trainModel, type TrainModelRequest } from '../../engine/training/train-model';
import { runWorker } from '../../runner/worker-main';
import { emit, fail, progress } from '../output';

export function registerWorker(program: Command): void {
  const worker = program.command('worker', { hidden: true }).description('internal: run one job in this process');
  // A job of an audit run, received from the job runner over IPC.
  worker
    .command('job')
    .description('internal: run one audit job sent by the job runner')
    .action(() => runWorker());
  worker
    .command('train')
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
