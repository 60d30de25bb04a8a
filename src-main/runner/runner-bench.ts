/**
 * Runner speed-up: the same grid of equal jobs (fine-tuning attacks on the demo victim, one
 * per seed) pushed through the runner's worker processes with 1 and with W workers,
 * median wall time of `reps` repetitions each. Measures what parallel worker processes buy
 * on this machine (process start, backend init and data loading included).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker } from './worker-process';
import { fineTune } from '../engine/attacks/finetune';
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
  onLog?: (line: string) => void;
}

export interface RunnerBenchResult {
  jobs: number;
  iterations: number;
  attack: string;
  reps: number;
  byWorkers: { workers: number; seconds: number[]; medianSeconds: number }[];
  speedup: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function runGrid(o: RunnerBenchOptions, workers: number, dir: string): Promise<number> {
  const queue = Array.from({ length: o.jobs }, (_, i) => i);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const payload: AttackPayload = {
          attack: fineTune.id,
          victimDir: o.victimDir,
          substituteDir: o.dataDir,
          fraction: 0.1,
          iterations: o.iterations,
          outDir: join(dir, `ft-${workers}-${i}`),
          seed: i + 1,
          maxTest: 1000,
          params: { ratio: 0.5 },
          rowId: 'bench',
          scenario: 'ltd10',
          label: `bench ${i}`,
          suspectKey: `attack:bench:ltd10:${i}`,
        };
        await startWorker({ kind: 'attack', payload, deps: {} }, { entry: o.entry, backend: o.backend }).result;
      }
    }),
  );
  return (performance.now() - t0) / 1000;
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
    return {
      jobs: o.jobs,
      iterations: o.iterations,
      attack: 'finetune(ratio=0.5)',
      reps: o.reps,
      byWorkers,
      speedup: one / best,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
