import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AuditError } from '../../src-main/engine/errors';
import {
  ID_PATTERN,
  newId,
  openStore,
  type NewJob,
  type SqliteAuditStore,
  type SuspectRecord,
} from '../../src-main/store';
import { useTempDirs } from './helpers';

const { dir, track } = useTempDirs();

function fresh(): { store: SqliteAuditStore; file: string } {
  const file = path.join(dir(), 'audit.db');
  return { store: track(openStore(file)), file };
}

const SPEC = { version: 1, name: 'demo', attacks: [{ name: 'finetune', seeds: [1, 2], iterations: 10 }] };

function newRun(store: SqliteAuditStore, specHash = 'hash-a', name = 'demo') {
  return store.createRun({ name, spec: SPEC, specHash, backend: 'wasm', versions: { app: '0.1.0', node: 'v20' } });
}

function suspect(runId: string, key: string, over: Partial<SuspectRecord> = {}): SuspectRecord {
  return {
    runId,
    key,
    rowId: 'ft',
    attack: 'finetune',
    label: 'FT(0.5)',
    scenario: 'ltd',
    seed: 1,
    modelPath: `/w/suspects/${key}`,
    modelHash: 'mh',
    accuracy: 0.81,
    agreement: 0.9,
    victimAccuracy: 0.85,
    derived: true,
    votes: 3,
    of: 4,
    seconds: 12.5,
    passes: 100,
    iterations: 10,
    ...over,
  };
}

function count(file: string, table: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
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

const JOBS: NewJob[] = [
  {
    key: 'victim',
    kind: 'train-victim',
    label: 'Victim',
    deps: [],
    payload: { out: '/w/victim', arch: 'cnn', seed: 1 },
    weight: 30,
  },
  {
    key: 'reference:0',
    kind: 'reference',
    label: 'Reference 0',
    deps: ['victim'],
    payload: { seed: 10, nested: { a: [1, 2] } },
    weight: 20.5,
  },
  {
    key: 'calibrate',
    kind: 'calibrate',
    label: 'Calibrate',
    deps: ['victim', 'reference:0'],
    payload: null,
    weight: 5,
  },
];

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

  it('resetInterruptedJobs puts running jobs of that run back to pending, and only those', () => {
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
    expect(store.getJob(run.id, 'reference:0')?.attempts).toBe(1);
    expect(store.getJob(other.id, 'victim')?.status).toBe('running');
    expect(store.resetInterruptedJobs(run.id)).toBe(0);
  });
});

const CALIBRATION = {
  formatVersion: 1,
  createdAt: '2026-05-01T10:00:00.000Z',
  victim: { path: '/w/victim', contentHash: 'vh', lineage: 'victim' },
  defenses: [
    {
      id: 'deepjudge',
      params: { k: 3 },
      fingerprintsFile: '/w/calibration/calibration.json.fingerprints/deepjudge.json',
      fingerprintsHash: 'f1',
    },
    {
      id: 'zest',
      params: {},
      fingerprintsFile: '/w/calibration/calibration.json.fingerprints/zest.json',
      fingerprintsHash: 'f2',
    },
  ],
  metrics: [{ id: 'deepjudge.rob', tau: 0.5 }],
};

