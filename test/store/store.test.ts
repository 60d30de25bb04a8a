/** The store's runs and jobs (ids, create/find/update/delete, planned jobs and their state). */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditError } from '../../src-main/engine/errors';
import { ID_PATTERN, newId, openStore, type SqliteAuditStore } from '../../src-main/store';
import { JOBS, SPEC, newRun } from './fixtures';
import { useTempDirs } from './helpers';

const { dir, track } = useTempDirs();

function fresh(): { store: SqliteAuditStore; file: string } {
  const file = path.join(dir(), 'audit.db');
  return { store: track(openStore(file)), file };
}

describe('ids', () => {
  it('are short, time-stamped and sort by time', () => {
    const a = newId('r', new Date('2026-11-30T03:15:00.999Z'));
    expect(a).toMatch(/^r-20261130-031500-[0-9a-f]{4}$/);
    expect(a).toMatch(ID_PATTERN);
    const b = newId('r', new Date('2026-11-30T03:15:01.000Z'));
    expect([b, a].sort()).toEqual([a, b]);
    expect(newId('c')).toMatch(/^c-\d{8}-\d{6}-[0-9a-f]{4}$/);
  });
});

describe('runs', () => {
  it('round-trip with defaults, JSON columns and a work dir under <home>/runs', () => {
    const { store, file } = fresh();
    const run = newRun(store);
    expect(run.id).toMatch(/^r-\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect(run).toMatchObject({
      name: 'demo',
      spec: SPEC,
      specHash: 'hash-a',
      status: 'pending',
      backend: 'wasm',
      versions: { app: '0.1.0', node: 'v20' },
      workDir: path.join(path.dirname(file), 'runs', run.id),
      startedAt: null,
      finishedAt: null,
      wallSeconds: 0,
      ownerPid: null,
      error: null,
    });
    expect(Number.isNaN(Date.parse(run.createdAt))).toBe(false);
    expect(store.getRun(run.id)).toEqual(run);
    expect(store.getRun('r-missing')).toBeUndefined();

    store.updateRun(run.id, {
      status: 'running',
      startedAt: '2026-01-01T00:00:00.000Z',
      ownerPid: 4242,
      wallSeconds: 1.5,
    });
    expect(store.getRun(run.id)).toMatchObject({
      status: 'running',
      startedAt: '2026-01-01T00:00:00.000Z',
      ownerPid: 4242,
      wallSeconds: 1.5,
      backend: 'wasm',
    });
    // null clears, undefined leaves alone.
    store.updateRun(run.id, { ownerPid: null, error: undefined, status: 'failed' });
    expect(store.getRun(run.id)).toMatchObject({ ownerPid: null, error: null, status: 'failed', wallSeconds: 1.5 });
  });

  it('accept a given id and work dir; a duplicate given id is an error', () => {
    const { store } = fresh();
    const run = store.createRun({
      id: 'r-fixed',
      workDir: '/elsewhere',
      name: 'n',
      spec: {},
      specHash: 'h',
      backend: 'cpu',
      versions: {},
    });
    expect(run).toMatchObject({ id: 'r-fixed', workDir: '/elsewhere' });
    expect(() =>
      store.createRun({ id: 'r-fixed', name: 'n', spec: {}, specHash: 'h', backend: 'cpu', versions: {} }),
    ).toThrow(/UNIQUE/);
  });

  it('updating a missing run throws RUN_NOT_FOUND; an invalid status is rejected', () => {
    const { store } = fresh();
    expect(() => store.updateRun('r-none', { status: 'running' })).toThrow(AuditError);
    expect(() => store.updateRun('r-none', {})).toThrow(/No run r-none/);
    const run = newRun(store);
    expect(() => store.updateRun(run.id, { status: 'bogus' as never })).toThrow(/CHECK/);
  });

  it('list newest first, filter by status and name, limit', () => {
    const { store } = fresh();
    const a = newRun(store, 'h1', 'alpha');
    const b = newRun(store, 'h2', 'beta');
    const c = newRun(store, 'h3', 'alpha');
    store.updateRun(b.id, { status: 'completed' });
    expect(store.listRuns().map((r) => r.id)).toEqual([c.id, b.id, a.id]);
    expect(store.listRuns({ status: 'completed' }).map((r) => r.id)).toEqual([b.id]);
    expect(store.listRuns({ name: 'alpha' }).map((r) => r.id)).toEqual([c.id, a.id]);
    expect(store.listRuns({ name: 'alpha', status: 'pending', limit: 1 }).map((r) => r.id)).toEqual([c.id]);
  });

  it('findResumableRun: the newest run of that spec that is not completed', () => {
    const { store } = fresh();
    expect(store.findResumableRun('h')).toBeUndefined();
    const old = newRun(store, 'h');
    const newer = newRun(store, 'h');
    newRun(store, 'other');
    expect(store.findResumableRun('h')?.id).toBe(newer.id);
    store.updateRun(newer.id, { status: 'completed' });
    expect(store.findResumableRun('h')?.id).toBe(old.id);
    store.updateRun(old.id, { status: 'failed' });
    expect(store.findResumableRun('h')?.id).toBe(old.id);
    store.updateRun(old.id, { status: 'completed' });
    expect(store.findResumableRun('h')).toBeUndefined();
  });
});

describe('jobs', () => {
  it('round-trip in plan order with deps and payload JSON', () => {
    const { store } = fresh();
    const run = newRun(store);
    store.insertJobs(run.id, JOBS);
    const jobs = store.listJobs(run.id);
    expect(jobs.map((j) => j.key)).toEqual(['victim', 'reference:0', 'calibrate']);
    expect(jobs[1]).toEqual({
      ...JOBS[1],
      runId: run.id,
      status: 'pending',
      attempts: 0,
      startedAt: null,
      finishedAt: null,
      seconds: null,
      errorCode: null,
      errorMessage: null,
      result: null,
      progress: null,
      ranOn: null,
      outputs: null,
    });
    expect(store.getJob(run.id, 'calibrate')?.payload).toBeNull();
    expect(store.getJob(run.id, 'nope')).toBeUndefined();
  });

  it('update fields and JSON result/progress; a missing job throws', () => {
    const { store } = fresh();
    const run = newRun(store);
    store.insertJobs(run.id, JOBS);
    store.updateJob(run.id, 'victim', {
      status: 'running',
      attempts: 1,
      startedAt: 't0',
      progress: { step: 3, of: 10 },
    });
    store.updateJob(run.id, 'victim', {
      status: 'done',
      finishedAt: 't1',
      seconds: 2.5,
      result: { path: '/w/victim', accuracy: 0.9 },
    });
    expect(store.getJob(run.id, 'victim')).toMatchObject({
      status: 'done',
      attempts: 1,
      startedAt: 't0',
      finishedAt: 't1',
      seconds: 2.5,
      result: { path: '/w/victim', accuracy: 0.9 },
      progress: { step: 3, of: 10 },
    });
    store.updateJob(run.id, 'reference:0', {
      status: 'failed',
      errorCode: 'TRAINING_DIVERGED',
      errorMessage: 'NaN loss',
    });
    expect(store.getJob(run.id, 'reference:0')).toMatchObject({
      status: 'failed',
      errorCode: 'TRAINING_DIVERGED',
      errorMessage: 'NaN loss',
    });
    // Other jobs untouched.
    expect(store.getJob(run.id, 'calibrate')?.status).toBe('pending');
    expect(() => store.updateJob(run.id, 'nope', { status: 'done' })).toThrow(AuditError);
  });

  it('inserting the same plan again keeps existing jobs and adds new ones; bad input is refused', () => {
    const { store } = fresh();
    const run = newRun(store);
    store.insertJobs(run.id, JOBS.slice(0, 2));
    store.updateJob(run.id, 'victim', { status: 'done', result: { ok: true } });
    store.insertJobs(run.id, JOBS);
    expect(store.listJobs(run.id).map((j) => [j.key, j.status])).toEqual([
      ['victim', 'done'],
      ['reference:0', 'pending'],
      ['calibrate', 'pending'],
    ]);
    expect(store.getJob(run.id, 'victim')?.result).toEqual({ ok: true });
    expect(() => store.insertJobs(run.id, [JOBS[0], JOBS[0]])).toThrow(/twice/);
    expect(() => store.insertJobs('r-none', JOBS)).toThrow(/No run r-none/);
  });

  it('resetInterruptedJobs puts running jobs of that run back to pending, and only those, uncounting their attempt', () => {
    const { store } = fresh();
    const run = newRun(store);
    const other = newRun(store, 'h-other');
    store.insertJobs(run.id, JOBS);
    store.insertJobs(other.id, JOBS);
    store.updateJob(run.id, 'victim', { status: 'done' });
    store.updateJob(run.id, 'reference:0', { status: 'running', attempts: 1 });
    store.updateJob(run.id, 'calibrate', { status: 'running' });
    store.updateJob(other.id, 'victim', { status: 'running' });
    expect(store.resetInterruptedJobs(run.id)).toBe(2);
    expect(store.listJobs(run.id).map((j) => j.status)).toEqual(['done', 'pending', 'pending']);
    // The attempt the dead runner cut short is not counted against the job's retries.
    expect(store.getJob(run.id, 'reference:0')?.attempts).toBe(0);
    expect(store.getJob(other.id, 'victim')?.status).toBe('running');
    expect(store.resetInterruptedJobs(run.id)).toBe(0);
  });
});

describe('loss curves', () => {
  it('keep each job series in iteration order; a retried job overwrites its points; a deleted run takes them', () => {
    const { store } = fresh();
    const run = newRun(store);
    store.addLossPoints(run.id, 'attack:a', [
      { series: 'loss', iteration: 20, value: 0.4 },
      { series: 'loss', iteration: 10, value: 0.9 },
      { series: 'kl', iteration: 10, value: 0.1 },
    ]);
    store.addLossPoints(run.id, 'reference:0', [{ series: 'loss', iteration: 5, value: 2 }]);
    store.addLossPoints(run.id, 'attack:a', []);
    // The retry's point at iteration 10 replaces the first attempt's.
    store.addLossPoints(run.id, 'attack:a', [{ series: 'loss', iteration: 10, value: 0.8 }]);
    expect(store.lossCurves(run.id)).toEqual({
      'attack:a': {
        kl: [[10, 0.1]],
        loss: [
          [10, 0.8],
          [20, 0.4],
        ],
      },
      'reference:0': { loss: [[5, 2]] },
    });
    store.deleteRun(run.id);
    expect(store.lossCurves(run.id)).toEqual({});
  });
});
