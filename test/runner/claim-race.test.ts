/**
 * Issue 16, defects 4 and 8: processes opening the same spec's run at the same moment
 * (exactly one claims it, the others get RUN_BUSY and create nothing), and, through the
 * bundled CLI, a double Ctrl-C (the run is left paused with no owner, not "running" under
 * a dead process).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { databasePath, openStore } from '../../src-main/store';
import type { RunRecord, JobRecord } from '../../src-main/store/types';
import { STEP_CEILING_MS } from '../helpers/ceilings';

const CLI = resolve('dist/cli.cjs');
const CONTENDER = resolve('test/runner/fixtures/claim-once.ts');
let home: string | undefined;
afterEach(() => {
  if (home) rmSync(home, { recursive: true, force: true });
  home = undefined;
});

interface Exit {
  status: number | null;
  json: Record<string, unknown>;
  stderr: string;
}

function start(args: string[], dir: string) {
  const child = spawn(process.execPath, [CLI, '--backend', 'wasm', ...args, '--json'], {
    env: { ...process.env, OWNERSHIP_AUDIT_BACKEND: undefined, OWNERSHIP_AUDIT_HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((res) =>
    child.on('exit', (status) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(last) as Record<string, unknown>;
      } catch {
        json = {};
      }
      res({ status, json, stderr });
    }),
  );
  return { child, exited };
}

function spawnAsync(cmd: string, args: string[]): Promise<string> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => res(out));
  });
}

function inStore<T>(dir: string, fn: (runs: RunRecord[], jobs: (id: string) => JobRecord[]) => T): T | undefined {
  let store;
  try {
    store = openStore(databasePath(dir), { readonly: true });
  } catch {
    return undefined;
  }
  try {
    return fn(store.listRuns({}), (id) => store.listJobs(id));
  } catch {
    return undefined;
  } finally {
    store.close();
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > STEP_CEILING_MS) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('contenders opening the same spec at the same moment: exactly one claims the run, the others get RUN_BUSY', async () => {
  home = mkdtempSync(join(tmpdir(), 'oa-claim-'));
  // Create the store first, so the contenders race on the run, not on the migration.
  openStore(databasePath(home)).close();
  const startAt = Date.now() + 4000;
  const contenders = Array.from({ length: 3 }, () =>
    spawnAsync(process.execPath, ['--import', 'tsx', CONTENDER, home as string, String(startAt), '3000', 'slow-find']),
  );
  const outs = (await Promise.all(contenders)).map(
    (o) => JSON.parse(o.trim().split('\n').pop() ?? '{}') as { runId?: string; error?: string },
  );
  const claimed = outs.filter((o) => o.runId);
  expect(claimed.length, JSON.stringify(outs)).toBe(1);
  expect(outs.filter((o) => o.error === 'RUN_BUSY').length, JSON.stringify(outs)).toBe(2);
  const runs = inStore(home, (rs) => rs.map((r) => r.id));
  expect(runs).toEqual([claimed[0].runId]);
});

it('a double Ctrl-C leaves the run paused with no owner and no job "running"', async () => {
  home = mkdtempSync(join(tmpdir(), 'oa-sigint-'));
  const dir = home;
  const r = start(['run', '--preset', 'smoke', '--workers', '1'], dir);
  // Wait until a worker reports progress: the run is being driven.
  await waitFor('a running job with progress', () =>
    inStore(dir, (rs, jobs) =>
      rs[0] && jobs(rs[0].id).some((j) => j.status === 'running' && j.progress) ? true : undefined,
    ),
  );
  r.child.kill('SIGINT');
  await new Promise((res) => setTimeout(res, 50));
  r.child.kill('SIGINT');
  const exit = await r.exited;
  expect(exit.status).toBe(130);
  const state = inStore(dir, (rs, jobs) => ({
    run: [rs[0].status, rs[0].ownerPid],
    running: jobs(rs[0].id).filter((j) => j.status === 'running').length,
  }));
  expect(state).toEqual({ run: ['paused', null], running: 0 });
});
