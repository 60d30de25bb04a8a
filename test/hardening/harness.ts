/**
 * The malformed-input suite's one way to run a case: the bundled CLI in a child process, as
 * a user runs it, under a wall-clock ceiling, with every Node process it starts reporting
 * its peak resident memory (vmhwm-preload.cjs). `expectCleanRefusal` asserts what issue 16
 * asks of every bad input: a typed JSON error (exit 2) naming the file or field, no stack
 * trace, peak resident memory under the ceiling, and the store as it was before the case.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { databasePath, openStore } from '../../src-main/store';

export const CLI = resolve('dist/cli.cjs');
const PRELOAD = resolve('test/hardening/vmhwm-preload.cjs');

/** Issue 16's bounds for any malformed model, data set, image or spec. */
export const MEMORY_CEILING_KIB = 2 * 1024 * 1024;
export const TIME_CEILING_MS = 60_000;

export interface CaseRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
  /** Peak resident memory of the largest process the case started (KiB); null where /proc is missing. */
  peakKiB: number | null;
  ms: number;
}

/** A fresh data folder (OWNERSHIP_AUDIT_HOME) for a group of cases, and its removal. */
export function tempHome(prefix: string): { home: string; dispose(): void } {
  const home = mkdtempSync(join(tmpdir(), `oa-hardening-${prefix}-`));
  return { home, dispose: () => rmSync(home, { recursive: true, force: true }) };
}

/** Runs `ownership-audit <args> --json` in a child process with the given home. */
export function runCase(args: string[], home: string, env: Record<string, string | undefined> = {}): CaseRun {
  const vmhwm = join(home, `.vmhwm-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}`);
  const t0 = Date.now();
  const res = spawnSync(process.execPath, [CLI, '--backend', 'wasm', ...args, '--json'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      OWNERSHIP_AUDIT_BACKEND: undefined,
      OWNERSHIP_AUDIT_HOME: home,
      NODE_OPTIONS: `--require ${PRELOAD}`,
      OA_VMHWM_FILE: vmhwm,
      ...env,
    },
    // The ceiling is enforced by the assertion; the kill only keeps a hang from stalling the suite.
    timeout: TIME_CEILING_MS * 2,
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Date.now() - t0;
  let json: Record<string, unknown> = {};
  const last = res.stdout.trim().split('\n').pop();
  if (last?.startsWith('{')) {
    try {
      json = JSON.parse(last) as Record<string, unknown>;
    } catch {
      json = {};
    }
  }
  const peaks = existsSync(vmhwm)
    ? readFileSync(vmhwm, 'utf8')
        .trim()
        .split('\n')
        .map((l) => Number(l.split(' ')[1]))
    : [];
  rmSync(vmhwm, { force: true });
  return {
    status: res.status,
    signal: res.signal,
    stdout: res.stdout,
    stderr: res.stderr,
    json,
    peakKiB: peaks.length ? Math.max(...peaks) : null,
    ms,
  };
}

/** What the store holds, for comparing before and after a case (runs, jobs, calibrations). */
export function storeSnapshot(home: string): string {
  const db = databasePath(home);
  if (!existsSync(db)) return 'no store';
  const store = openStore(db, { readonly: true });
  try {
    expect(store.integrityCheck()).toBe('ok');
    const runs = store.listRuns({});
    return JSON.stringify({
      runs: runs.map((r) => [r.id, r.status]),
      jobs: runs.map((r) => store.listJobs(r.id).map((j) => [j.key, j.status])),
      calibrations: store.listCalibrations().map((c) => c.id),
    });
  } finally {
    store.close();
  }
}

/**
 * The case was refused the way every bad input must be: exit 2 with `{ error: { code,
 * message, hint } }`, the code expected, the message naming `names` (a file or a field), no
 * stack trace anywhere in the output, within the time and memory ceilings.
 */
export function expectCleanRefusal(run: CaseRun, code: string, names: string | RegExp): void {
  const context = `stdout: ${run.stdout.slice(-1500)}\nstderr: ${run.stderr.slice(-1500)}`;
  expect(run.signal, context).toBeNull();
  expect(run.status, context).toBe(2);
  const error = run.json.error as { code?: string; message?: string; hint?: string } | undefined;
  expect(error?.code, context).toBe(code);
  expect(error?.message ?? '', context).toMatch(names);
  expect(error?.hint ?? '', context).not.toBe('');
  expect(`${run.stdout}\n${run.stderr}`, 'no stack trace').not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
  expect(run.ms, 'time ceiling').toBeLessThan(TIME_CEILING_MS);
  if (run.peakKiB !== null) expect(run.peakKiB, 'peak resident memory (KiB)').toBeLessThan(MEMORY_CEILING_KIB);
}
