/**
 * `ownership-audit run SPEC.json | --demo | --preset smoke`: the audit as one command.
 * Starting the same spec again resumes its unfinished run (finished jobs are kept, running
 * ones continue from their checkpoints); `--resume ID` names the run; `--new` starts over.
 * Ctrl-C pauses the run cleanly (jobs checkpoint first); a second Ctrl-C leaves at once.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Command } from 'commander';
import { parseAuditSpec, type AuditSpec } from '../../../src-shared/audit/spec';
import { initBackend } from '../../engine/backend';
import { AuditError } from '../../engine/errors';
import { validateAgainstRegistries } from '../../runner/plan';
import { demoSpec, smokeSpec } from '../../runner/presets';
import { startAudit, type RunEvent } from '../../runner/run-audit';
import { openStore, resolveHome, databasePath } from '../../store';
import { intArg } from '../options';
import { preflightSpec } from '../spec-preflight';
import { emit, fail, progress } from '../output';
import { DEMO_DATASET, DEMO_VICTIM } from '../paths';
import { runFalseClaims } from '../../report/false-claims';
import { listQueueWorkers, openDistributedRun, type DistributedRun } from '../../runner/queue/distributed-run';
import { appVersion } from '../../runner/queue/protocol';
import { JOB_KINDS } from '../../../src-shared/domain/states';
import { formatRunTable, runFrontier, runTableJson } from './runs';

interface RunFlags {
  demo?: boolean;
  preset?: string;
  resume?: string;
  new?: boolean;
  workers?: number;
  home?: string;
  json?: boolean;
  queue?: string;
  shared?: string;
}

function loadSpec(file: string | undefined, f: RunFlags): { spec: AuditSpec; baseDir: string } {
  const paths = { demoModel: DEMO_VICTIM(), demoData: DEMO_DATASET() };
  if (f.demo) return { spec: demoSpec(paths), baseDir: process.cwd() };
  if (f.preset) {
    if (f.preset !== 'smoke' && f.preset !== 'demo')
      throw new AuditError('INVALID_ARGUMENT', `Unknown preset "${f.preset}"`, {
        hint: 'Presets: smoke (seconds, for tests), demo (about 10 minutes on 2 cores).',
      });
    return { spec: f.preset === 'smoke' ? smokeSpec(paths) : demoSpec(paths), baseDir: process.cwd() };
  }
  if (!file)
    throw new AuditError('INVALID_ARGUMENT', 'run needs an audit spec file, --demo, --preset smoke or --resume ID', {
      hint: 'Example: ownership-audit run --demo',
    });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AuditError('SPEC_INVALID', 'The audit spec file cannot be read', {
      path: file,
      hint: 'Check the path and that the file is readable.',
      cause,
    });
  }
  let json: unknown;
  try {
    // A UTF-8 byte order mark (some Windows editors write one) is not part of the JSON.
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (cause) {
    throw new AuditError('SPEC_INVALID', `The audit spec cannot be read as JSON: ${jsonReason(cause)}`, {
      path: file,
      hint: 'Write the spec as a JSON document (see README, "Audit spec").',
      cause,
    });
  }
  const parsed = parseAuditSpec(json);
  if (!parsed.ok)
    throw new AuditError('SPEC_INVALID', `The audit spec is invalid:\n  ${parsed.problems.join('\n  ')}`, {
      path: file,
      hint: 'Fix the fields named above.',
    });
  return { spec: parsed.spec, baseDir: dirname(resolve(file)) };
}

/** The parser's reason without the file's text (V8 quotes a snippet of the input after a comma). */
function jsonReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/, ".*" is not valid JSON$/s, ' (not valid JSON)').slice(0, 200);
}

/** One status line per running job on a terminal; plain lines every few seconds otherwise. */
function progressPrinter(): (e: RunEvent) => void {
  const lastLine = new Map<string, number>();
  return (e) => {
    if (e.type === 'run')
      progress(`run ${e.runId}: ${e.status}${e.resumed ? ' (resumed)' : ''}, ${e.done}/${e.jobs} jobs done`);
    else if (e.type === 'job')
      progress(
        `  ${e.status.padEnd(9)} ${e.label}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}${e.error ? `: ${e.error}` : ''}`,
      );
    else {
      const now = Date.now();
      // Job start and end have their own lines; progress lines are rate-limited per job.
      if (now - (lastLine.get(e.key) ?? 0) < (process.stderr.isTTY ? 2000 : 10000)) return;
      lastLine.set(e.key, now);
      const pct = e.event.total ? Math.round((100 * e.event.iteration) / e.event.total) : 0;
      const bar = `${'#'.repeat(Math.round(pct / 5)).padEnd(20, '.')}`;
      const values = Object.entries(e.event.values ?? {})
        .filter(([k]) => ['loss', 'fidelity', 'accuracy'].includes(k))
        .map(([k, v]) => `${k} ${Number(v).toPrecision(3)}`)
        .join(' ');
      const eta = e.etaSeconds !== null ? `  audit ${e.done}/${e.total}, eta ${Math.round(e.etaSeconds / 60)} min` : '';
      progress(
        `  [${bar}] ${String(pct).padStart(3)}% ${e.label} ${e.event.iteration}/${e.event.total} ${values}${eta}`,
      );
    }
  };
}

