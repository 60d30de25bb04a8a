/**
 * Runner speed-up: the same grid of equal jobs (fine-tuning attacks on the demo victim, one
 * per seed) pushed through the runner's worker processes with 1 and with W workers,
 * median wall time of `reps` repetitions each. Measures what parallel worker processes buy
 * on this machine (process start, backend init and data loading included). The grid's jobs
 * run single-threaded; `loneThreads` adds one such job run alone on each thread count
 * (interleaved per repetition), which is what the runner's core sharing buys a job left alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker } from './worker-process';
import { fineTune } from '../engine/attacks/finetune';
import type { JobInput } from './executors';
import type { AttackPayload } from './jobs';

export interface RunnerBenchOptions {
  entry: string;
  backend: string;
  victimDir: string;
  dataDir: string;
  jobs: number;
  iterations: number;
  workers: number[];
  reps: number;
  /** Thread counts to run one job alone on (wasm backend; left out: not measured). */
  loneThreads?: number[];
  onLog?: (line: string) => void;
}

export interface LoneJobResult {
  byThreads: { threads: number; seconds: number[]; medianSeconds: number }[];
  /** Median seconds on 1 thread over median seconds on the most threads measured. */
  speedup: number;
}

export interface RunnerBenchResult {
  jobs: number;
  iterations: number;
  attack: string;
  reps: number;
  byWorkers: { workers: number; seconds: number[]; medianSeconds: number }[];
  speedup: number;
  loneJob?: LoneJobResult;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function fineTuneJob(o: RunnerBenchOptions, outDir: string, seed: number): JobInput {
  const payload: AttackPayload = {
    attack: fineTune.id,
    victimDir: o.victimDir,
    substituteDir: o.dataDir,
    fraction: 0.1,
    iterations: o.iterations,
    outDir,
    seed,
    maxTest: 1000,
    params: { ratio: 0.5 },
    rowId: 'bench',
    scenario: 'ltd10',
    label: `bench ${seed}`,
    suspectKey: `attack:bench:ltd10:${seed}`,
  };
  return { kind: 'attack', payload, deps: {} };
}

async function runGrid(o: RunnerBenchOptions, workers: number, dir: string): Promise<number> {
  const queue = Array.from({ length: o.jobs }, (_, i) => i);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const job = fineTuneJob(o, join(dir, `ft-${workers}-${i}`), i + 1);
        await startWorker(job, { entry: o.entry, backend: o.backend }).result;
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

async function runLone(o: RunnerBenchOptions, threads: number, dir: string): Promise<number> {
  const t0 = performance.now();
  const job = fineTuneJob(o, join(dir, `lone-${threads}`), 1);
  await startWorker(job, { entry: o.entry, backend: o.backend, threads }).result;
  return (performance.now() - t0) / 1000;
}

async function benchLoneJob(o: RunnerBenchOptions, threads: number[], dir: string): Promise<LoneJobResult> {
  const seconds = new Map(threads.map((t) => [t, [] as number[]]));
  for (let r = 0; r < o.reps; r++) {
    // Alternating order, so that neither count always runs first.
    for (const t of r % 2 ? [...threads].reverse() : threads) {
      const s = await runLone(o, t, dir);
      seconds.get(t)?.push(s);
      o.onLog?.(`1 job alone on ${t} thread(s): ${s.toFixed(1)} s`);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const byThreads = threads.map((t) => ({
    threads: t,
    seconds: seconds.get(t) ?? [],
    medianSeconds: median(seconds.get(t) ?? []),
  }));
  const one = byThreads.find((b) => b.threads === 1)?.medianSeconds ?? NaN;
  const most = byThreads.reduce((a, b) => (b.threads > a.threads ? b : a)).medianSeconds;
  return { byThreads, speedup: one / most };
}

export async function benchRunner(o: RunnerBenchOptions): Promise<RunnerBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'oa-runner-bench-'));
  try {
    const byWorkers: RunnerBenchResult['byWorkers'] = [];
    for (const w of o.workers) {
      const seconds: number[] = [];
      for (let r = 0; r < o.reps; r++) {
        seconds.push(await runGrid(o, w, dir));
        o.onLog?.(`${o.jobs} jobs with ${w} worker(s): ${seconds[seconds.length - 1].toFixed(1)} s`);
        rmSync(dir, { recursive: true, force: true });
      }
      byWorkers.push({ workers: w, seconds, medianSeconds: median(seconds) });
    }
    const one = byWorkers.find((b) => b.workers === 1)?.medianSeconds ?? NaN;
    const best = Math.min(...byWorkers.map((b) => b.medianSeconds));
    const loneJob = o.loneThreads?.length ? await benchLoneJob(o, o.loneThreads, dir) : undefined;
    return {
      jobs: o.jobs,
      iterations: o.iterations,
      attack: 'finetune(ratio=0.5)',
      reps: o.reps,
      byWorkers,
      speedup: one / best,
      ...(loneJob ? { loneJob } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
