/**
 * The run claim (store/claim.ts): find or create and claim in one transaction; a live
 * owner with a recent heartbeat keeps its run (RUN_BUSY, nothing written), a dead owner's
 * or a stale claim is taken over, and the heartbeat only counts for the owner.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src-main/store';
import { STALE_CLAIM_MS, type ClaimRequest } from '../../src-main/store/claim';
import { useTempDirs } from './helpers';

const { dir, track } = useTempDirs();

function setup() {
  const file = path.join(dir(), 'audit.db');
  const store = track(openStore(file));
  const req = (pid: number, extra: Partial<ClaimRequest> = {}): ClaimRequest => ({
    pid,
    specHash: 'h',
    backend: 'wasm',
    create: { name: 'x', spec: {}, specHash: 'h', backend: 'wasm', versions: {} },
    ...extra,
  });
  return { file, store, req };
}

// A pid that is alive for the whole test (the test runner's parent) and one that is not.
const LIVE = process.ppid;
const DEAD = spawnSync(process.execPath, ['-e', '0']).pid as number;

describe('claimRun', () => {
  it('creates the run when none is found, and claims it running for the caller', () => {
    const { store, req } = setup();
    const c = store.claimRun(req(LIVE));
    expect(c.resumed).toBe(false);
    expect(c.run).toMatchObject({ status: 'running', ownerPid: LIVE });
    expect(store.listRuns()).toHaveLength(1);
  });

  it('refuses a run a live process holds with RUN_BUSY and writes nothing', () => {
    const { store, req } = setup();
    const first = store.claimRun(req(LIVE)).run;
    const before = JSON.stringify(store.listRuns());
    expect(() => store.claimRun(req(process.pid))).toThrow(expect.objectContaining({ code: 'RUN_BUSY' }));
    expect(() => store.claimRun(req(process.pid, { runId: first.id }))).toThrow(
      expect.objectContaining({ code: 'RUN_BUSY' }),
    );
    expect(JSON.stringify(store.listRuns())).toBe(before);
  });

  it("takes over a dead owner's run, and a run whose heartbeat is stale", () => {
    const { file, store, req } = setup();
    const run = store.claimRun(req(DEAD)).run;
    expect(store.claimRun(req(process.pid))).toMatchObject({
      resumed: true,
      run: { id: run.id, ownerPid: process.pid },
    });

    store.updateRun(run.id, { ownerPid: LIVE });
    expect(store.heartbeatRun(run.id, LIVE)).toBe(true);
    expect(() => store.claimRun(req(process.pid))).toThrow(expect.objectContaining({ code: 'RUN_BUSY' }));
    const db = new Database(file);
    db.prepare('UPDATE runs SET owner_heartbeat_at = ? WHERE id = ?').run(
      new Date(Date.now() - STALE_CLAIM_MS - 1000).toISOString(),
      run.id,
    );
    db.close();
    expect(store.claimRun(req(process.pid)).run.ownerPid).toBe(process.pid);
  });

  it('a heartbeat from a process that no longer owns the run changes nothing', () => {
    const { store, req } = setup();
    const run = store.claimRun(req(process.pid)).run;
    expect(store.heartbeatRun(run.id, LIVE)).toBe(false);
    expect(store.heartbeatRun(run.id, process.pid)).toBe(true);
  });

  it('an unknown run id is RUN_NOT_FOUND; fresh always creates', () => {
    const { store, req } = setup();
    expect(() => store.claimRun(req(process.pid, { runId: 'r-none' }))).toThrow(
      expect.objectContaining({ code: 'RUN_NOT_FOUND' }),
    );
    store.claimRun(req(process.pid));
    store.claimRun(req(process.pid, { fresh: true }));
    expect(store.listRuns()).toHaveLength(2);
  });
});
