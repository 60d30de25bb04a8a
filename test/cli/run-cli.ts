import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { STEP_CEILING_MS } from '../helpers/ceilings';

export const CLI = resolve('dist/cli.cjs');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
}

/** Runs the bundled CLI in a child process, as a user would, and parses its --json line. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): CliRun {
  const res = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, OWNERSHIP_AUDIT_BACKEND: undefined, ...env },
    timeout: STEP_CEILING_MS,
  });
  let json: Record<string, unknown> = {};
  const last = res.stdout.trim().split('\n').pop();
  if (last?.startsWith('{')) json = JSON.parse(last) as Record<string, unknown>;
  return { status: res.status, stdout: res.stdout, stderr: res.stderr, json };
}
