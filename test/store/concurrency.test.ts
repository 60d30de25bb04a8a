import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
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
    const reader = track(openStore(file));
    writer.createRun(run);
    reader.transaction(() => {
      expect(reader.listRuns()).toHaveLength(1);
      // In rollback-journal mode this commit would need an EXCLUSIVE lock, wait out
      // busy_timeout behind the reader's SHARED lock and fail with SQLITE_BUSY.
      writer.createRun(run);
      expect(writer.listRuns()).toHaveLength(2);
      expect(reader.listRuns()).toHaveLength(1);
    });
    expect(reader.listRuns()).toHaveLength(2);
  });

  it('a second writer waits for another process to commit instead of failing (busy_timeout)', async () => {
    const file = path.join(dir(), 'audit.db');
    const store = track(openStore(file));
    // Another process takes the write lock, says so, holds it 400 ms, then commits.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(process.argv[1]);
         db.exec('BEGIN IMMEDIATE');
         db.prepare("INSERT INTO runs (id, name, spec_json, spec_hash, status, backend, versions_json, work_dir, created_at) VALUES ('r-other', 'o', '{}', 'h', 'pending', 'wasm', '{}', '/w', '2026-01-01T00:00:00.000Z')").run();
         process.stdout.write('locked\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
         db.exec('COMMIT'); db.close();`,
        file,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(holder, 'exit');
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      holder.on('exit', () => reject(new Error('lock holder exited early')));
    });
    const t0 = performance.now();
    store.createRun(run); // blocks on the lock, then succeeds
    const waited = performance.now() - t0;
    await exited;
    expect(holder.exitCode).toBe(0);
    expect(waited).toBeGreaterThan(100);
    expect(store.listRuns().map((r) => r.id)).toContain('r-other');
    expect(store.listRuns()).toHaveLength(2);
  });
});
