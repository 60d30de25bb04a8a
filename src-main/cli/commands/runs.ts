/**
 * The run history and the stored calibrations: `runs list|show ID|delete ID` and
 * `calibrations list`. Deleting a run removes its records and, with --files, its work folder.
 */
import { distributedRecord } from '../../runner/queue/run-record';
import { runWorkers } from '../../runner/queue/run-workers';
import { existsSync, rmSync } from 'node:fs';
import { type Command } from 'commander';
import { formatFrontier, type FrontierResult } from '../../../src-shared/audit/frontier';
import { formatResultsTable, type ResultsTable } from '../../../src-shared/audit/results';
import type { AuditSpec } from '../../../src-shared/audit/spec';
import { AuditError } from '../../engine/errors';
import { runFalseClaims, type DefenseFalseClaims } from '../../report/false-claims';
import { frontierOf } from '../../runner/frontier';
import { loadResultsTable, loadTrajectories } from '../../runner/results';
import { processAlive } from '../../runner/run-audit';
import { databasePath, openStore, resolveHome } from '../../store';
import type { AuditStore } from '../../store/types';
import { emit, fail } from '../output';

/** The evasion frontier of a stored run whose spec has a frontier block (null otherwise). */
export function runFrontier(store: AuditStore, spec: AuditSpec, table: ResultsTable): FrontierResult | null {
  if (!spec.frontier) return null;
  return frontierOf({
    spec,
    table,
    trajectories: spec.frontier.iterations ? loadTrajectories(store, table.runId) : [],
    suspects: store.listSuspects(table.runId),
  });
}

/** The table as text, with the frontier's sentences under it when the run has one. */
export function formatRunTable(table: ResultsTable, frontier: FrontierResult | null): string {
  const lines = [formatResultsTable(table)];
  if (frontier) lines.push(...formatFrontier(frontier));
  return lines.join('\n');
}

/**
 * The `run --json` / `runs show --json` shape (issue contract), with a few extra fields:
 * `frontier` when the spec plans one, `falseClaims` (per defence) when the run has a calibration.
 */
export function runTableJson(
  t: ResultsTable,
  frontier: FrontierResult | null = null,
  falseClaims: DefenseFalseClaims[] | null = null,
): object {
  return {
    runId: t.runId,
    status: t.status,
    rows: t.rows.map((r) => ({
      attack: r.attack,
      label: r.label,
      scenario: r.scenario,
      suspects: r.suspects,
      fidelity: r.fidelity ? { accuracy: r.fidelity.accuracy, drop: r.fidelity.drop } : null,
      metrics: Object.fromEntries(
        Object.entries(r.metrics).map(([id, m]) => [id, { mean: m.mean, std: m.std, tau: m.tau }]),
      ),
      ownership: {
        derived: r.ownership.derived,
        total: r.ownership.total,
        verdict: r.ownership.verdict,
        label: r.ownership.label,
      },
      defenses: r.defenses,
      compute: r.compute,
    })),
    ...(frontier ? { frontier } : {}),
    ...(falseClaims ? { falseClaims } : {}),
  };
}

