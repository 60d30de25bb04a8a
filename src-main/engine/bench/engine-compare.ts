/**
 * The engine against PyTorch on the same machine, in one run (issue 17 item 4). Rounds are
 * interleaved (engine, then PyTorch, then the engine again...) so that a machine that slows
 * down or speeds up during the run (another process, thermal limits) weighs on both sides
 * alike; each figure is the median over the rounds of the per-round medians. Ratios are the
 * engine's examples/s over PyTorch's on the architectures both sides build (cnn28, vggbn32),
 * and the targets are checked against the medians, met or not, never rounded up.
 */
import type { ModelBenchResult } from './engine-bench';

/** One line of the PyTorch reference script (`bench.py --json`). */
export interface PytorchFigure {
  engine: string;
  version: string;
  threads: number;
  arch: string;
  batch: number;
  trainExPerSec: number;
  inferExPerSec: number;
}

export interface BenchRound {
  engine: ModelBenchResult[];
  pytorch: PytorchFigure[];
}

export interface EngineRatio {
  arch: string;
  /** PyTorch's thread count this ratio is against. */
  threads: number;
  /** Engine train ex/s (one process, as many threads as PyTorch) over PyTorch's. */
  train: number;
  /** Engine inference ex/s over PyTorch's. */
  infer: number;
}

export interface TargetCheck {
  target: string;
  arch: string;
  measured: number;
  required: number;
  met: boolean;
}

export interface EngineComparison {
  rounds: number;
  /** Per architecture and thread count: the median over rounds of each figure. */
  models: (ModelBenchResult & { trainOverInferGflops: number })[];
  pytorch: PytorchFigure[];
  ratios: EngineRatio[];
  targets: TargetCheck[];
}

/** Issue 17's thresholds: training GFLOP/s against inference of the same model, and throughput against PyTorch with 2 threads. */
export const TRAIN_OVER_INFER_TARGET = 0.8;
export const PYTORCH_2T_TRAIN_TARGETS: Record<string, number> = { cnn28: 1.2, vggbn32: 0.45 };

export function medianOf(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function medianEngine(all: ModelBenchResult[]): ModelBenchResult {
  const m = (pick: (r: ModelBenchResult) => number) => medianOf(all.map(pick));
  return {
    ...all[0],
    inferExPerSec: m((r) => r.inferExPerSec),
    trainExPerSec: m((r) => r.trainExPerSec),
    inferGflops: m((r) => r.inferGflops),
    trainGflops: m((r) => r.trainGflops),
  };
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) out.set(key(it), [...(out.get(key(it)) ?? []), it]);
  return out;
}

/** Medians over the rounds, the engine/PyTorch ratios and the targets. */
export function compareRounds(rounds: BenchRound[]): EngineComparison {
  const models = [
    ...groupBy(
      rounds.flatMap((r) => r.engine),
      (r) => `${r.arch}/${r.threads}`,
    ).values(),
  ].map((all) => {
    const med = medianEngine(all);
    return { ...med, trainOverInferGflops: med.trainGflops / med.inferGflops };
  });
  const pytorch = [
    ...groupBy(
      rounds.flatMap((r) => r.pytorch),
      (p) => `${p.arch}/${p.threads}`,
    ).values(),
  ].map((all) => ({
    ...all[0],
    trainExPerSec: medianOf(all.map((p) => p.trainExPerSec)),
    inferExPerSec: medianOf(all.map((p) => p.inferExPerSec)),
  }));
  const ratios: EngineRatio[] = [];
  for (const p of pytorch) {
    const e = models.find((m) => m.arch === p.arch && m.threads === p.threads);
    if (e)
      ratios.push({
        arch: p.arch,
        threads: p.threads,
        train: e.trainExPerSec / p.trainExPerSec,
        infer: e.inferExPerSec / p.inferExPerSec,
      });
  }
  const targets: TargetCheck[] = models.map((m) => ({
    target: `training GFLOP/s >= ${TRAIN_OVER_INFER_TARGET}x inference GFLOP/s (${m.threads} thread${m.threads > 1 ? 's' : ''})`,
    arch: m.arch,
    measured: m.trainOverInferGflops,
    required: TRAIN_OVER_INFER_TARGET,
    met: m.trainOverInferGflops >= TRAIN_OVER_INFER_TARGET,
  }));
  for (const [arch, required] of Object.entries(PYTORCH_2T_TRAIN_TARGETS)) {
    const r = ratios.find((x) => x.arch === arch && x.threads === 2);
    if (r)
      targets.push({
        target: `training ex/s >= ${required}x PyTorch (2 threads)`,
        arch,
        measured: r.train,
        required,
        met: r.train >= required,
      });
  }
  return { rounds: rounds.length, models, pytorch, ratios, targets };
}
