/** Records shared by the store tests: a spec, runs, a suspect, the planned jobs, and row counts. */
import Database from 'better-sqlite3';
import type { NewJob, SqliteAuditStore, SuspectRecord } from '../../src-main/store';

export const SPEC = { version: 1, name: 'demo', attacks: [{ name: 'finetune', seeds: [1, 2], iterations: 10 }] };

export function newRun(store: SqliteAuditStore, specHash = 'hash-a', name = 'demo') {
  return store.createRun({ name, spec: SPEC, specHash, backend: 'wasm', versions: { app: '0.1.0', node: 'v20' } });
}

export function suspect(runId: string, key: string, over: Partial<SuspectRecord> = {}): SuspectRecord {
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

export function count(file: string, table: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export const JOBS: NewJob[] = [
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
