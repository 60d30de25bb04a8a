/** The store's calibrations, what was measured on suspects (metrics, curves, checkpoints), reports, and deleting a run. */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AuditError } from '../../src-main/engine/errors';
import { openStore, type SqliteAuditStore } from '../../src-main/store';
import { JOBS, count, newRun, suspect } from './fixtures';
import { useTempDirs } from './helpers';

const { dir, track } = useTempDirs();

function fresh(): { store: SqliteAuditStore; file: string } {
  const file = path.join(dir(), 'audit.db');
  return { store: track(openStore(file)), file };
}

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
    // Listed by key, whatever order they were recorded in.
    expect(store.listSuspects(run.id).map((s) => [s.key, s.derived, s.votes])).toEqual([
      ['attack:ft:ltd:1', false, 1],
      ['attack:ft:ltd:2', null, null],
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
