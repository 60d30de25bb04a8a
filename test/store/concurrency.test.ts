import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src-main/store';
import { useTempDirs } from './helpers';

const { dir, track } = useTempDirs();

const run = { name: 'n', spec: {}, specHash: 'h', backend: 'wasm', versions: {} };

describe('two connections on one file (WAL)', () => {
  it('a reader keeps reading committed data while a writer holds an open transaction', () => {
    const file = path.join(dir(), 'audit.db');
    const writer = track(openStore(file));
    // The second open finds the schema already migrated.
    const reader = track(openStore(file));
    const first = writer.createRun(run);

    let seenInside: string[] = [];
    writer.transaction(() => {
      const second = writer.createRun(run);
      writer.insertJobs(second.id, [
        { key: 'victim', kind: 'train-victim', label: 'V', deps: [], payload: {}, weight: 1 },
      ]);
      // The reader sees the last commit, not the writer's uncommitted rows.
      seenInside = reader.listRuns().map((r) => r.id);
      expect(reader.getRun(second.id)).toBeUndefined();
      expect(reader.listJobs(second.id)).toEqual([]);
    });
    expect(seenInside).toEqual([first.id]);
    expect(reader.listRuns()).toHaveLength(2);
    expect(reader.listJobs(writer.listRuns()[0].id)).toHaveLength(1);
  });

  it('a writer commits while a reader holds a read transaction; the reader keeps its snapshot', () => {
    const file = path.join(dir(), 'audit.db');
    const writer = track(openStore(file));
    // The store's own transactions take the write lock first, so the reader is a plain
    // connection holding a deferred (read) transaction.
    const reader = new Database(file);
    const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n;
    writer.createRun(run);
    try {
      reader.transaction(() => {
        expect(count()).toBe(1);
        // In rollback-journal mode this commit would need an EXCLUSIVE lock, wait out
        // busy_timeout behind the reader's SHARED lock and fail with SQLITE_BUSY.
        writer.createRun(run);
        expect(writer.listRuns()).toHaveLength(2);
        expect(count()).toBe(1);
      })();
      expect(count()).toBe(2);
    } finally {
      reader.close();
    }
  });

  it('a second writer waits for another process to commit instead of failing (busy_timeout)', async () => {
    const file = path.join(dir(), 'audit.db');
    const store = track(openStore(file));
    const holder = await holdWriteLock(file, 400);
    const t0 = performance.now();
    store.createRun(run); // blocks on the lock, then succeeds
    const waited = performance.now() - t0;
    await holder.exited;
    expect(holder.child.exitCode).toBe(0);
    expect(waited).toBeGreaterThan(100);
    expect(store.listRuns().map((r) => r.id)).toContain('r-other');
    expect(store.listRuns()).toHaveLength(2);
  });

  it('a transaction that reads before it writes also waits for the other process (no SQLITE_BUSY on upgrade)', async () => {
    // A deferred transaction starts as a reader; SQLite does not call the busy handler when
    // a reader asks to become the writer, so under contention its first write failed at
    // once with SQLITE_BUSY (the claim race in CI: a run's job planning lost this way).
    const file = path.join(dir(), 'audit.db');
    const store = track(openStore(file));
    const holder = await holdWriteLock(file, 400);
    const created = store.transaction(() => {
      const before = store.listRuns().length;
      store.createRun(run);
      return store.listRuns().length - before;
    });
    await holder.exited;
    expect(created).toBe(1);
    expect(store.listRuns()).toHaveLength(2);
  });
});

/** Another process takes the store's write lock, says so, holds it `ms`, then commits a run 'r-other'. */
async function holdWriteLock(file: string, ms: number) {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const D = require('better-sqlite3'); const db = new D(process.argv[1]);
       db.exec('BEGIN IMMEDIATE');
       db.prepare("INSERT INTO runs (id, name, spec_json, spec_hash, status, backend, versions_json, work_dir, created_at) VALUES ('r-other', 'o', '{}', 'h', 'pending', 'wasm', '{}', '/w', '2026-01-01T00:00:00.000Z')").run();
       process.stdout.write('locked\\n');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${ms});
       db.exec('COMMIT'); db.close();`,
      file,
    ],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', () => reject(new Error('lock holder exited early')));
  });
  return { child, exited };
}
