/**
 * The job runner end to end, through the bundled CLI as users run it: the smoke preset to
 * completion, then crash safety with real `kill -9`s (of the whole process tree, and of one
 * worker), a failing job, and a cancel-then-resume. The crash specs reuse the smoke run's
 * calibration so they spend their time in the attacks.
 */
import { comparableRows } from '../helpers/results-rows';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditSpec } from '../../src-shared/audit/spec';
import { loadResultsTable } from '../../src-main/runner/results';
import { smokeSpec } from '../../src-main/runner/presets';
import { startAudit } from '../../src-main/runner/run-audit';
import { databasePath, openStore } from '../../src-main/store';
import type { AuditStore, JobRecord } from '../../src-main/store/types';
import { STEP_CEILING_MS } from '../helpers/ceilings';
import { stableReport } from '../helpers/stable-report';

const CLI = resolve('dist/cli.cjs');
const DEMO = {
  demoModel: resolve('resources/models/demo-victim'),
  demoData: resolve('resources/datasets/fashion-mnist-demo'),
};
let home: string;

function cli(args: string[]): { status: number | null; json: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, '--backend', 'wasm', ...args, '--json'], {
    env: { ...process.env, OWNERSHIP_AUDIT_HOME: home },
    encoding: 'utf8',
    timeout: STEP_CEILING_MS,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '{}';
  return { status: r.status, json: JSON.parse(last) as Record<string, unknown>, stderr: r.stderr };
}

function withStore<T>(fn: (s: AuditStore) => T): T {
  const s = openStore(databasePath(home));
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = STEP_CEILING_MS): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const iterationOf = (j: JobRecord | undefined) => ((j?.progress ?? {}) as { iteration?: number }).iteration ?? 0;

/**
 * A spec that spends its time in one fine-tuning attack, reusing the smoke calibration: 100
 * iterations with a checkpoint every 20, so a kill after iteration 30 always has one to resume from.
 */
function crashSpec(calibrationId: string, name: string): string {
  const base = smokeSpec(DEMO);
  const spec: AuditSpec = {
    ...base,
    name,
    calibration: { reuse: calibrationId },
    attacks: [
      { name: 'finetune', params: { ratio: 0.5 }, seeds: [1], iterations: 100 },
      { name: 'negative', params: { seed: 777 }, seeds: [777], iterations: 10 },
    ],
    checkpoints: { every: 20, metrics: ['deepjudge.lod'] },
  } as AuditSpec;
  const file = join(home, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

let smoke: {
  runId: string;
  rows: { attack: string; ownership: { derived: number; total: number }; metrics: Record<string, { mean: number }> }[];
};
let calibrationId: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'oa-runner-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('run --preset smoke', () => {
  it('completes, stores the run, and prints the table the store holds', () => {
    const r = cli(['run', '--preset', 'smoke', '--workers', '2']);
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    smoke = r.json as typeof smoke;
    expect(r.json.status).toBe('completed');
    const spec = smokeSpec(DEMO);
    const expectedRows = spec.attacks.reduce(
      (n, a) => n + (a.name === 'negative' ? 1 : (a.scenarios ?? spec.scenarios.map((s) => s.id)).length),
      0,
    );
    expect(smoke.rows).toHaveLength(expectedRows);
    for (const row of smoke.rows) {
      expect(row.ownership.total).toBeGreaterThan(0);
      expect(Object.keys(row.metrics).length).toBeGreaterThan(0);
    }
    withStore((s) => {
      expect(s.integrityCheck()).toBe('ok');
      const table = loadResultsTable(s, smoke.runId);
      expect(table.rows.map((x) => [x.label, x.ownership.derived, x.ownership.total])).toEqual(
        smoke.rows.map((x) => [(x as unknown as { label: string }).label, x.ownership.derived, x.ownership.total]),
      );
      expect(s.listJobs(smoke.runId).every((j) => j.status === 'done')).toBe(true);
      // Checkpoint scoring left a trajectory for the attacks that keep checkpoints.
      const values = s
        .listMetricValues(smoke.runId)
        .filter((v) => v.iteration !== null && v.metricId === 'deepjudge.lod');
      expect(values.length).toBeGreaterThan(0);
      const cal = s.listCalibrations();
      expect(cal).toHaveLength(1);
      calibrationId = cal[0].id;
    });
    const list = cli(['runs', 'list']);
    expect((list.json.runs as { id: string; status: string }[]).map((x) => [x.id, x.status])).toEqual([
      [smoke.runId, 'completed'],
    ]);
    const shown = cli(['runs', 'show', smoke.runId]);
    expect(shown.json.rows).toEqual(smoke.rows);
    // Per defence, the independent models it would accuse: references by leave-one-out, Negative models at tau.
    const claims = r.json.falseClaims as { defense: string; negativeModels: { of: number }; pooled: { of: number } }[];
    expect(claims.map((c) => c.defense).sort()).toEqual(['deepjudge', 'ipguard', 'modeldiff', 'zest']);
    for (const c of claims) expect(c.negativeModels.of).toBe(1);
    expect(shown.json.falseClaims).toEqual(claims);
    const cals = cli(['calibrations', 'list']);
    expect((cals.json.calibrations as { id: string }[]).map((c) => c.id)).toEqual([calibrationId]);
  });

  // Behaviour pin: the whole report JSON of the smoke run, every figure bit for bit, against
  // the snapshot taken before the architecture refactor (issue 15). Refresh it with
  // `npx vitest run test/runner/run-audit.test.ts -u` only for a change meant to alter results.
  // The local runner's rows, which the distributed runner's are held to (distributed.test.ts).
  it('gives the committed rows (wall-clock seconds aside)', async () => {
    await expect(`${JSON.stringify(comparableRows(smoke.rows), null, 1)}\n`).toMatchFileSnapshot(
      './__snapshots__/smoke-rows.json',
    );
  });

  it('gives the same report JSON as the committed snapshot, bit for bit', async () => {
    const out = join(home, 'smoke-report.json');
    const r = cli(['report', smoke.runId, '--format', 'json', '--out', out, '--no-model-figures']);
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const report = stableReport(JSON.parse(readFileSync(out, 'utf8')), { home, repo: resolve('.') });
    await expect(`${JSON.stringify(report, null, 1)}\n`).toMatchFileSnapshot('./__snapshots__/smoke-report.json');
  });

  it('refuses an invalid spec naming the field, and an unknown run', () => {
    const file = join(home, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ ...smokeSpec(DEMO), attacks: [{ name: 'finetune', seeds: [], iterations: 5 }] }),
    );
    const bad = cli(['run', file]);
    expect(bad.status).toBe(2);
    expect((bad.json.error as { code: string; message: string }).code).toBe('SPEC_INVALID');
    expect((bad.json.error as { message: string }).message).toContain('attacks[0].seeds');
    const unknown = cli(['runs', 'show', 'r-nope']);
    expect((unknown.json.error as { code: string }).code).toBe('RUN_NOT_FOUND');
  });
});

