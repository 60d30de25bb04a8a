/**
 * Report export for the API. CSV and JSON are written in this process (they only read the
 * store). HTML and PDF draw figures that load models and run t-SNE and LayerCAM, seconds of
 * computation that must not stall the desktop app's main process or the browser mode's
 * server, so they run in a child process: the bundled CLI's `report` command, which
 * records the report in the store like any other.
 */
import { fork } from 'node:child_process';
import { writeReport } from '../report';
import type { AuditStore } from '../store/types';
import { ApiFailure } from './errors';

import type { ReportFormat } from '../../src-shared/domain/reports';

export interface ReportJob {
  store: AuditStore;
  home: string;
  backend: string;
  /** The bundled CLI (dist/cli.cjs). */
  cliEntry: string;
  runId: string;
  format: ReportFormat;
  out: string;
}

/** Runs `cli ...args --json` as a child process and returns its last stdout line as JSON. */
export function runCliJson(cliEntry: string, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    // Inside Electron, fork runs the script with the Electron binary as plain Node (it sets
    // ELECTRON_RUN_AS_NODE), so the child loads the same native modules as the app.
    const child = fork(cliEntry, [...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(last) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      const error = json?.error as { code?: string; message?: string; hint?: string } | undefined;
      if (code === 0 && json && !error) return resolvePromise(json);
      // The CLI's typed error (e.g. CHROMIUM_NOT_FOUND) passes through with its code and hint.
      if (error)
        return reject(
          new ApiFailure(
            error.code ?? 'INTERNAL',
            error.message ?? 'The command failed',
            error.hint ?? 'Run the same command in a terminal to see the whole output.',
          ),
        );
      reject(
        new ApiFailure(
          'INTERNAL',
          `\`ownership-audit ${args[0] ?? ''}\` exited with code ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`,
          'Run the same command in a terminal to see the whole output.',
        ),
      );
    });
  });
}

export async function exportReport(job: ReportJob): Promise<{ path: string }> {
  if (job.format === 'csv' || job.format === 'json') {
    const r = await writeReport(job.store, job.runId, { format: job.format, out: job.out });
    return { path: r.path };
  }
  const r = await runCliJson(job.cliEntry, [
    '--backend',
    job.backend,
    'report',
    job.runId,
    '--format',
    job.format,
    '--out',
    job.out,
    '--home',
    job.home,
  ]);
  return { path: String(r.path) };
}