export function registerRun(program: Command): void {
  program
    .command('run [spec]')
    .description('run an audit: calibration, attacks and verification as parallel jobs, stored in the run history')
    .option(
      '--demo',
      'the embedded default audit (demo victim and data, all defences, every attack, a calibration; about 10 minutes on 2 cores)',
    )
    .option('--preset <name>', 'a built-in spec: smoke (tiny, seconds) or demo')
    .option('--resume <runId>', 'continue this run')
    .option('--new', 'start a new run even when an unfinished run with the same spec exists')
    .option('--workers <n>', 'parallel worker processes (default: one per core; one on a GPU)', intArg(1))
    .option(
      '--home <dir>',
      'data folder with the run history (default: env OWNERSHIP_AUDIT_HOME or the per-user app data folder)',
    )
    .option('--json', 'print { runId, status, rows } as JSON')
    .option(
      '--queue <url>',
      'distribute the jobs over `ownership-audit worker` processes on other machines through Redis (redis://HOST:PORT or rediss://:PASSWORD@HOST:PORT)',
    )
    .option(
      '--shared <dir>',
      'with --queue: the folder every worker mounts (network filesystem) where the run keeps its files and artifacts',
    )
    .action(async (file: string | undefined, f: RunFlags) => {
      const mode = { json: Boolean(f.json) };
      let distributed: DistributedRun | undefined;
      try {
        if (Boolean(f.queue) !== Boolean(f.shared))
          throw new AuditError('INVALID_ARGUMENT', '--queue and --shared go together', {
            hint: 'A distributed run needs the queue (--queue redis://HOST:PORT) and the folder every worker mounts (--shared DIR).',
          });
        const home = resolveHome(f.home);
        const store = openStore(databasePath(home));
        try {
          let spec: AuditSpec;
          let baseDir: string;
          if (f.resume && !file && !f.demo && !f.preset) {
            const run = store.getRun(f.resume);
            if (!run)
              throw new AuditError('RUN_NOT_FOUND', `No run with id ${f.resume}`, {
                hint: 'List runs with `ownership-audit runs list`.',
              });
            spec = run.spec as AuditSpec;
            baseDir = process.cwd();
            const problems = validateAgainstRegistries(spec);
            if (problems.length)
              throw new AuditError('SPEC_INVALID', `The audit spec is invalid:\n  ${problems.join('\n  ')}`, {
                hint: 'Fix the fields named above; `ownership-audit attacks` lists attack parameters.',
              });
          } else {
            ({ spec, baseDir } = loadSpec(file, f));
            // The whole spec before anything starts: paths, blocks, a reused calibration.
            preflightSpec(spec, { store, home, baseDir }, file);
          }
          const backend = await initBackend(program.opts<{ backend?: string }>().backend);
          let queueWorkers: number | undefined;
          if (f.queue && f.shared) {
            distributed = await openDistributedRun({
              url: f.queue,
              sharedRoot: f.shared,
              store,
              backend: backend.backend,
            });
            const workers = await listQueueWorkers(distributed.connection);
            const own = workers.filter((w) => w.version === appVersion());
            // Sizes the ETA only: the queue hands jobs to however many workers there are.
            queueWorkers = Math.max(1, own.length);
            progress(
              `queue ${distributed.queue}: ${own.length} worker(s) of this version online${own.length ? '' : '; jobs wait until one starts (`ownership-audit worker --queue ...`)'}`,
            );
            const unserved = JOB_KINDS.filter((k) => own.length > 0 && !own.some((w) => w.kinds.includes(k)));
            if (unserved.length)
              progress(
                `  no online worker takes ${unserved.join(', ')} jobs: those wait until one does (worker --kinds)`,
              );
            for (const w of workers.filter((x) => x.version !== appVersion()))
              progress(`  worker ${w.id} runs version ${w.version}: it will not take this run's jobs`);
          }
          const handle = startAudit({
            store,
            home,
            spec,
            baseDir,
            workers: f.workers ?? queueWorkers,
            backend: backend.backend,
            workerEntry: process.argv[1],
            resumeRunId: f.resume,
            fresh: f.new,
            onEvent: progressPrinter(),
            ...(distributed ? { distributed } : {}),
          });
          let interrupts = 0;
          const onSignal = () => {
            interrupts += 1;
            if (interrupts > 1) {
              // Leave at once, but truthfully: workers killed, the run paused with no owner.
              handle.abandon();
              progress(`run ${handle.runId}: paused (left at once; resume with --resume ${handle.runId})`);
              process.exit(130);
            }
            progress(
              `pausing run ${handle.runId}: jobs stop at their next checkpoint (Ctrl-C again to leave at once; resume with --resume ${handle.runId})`,
            );
            handle.pause();
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
          const r = await handle.done;
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          // The run has stopped (a pause can land within milliseconds of the first Ctrl-C): a
          // second one now only leaves, with the interrupted status, instead of killing the
          // process by the signal's default action.
          const leave = () => process.exit(130);
          process.once('SIGINT', leave);
          process.once('SIGTERM', leave);
          const frontier = runFrontier(store, spec, r.table);
          emit(
            mode,
            runTableJson(r.table, frontier, mode.json ? runFalseClaims(store, r.table) : null),
            () => `run ${r.runId}: ${r.status}\n${formatRunTable(r.table, frontier)}`,
          );
          if (r.status !== 'completed') process.exitCode = r.status === 'paused' || r.status === 'cancelled' ? 130 : 3;
        } finally {
          store.close();
          await distributed?.close();
        }
      } catch (e) {
        fail(mode, e);
      }
    });
}