describe('crash safety', () => {
  it('after kill -9 of the runner and its workers, the same command resumes: finished jobs are kept, the attack continues from its checkpoint', async () => {
    const file = crashSpec(calibrationId, 'crash-parent');
    const child = spawn(process.execPath, [CLI, '--backend', 'wasm', 'run', file, '--workers', '2', '--json'], {
      env: { ...process.env, OWNERSHIP_AUDIT_HOME: home },
      detached: true,
      stdio: 'ignore',
    });
    const runId = await waitFor('the run to start', () =>
      withStore((s) => s.listRuns({ name: 'crash-parent' })[0]?.id),
    );
    await waitFor('a finished job and the attack past a checkpoint', () =>
      withStore((s) => {
        const jobs = s.listJobs(runId);
        const ft = jobs.find((j) => j.key.startsWith('attack:') && j.key.includes('finetune'));
        return jobs.some((j) => j.status === 'done') && ft?.status === 'running' && iterationOf(ft) >= 30
          ? true
          : undefined;
      }),
    );
    process.kill(-(child.pid as number), 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 300));
    const before = withStore((s) => s.listJobs(runId));
    const doneBefore = before.filter((j) => j.status === 'done');
    expect(doneBefore.length).toBeGreaterThan(0);
    expect(before.some((j) => j.status === 'running')).toBe(true); // left behind by the dead runner

    const again = cli(['run', file, '--workers', '2']);
    expect(again.status, again.stderr.slice(-3000)).toBe(0);
    expect(again.json.runId).toBe(runId);
    expect(again.json.status).toBe('completed');
    withStore((s) => {
      expect(s.integrityCheck()).toBe('ok');
      const after = s.listJobs(runId);
      for (const j of doneBefore) {
        const now = after.find((x) => x.key === j.key);
        expect(now?.finishedAt).toBe(j.finishedAt); // not redone
        expect(now?.attempts).toBe(j.attempts);
      }
      const run = s.getRun(runId);
      const logs = readdirSync(join(run?.workDir as string, 'logs')).filter(
        (f) => f.startsWith('attack') && f.includes('finetune'),
      );
      const log = readFileSync(join(run?.workDir as string, 'logs', logs[0]), 'utf8');
      const m = /resuming finetune from the checkpoint of iteration (\d+)/.exec(log);
      expect(m, log).not.toBeNull();
      expect(Number(m?.[1])).toBeGreaterThanOrEqual(20);
      // The multiply-add flavour (its results differ in the last bits) is in every job's log.
      expect(log).toContain('wasm kernels: fused multiply-add (relaxed SIMD)');
    });
  });

  it('a worker killed with -9 is retried from its checkpoint and the audit completes', async () => {
    const file = crashSpec(calibrationId, 'crash-worker');
    const child = spawn(process.execPath, [CLI, '--backend', 'wasm', 'run', file, '--workers', '2', '--json'], {
      env: { ...process.env, OWNERSHIP_AUDIT_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const runId = await waitFor('the run to start', () =>
      withStore((s) => s.listRuns({ name: 'crash-worker' })[0]?.id),
    );
    const pid = await waitFor('the attack worker past a checkpoint', () =>
      withStore((s) => {
        const ft = s.listJobs(runId).find((j) => j.key.startsWith('attack:') && j.key.includes('finetune'));
        const p = ft?.progress as { pid?: number } | undefined;
        return ft?.status === 'running' && iterationOf(ft) >= 30 && p?.pid ? p.pid : undefined;
      }),
    );
    process.kill(pid, 'SIGKILL');
    expect(await exited).toBe(0);
    const result = JSON.parse(out.trim().split('\n').pop() as string) as { status: string };
    expect(result.status).toBe('completed');
    withStore((s) => {
      const ft = s.listJobs(runId).find((j) => j.key.startsWith('attack:') && j.key.includes('finetune'));
      expect(ft?.status).toBe('done');
      expect(ft?.attempts).toBe(2);
      const log = readFileSync(
        join(
          s.getRun(runId)?.workDir as string,
          'logs',
          `${(ft?.key as string).replace(/[^A-Za-z0-9._-]+/g, '_')}.log`,
        ),
        'utf8',
      );
      expect(log).toMatch(/killed \(SIGKILL\)/);
      expect(log).toMatch(/resuming finetune from the checkpoint of iteration \d+/);
    });
  });

  it('a failing job (NaN loss) is marked with its reason, its scoring is skipped, and the rest of the audit goes on', () => {
    const base = JSON.parse(readFileSync(crashSpec(calibrationId, 'tmp'), 'utf8')) as AuditSpec;
    const spec = {
      ...base,
      name: 'failing',
      attacks: [
        { name: 'finetune', label: 'diverging', params: { ratio: 1, learningRate: 1e12 }, seeds: [1], iterations: 30 },
        { name: 'finetune', params: { ratio: 0.5 }, seeds: [2], iterations: 10 },
      ],
      checkpoints: undefined,
    };
    const file = join(home, 'failing.json');
    writeFileSync(file, JSON.stringify(spec));
    const r = cli(['run', file, '--workers', '2']);
    expect(r.status).toBe(3);
    expect(r.json.status).toBe('failed');
    withStore((s) => {
      const run = s.listRuns({ name: 'failing' })[0];
      const jobs = s.listJobs(run.id);
      const diverged = jobs.find((j) => j.kind === 'attack' && j.label.includes('diverging'));
      expect(diverged?.status).toBe('failed');
      expect(diverged?.errorCode).toBe('TRAINING_DIVERGED');
      const skipped = jobs.find((j) => j.kind === 'score' && j.deps.includes(diverged?.key as string));
      expect(skipped?.status).toBe('cancelled');
      expect(skipped?.errorCode).toBe('DEPENDENCY_FAILED');
      expect(
        jobs
          .filter((j) => j.kind !== 'attack' || j.key !== diverged?.key)
          .filter((j) => j !== skipped)
          .every((j) => j.status === 'done'),
      ).toBe(true);
      expect(s.listSuspects(run.id)).toHaveLength(1);
    });
  });

  it('cancel stops the jobs at a checkpoint; resuming the run finishes it', async () => {
    const spec = JSON.parse(readFileSync(crashSpec(calibrationId, 'cancel-me'), 'utf8')) as AuditSpec;
    const store = openStore(databasePath(home));
    try {
      const opts = { store, home, spec, baseDir: home, workers: 2, backend: 'wasm', workerEntry: CLI };
      let handle = startAudit({
        ...opts,
        onEvent: (e) =>
          e.type === 'progress' && e.key.includes('finetune') && e.event.iteration >= 30 && handle.cancel(),
      });
      const first = await handle.done;
      expect(first.status).toBe('cancelled');
      const jobs = store.listJobs(first.runId);
      expect(jobs.some((j) => j.status === 'failed')).toBe(false);
      const ft = jobs.find((j) => j.key.startsWith('attack:') && j.key.includes('finetune'));
      expect(ft?.status).toBe('pending');
      expect(existsSync(join((ft?.payload as { outDir: string }).outDir + '.work', 'state'))).toBe(true);
      handle = startAudit({ ...opts, resumeRunId: first.runId });
      const second = await handle.done;
      expect(second.status).toBe('completed');
      expect(second.runId).toBe(first.runId);
    } finally {
      store.close();
    }
  });
});
