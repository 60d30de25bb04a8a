/**
 * Claiming a run for one process. Finding the run (by id or by the spec's hash), creating
 * it when there is none and taking ownership happen in one IMMEDIATE transaction, which
 * takes the write lock before the first read: two runners started at the same moment are
 * serialised, the second sees the first's claim and gets RUN_BUSY without writing
 * anything. A claim is live while its owner's pid exists and its heartbeat is recent; a
 * dead owner's or a stale claim may be taken over (the owner was killed, or its pid was
 * reused by an unrelated process).
 */
import { AuditError } from '../engine/errors';
import { processAlive } from '../engine/process-alive';
import { now, sqliteCode, type Db } from './db';
import { createRun, findResumableRun, getRun, runNotFound, type NewRun } from './runs';
import type { RunRecord } from './types';

/** How often an owner refreshes its heartbeat. */
export const HEARTBEAT_MS = 5_000;
/** A heartbeat older than this is a dead claim, whatever the pid (12 missed beats). */
export const STALE_CLAIM_MS = 60_000;

export interface ClaimRequest {
  /** The claiming process. */
  pid: number;
  /** This run, or RUN_NOT_FOUND. */
  runId?: string;
  /** Without runId: the newest unfinished run of this spec hash (none with `fresh`). */
  specHash: string;
  fresh?: boolean;
  /** The run to create when none is found. */
  create: NewRun;
  backend: string;
}

export interface Claim {
  run: RunRecord;
  /** Whether an existing run was claimed (false: created now). */
  resumed: boolean;
  /** The run's status and owner before the claim, to give it back as it was if opening fails. */
  previous: Pick<RunRecord, 'status' | 'ownerPid'>;
}

/** Whether another process holds a live claim on the run. */
function heldByOther(db: Db, run: RunRecord, pid: number): boolean {
  if (run.status !== 'running' || !run.ownerPid || run.ownerPid === pid || !processAlive(run.ownerPid)) return false;
  const row = db.stmt('SELECT owner_heartbeat_at AS beat FROM runs WHERE id = ?').get(run.id) as
    { beat: string | null } | undefined;
  // A claim from before heartbeats (beat null) with a live owner counts as live.
  return !row?.beat || Date.now() - Date.parse(row.beat) < STALE_CLAIM_MS;
}

export function claimRun(db: Db, req: ClaimRequest): Claim {
  try {
    return claimInTransaction(db, req);
  } catch (e) {
    // The write lock stayed taken past busy_timeout: another process is claiming or driving
    // runs in this store right now. That is the same answer as a live claim, typed.
    if (sqliteCode(e)?.startsWith('SQLITE_BUSY'))
      throw new AuditError('RUN_BUSY', 'Another process holds the run history for writing', {
        hint: 'Another audit is being opened in this data folder; try again in a moment.',
      });
    throw e;
  }
}

function claimInTransaction(db: Db, req: ClaimRequest): Claim {
  return db.transaction(() => {
    let run = req.runId ? getRun(db, req.runId) : req.fresh ? undefined : findResumableRun(db, req.specHash);
    if (req.runId && !run) throw runNotFound(db, req.runId);
    if (run && heldByOther(db, run, req.pid))
      throw new AuditError('RUN_BUSY', `Run ${run.id} is being run by process ${run.ownerPid}`, {
        hint: 'Wait for it, or stop that process first.',
      });
    const resumed = Boolean(run);
    const previous = run
      ? { status: run.status, ownerPid: run.ownerPid }
      : { status: 'pending' as const, ownerPid: null };
    if (!run) run = createRun(db, req.create);
    const at = now();
    db.stmt(
      `UPDATE runs SET status = 'running', owner_pid = @pid, owner_heartbeat_at = @at, backend = @backend,
        started_at = COALESCE(started_at, @at), error = NULL WHERE id = @id`,
    ).run({ pid: req.pid, at, backend: req.backend, id: run.id });
    return { run: getRun(db, run.id) as RunRecord, resumed, previous };
  });
}

export function heartbeatRun(db: Db, id: string, pid: number): boolean {
  return (
    db.stmt('UPDATE runs SET owner_heartbeat_at = ? WHERE id = ? AND owner_pid = ?').run(now(), id, pid).changes > 0
  );
}