function withStore<T>(home: string | undefined, fn: (store: AuditStore) => T): T {
  const store = openStore(databasePath(resolveHome(home)));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('the run history: list, show, delete');
  runs
    .command('list')
    .option('--status <status>', 'only runs with this status')
    .option('--home <dir>', 'data folder (default: env OWNERSHIP_AUDIT_HOME or the per-user app data folder)')
    .option('--json', 'print { runs: [...] }')
    .action((f: { status?: string; home?: string; json?: boolean }) => {
      const mode = { json: Boolean(f.json) };
      try {
        withStore(f.home, (store) => {
          const list = store.listRuns(f.status ? { status: f.status as never } : undefined).map((r) => {
            const jobs = store.listJobs(r.id);
            return {
              id: r.id,
              name: r.name,
              status: r.status,
              createdAt: r.createdAt,
              wallSeconds: r.wallSeconds,
              backend: r.backend,
              jobs: jobs.length,
              done: jobs.filter((j) => j.status === 'done').length,
            };
          });
          emit(mode, { runs: list }, () =>
            list.length === 0
              ? 'no runs yet: start one with `ownership-audit run --demo`'
              : list
                  .map(
                    (r) =>
                      `${r.id}  ${r.status.padEnd(9)} ${String(r.done).padStart(3)}/${String(r.jobs).padEnd(3)} jobs  ${(r.wallSeconds / 60).toFixed(1).padStart(6)} min  ${r.name}`,
                  )
                  .join('\n'),
          );
        });
      } catch (e) {
        fail(mode, e);
      }
    });
  runs
    .command('show <runId>')
    .option('--home <dir>', 'data folder')
    .option('--jobs', 'also list every job with its status')
    .option('--json', 'print { runId, status, rows, jobs }')
    .action((id: string, f: { home?: string; json?: boolean; jobs?: boolean }) => {
      const mode = { json: Boolean(f.json) };
      try {
        withStore(f.home, (store) => {
          const run = store.getRun(id);
          if (!run)
            throw new AuditError('RUN_NOT_FOUND', `No run with id ${id}`, {
              hint: 'List runs with `ownership-audit runs list`.',
            });
          const table = loadResultsTable(store, id);
          const frontier = runFrontier(store, run.spec as AuditSpec, table);
          const records = store.listJobs(id);
          const distributed = distributedRecord(run.distributed);
          const workers = runWorkers(records);
          const jobs = records.map((j) => ({
            key: j.key,
            label: j.label,
            kind: j.kind,
            status: j.status,
            attempts: j.attempts,
            seconds: j.seconds,
            error: j.errorMessage,
            ...(j.ranOn ? { ranOn: j.ranOn } : {}),
          }));
          emit(
            mode,
            {
              ...runTableJson(table, frontier, runFalseClaims(store, table)),
              name: run.name,
              spec: run.spec,
              wallSeconds: run.wallSeconds,
              jobs,
              ...(distributed ? { queue: distributed.queue, shared: distributed.shared, workers } : {}),
            },
            () => {
              const lines = [
                `run ${run.id} (${run.name}): ${run.status}, ${(run.wallSeconds / 60).toFixed(1)} min, backend ${run.backend}`,
                formatRunTable(table, frontier),
              ];
              if (distributed) {
                lines.push(`distributed through ${distributed.queue}, shared folder ${distributed.shared}; workers:`);
                lines.push(
                  ...workers.map(
                    (w) =>
                      `  ${w.host} ${w.backend} (${w.id}): ${w.done} job(s) done${w.current ? `, running ${w.current}` : ''}`,
                  ),
                );
              }
              if (f.jobs || run.status !== 'completed')
                lines.push(
                  ...jobs.map(
                    (j) =>
                      `  ${j.status.padEnd(9)} ${j.label}${j.seconds ? ` ${j.seconds.toFixed(0)} s` : ''}${j.error ? `: ${j.error}` : ''}`,
                  ),
                );
              return lines.join('\n');
            },
          );
        });
      } catch (e) {
        fail(mode, e);
      }
    });
  runs
    .command('delete <runId>')
    .option('--home <dir>', 'data folder')
    .option('--files', "also delete the run's work folder (models, checkpoints)")
    .option('--json', 'print { deleted }')
    .action((id: string, f: { home?: string; json?: boolean; files?: boolean }) => {
      const mode = { json: Boolean(f.json) };
      try {
        withStore(f.home, (store) => {
          const run = store.getRun(id);
          if (!run)
            throw new AuditError('RUN_NOT_FOUND', `No run with id ${id}`, {
              hint: 'List runs with `ownership-audit runs list`.',
            });
          if (run.status === 'running' && run.ownerPid && processAlive(run.ownerPid)) {
            throw new AuditError('RUN_BUSY', `Run ${id} is being run by process ${run.ownerPid}`, {
              hint: 'Stop it first (Ctrl-C pauses it).',
            });
          }
          store.deleteRun(id);
          if (f.files && run.workDir && existsSync(run.workDir)) rmSync(run.workDir, { recursive: true, force: true });
          emit(
            mode,
            { deleted: id, files: Boolean(f.files) },
            () => `deleted run ${id}${f.files ? ` and ${run.workDir}` : ''}`,
          );
        });
      } catch (e) {
        fail(mode, e);
      }
    });

  program
    .command('calibrations')
    .description('stored threshold calibrations')
    .command('list')
    .option('--home <dir>', 'data folder')
    .option('--json', 'print { calibrations: [...] }')
    .action((f: { home?: string; json?: boolean }) => {
      const mode = { json: Boolean(f.json) };
      try {
        withStore(f.home, (store) => {
          const list = store.listCalibrations().map((c) => {
            const doc = c.document as {
              metrics?: { id: string; tau: number; degenerate: boolean; rule?: { name?: string } }[];
              references?: unknown[];
            };
            return {
              id: c.id,
              createdAt: c.createdAt,
              file: c.filePath,
              runId: c.runId,
              references: doc.references?.length ?? 0,
              metrics: (doc.metrics ?? []).map((m) => ({
                id: m.id,
                tau: m.tau,
                degenerate: m.degenerate,
                rule: m.rule?.name,
              })),
            };
          });
          emit(mode, { calibrations: list }, () =>
            list.length === 0
              ? 'no calibrations stored yet: `ownership-audit run` builds one'
              : list
                  .map(
                    (c) =>
                      `${c.id}  ${c.references} references  ${c.metrics.map((m) => `${m.id} ${m.tau.toPrecision(3)}${m.degenerate ? ' (degenerate)' : ''}`).join('  ')}\n    ${c.file}`,
                  )
                  .join('\n'),
          );
        });
      } catch (e) {
        fail(mode, e);
      }
    });
}