describe('calibrations', () => {
  it('import with fingerprint sets, get, list; re-import under the id replaces the sets', () => {
    const { store } = fresh();
    const run = newRun(store);
    const cal = store.importCalibration({
      filePath: '/w/calibration/calibration.json',
      document: CALIBRATION,
      victimHash: 'vh',
      runId: run.id,
    });
    expect(cal.id).toMatch(/^c-\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect(cal).toEqual({
      id: cal.id,
      createdAt: CALIBRATION.createdAt,
      filePath: '/w/calibration/calibration.json',
      victimHash: 'vh',
      document: CALIBRATION,
      runId: run.id,
    });
    expect(store.getCalibration(cal.id)).toEqual(cal);
    expect(store.listFingerprintSets(cal.id)).toEqual([
      {
        calibrationId: cal.id,
        defense: 'deepjudge',
        path: CALIBRATION.defenses[0].fingerprintsFile,
        contentHash: 'f1',
        params: { k: 3 },
      },
      {
        calibrationId: cal.id,
        defense: 'zest',
        path: CALIBRATION.defenses[1].fingerprintsFile,
        contentHash: 'f2',
        params: {},
      },
    ]);

    const other = store.importCalibration({
      id: 'c-manual',
      filePath: '/x.json',
      document: { ...CALIBRATION, createdAt: '2026-06-01T00:00:00.000Z' },
      victimHash: 'vh2',
    });
    expect(other.runId).toBeNull();
    expect(store.listCalibrations().map((c) => c.id)).toEqual(['c-manual', cal.id]);
    // Without a createdAt in the document, the import time stands in.
    const undated = store.importCalibration({ filePath: '/y.json', document: { defenses: [] }, victimHash: 'vh3' });
    expect(Math.abs(Date.parse(undated.createdAt) - Date.now())).toBeLessThan(60_000);

    const again = store.importCalibration({
      id: cal.id,
      filePath: '/w/calibration/calibration.json',
      document: { ...CALIBRATION, defenses: [CALIBRATION.defenses[1]] },
      victimHash: 'vh',
    });
    expect(again.id).toBe(cal.id);
    expect(store.listFingerprintSets(cal.id).map((f) => f.defense)).toEqual(['zest']);
    expect(store.listCalibrations().map((c) => c.id)).toEqual([undated.id, 'c-manual', cal.id]);
  });

  it('refuses a document without a valid defenses list, recording nothing', () => {
    const { store } = fresh();
    expect(() => store.importCalibration({ filePath: '/x', document: { metrics: [] }, victimHash: 'v' })).toThrow(
      AuditError,
    );
    expect(() =>
      store.importCalibration({ filePath: '/x', document: { defenses: [{ id: 'zest' }] }, victimHash: 'v' }),
    ).toThrow(/fingerprintsFile/);
    expect(() =>
      store.importCalibration({
        filePath: '/x',
        document: { defenses: [CALIBRATION.defenses[0], CALIBRATION.defenses[0]] },
        victimHash: 'v',
      }),
    ).toThrow(/twice/);
    expect(store.listCalibrations()).toEqual([]);
  });

  it('outlives the run that built it (the link is cleared)', () => {
    const { store } = fresh();
    const run = newRun(store);
    const cal = store.importCalibration({
      filePath: '/c.json',
      document: CALIBRATION,
      victimHash: 'vh',
      runId: run.id,
    });
    store.deleteRun(run.id);
    expect(store.getCalibration(cal.id)?.runId).toBeNull();
    expect(store.listFingerprintSets(cal.id)).toHaveLength(2);
  });
});

describe('suspects, metrics, curves, checkpoints, reports', () => {
  it('recordSuspect round-trips, keeps nulls, and replaces earlier values for the same key', () => {
    const { store } = fresh();
    const run = newRun(store);
    store.recordSuspect(
      suspect(run.id, 'attack:ft:ltd:1'),
      [
        { iteration: null, metricId: 'deepjudge.rob', value: 0.1, tau: 0.5, flagged: true, normalized: 0.2 },
        { iteration: null, metricId: 'zest.dist', value: null, tau: null, flagged: null, normalized: null },
        { iteration: 5, metricId: 'deepjudge.rob', value: 0.3, tau: 0.5, flagged: false, normalized: 0.6 },
      ],
      [
        { iteration: 10, fidelity: 0.8, agreement: 0.9 },
        { iteration: 5, fidelity: 0.7, agreement: 0.85 },
      ],
      [{ iteration: 5, path: '/w/suspects/x.work/ckpt-5' }],
    );
    store.recordSuspect(
      suspect(run.id, 'attack:ft:ltd:2', { seed: 2, derived: null, votes: null, of: null }),
      [],
      [],
      [],
    );

    expect(store.listSuspects(run.id)).toEqual([
      suspect(run.id, 'attack:ft:ltd:1'),
      suspect(run.id, 'attack:ft:ltd:2', { seed: 2, derived: null, votes: null, of: null }),
    ]);
    const values = store.listMetricValues(run.id, 'attack:ft:ltd:1');
    expect(values).toEqual([
      {
        runId: run.id,
        suspectKey: 'attack:ft:ltd:1',
        iteration: null,
        metricId: 'deepjudge.rob',
        value: 0.1,
        tau: 0.5,
        flagged: true,
        normalized: 0.2,
      },
      {
        runId: run.id,
        suspectKey: 'attack:ft:ltd:1',
        iteration: null,
        metricId: 'zest.dist',
        value: null,
        tau: null,
        flagged: null,
        normalized: null,
      },
      {
        runId: run.id,
        suspectKey: 'attack:ft:ltd:1',
        iteration: 5,
        metricId: 'deepjudge.rob',
        value: 0.3,
        tau: 0.5,
        flagged: false,
        normalized: 0.6,
      },
    ]);
    expect(store.listCurve(run.id, 'attack:ft:ltd:1').map((p) => p.iteration)).toEqual([5, 10]);
    expect(store.listCheckpoints(run.id, 'attack:ft:ltd:1')).toEqual([
      { runId: run.id, suspectKey: 'attack:ft:ltd:1', iteration: 5, path: '/w/suspects/x.work/ckpt-5' },
    ]);

    // Score again: everything for that key is replaced, the other suspect is untouched.
    store.recordSuspect(
      suspect(run.id, 'attack:ft:ltd:1', { derived: false, votes: 1 }),
      [{ iteration: null, metricId: 'deepjudge.rob', value: 0.9, tau: 0.5, flagged: false, normalized: 1.8 }],
      [{ iteration: 10, fidelity: 0.81, agreement: 0.91 }],
      [],
    );
    expect(store.listSuspects(run.id).map((s) => [s.key, s.derived, s.votes])).toEqual([
      ['attack:ft:ltd:2', null, null],
      ['attack:ft:ltd:1', false, 1],
    ]);
    expect(store.listMetricValues(run.id, 'attack:ft:ltd:1').map((m) => m.value)).toEqual([0.9]);
    expect(store.listMetricValues(run.id)).toHaveLength(1);
    expect(store.listCurve(run.id, 'attack:ft:ltd:1')).toEqual([
      { runId: run.id, suspectKey: 'attack:ft:ltd:1', iteration: 10, fidelity: 0.81, agreement: 0.91 },
    ]);
    expect(store.listCheckpoints(run.id, 'attack:ft:ltd:1')).toEqual([]);
  });

  it('recordSuspect is all or nothing', () => {
    const { store } = fresh();
    const run = newRun(store);
    store.recordSuspect(
      suspect(run.id, 'k'),
      [{ iteration: null, metricId: 'm', value: 1, tau: 0, flagged: true, normalized: 1 }],
      [],
      [],
    );
    // Two curve points at one iteration violate the key: nothing of the second call stays.
    const dup = [
      { iteration: 1, fidelity: 0, agreement: 0 },
      { iteration: 1, fidelity: 0, agreement: 0 },
    ];
    expect(() => store.recordSuspect(suspect(run.id, 'k', { seed: 9 }), [], dup, [])).toThrow(/UNIQUE/);
    expect(store.listSuspects(run.id).map((s) => s.seed)).toEqual([1]);
    expect(store.listMetricValues(run.id, 'k')).toHaveLength(1);
  });

  it('reports: add and list', () => {
    const { store } = fresh();
    const run = newRun(store);
    const r1 = store.addReport({ runId: run.id, format: 'md', path: '/w/report.md' });
    const r2 = store.addReport({ runId: run.id, format: 'json', path: '/w/report.json' });
    expect(r1).toMatchObject({ runId: run.id, format: 'md', path: '/w/report.md' });
    expect(store.listReports(run.id)).toEqual([r1, r2]);
    expect(() => store.addReport({ runId: 'r-none', format: 'md', path: '/x' })).toThrow(/FOREIGN KEY/);
  });
});

describe('deleteRun', () => {
  it('cascades to everything recorded for the run and leaves other runs and no orphans', () => {
    const { store, file } = fresh();
    const doomed = newRun(store, 'h1');
    const kept = newRun(store, 'h2');
    for (const run of [doomed, kept]) {
      store.insertJobs(run.id, JOBS);
      store.recordSuspect(
        suspect(run.id, 'attack:ft:ltd:1'),
        [{ iteration: null, metricId: 'm', value: 1, tau: 0, flagged: true, normalized: 1 }],
        [{ iteration: 1, fidelity: 0.5, agreement: 0.5 }],
        [{ iteration: 1, path: '/ck' }],
      );
      store.addReport({ runId: run.id, format: 'md', path: '/r.md' });
    }
    const tables = ['jobs', 'suspects', 'metric_values', 'curves', 'checkpoints', 'reports'];
    for (const t of tables) expect(count(file, t), t).toBe(t === 'jobs' ? 6 : 2);

    expect(store.deleteRun(doomed.id)).toBe(true);
    expect(store.deleteRun(doomed.id)).toBe(false);
    expect(store.getRun(doomed.id)).toBeUndefined();
    for (const t of tables) expect(count(file, t), t).toBe(t === 'jobs' ? 3 : 1);
    expect(store.listJobs(kept.id)).toHaveLength(3);
    expect(store.listSuspects(kept.id)).toHaveLength(1);

    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('foreign_key_check')).toEqual([]);
    raw.close();
    expect(store.integrityCheck()).toBe('ok');
  });
});
