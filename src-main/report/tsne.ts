/**
 * A seeded, time-boxed t-SNE with tsne-js (exact O(N^2) t-SNE in plain JavaScript: about
 * 35 ms per iteration at 300 points, so the report keeps it to a few hundred points).
 *
 * tsne-js draws its initial embedding from Math.random; it is replaced here, before the
 * first step, with small Gaussians from the engine's seeded generator, so the same inputs
 * and seed give the same map. The time box stops the optimisation between two steps
 * (tsne-js emits 'progressIter' synchronously before each update, and a throw from the
 * listener leaves the embedding as it was after the previous step).
 */
import TSNE from 'tsne-js';
import { createRng } from '../engine/rng';

export interface TsneOptions {
  seed?: number;
  /** Clamped to (points - 1) / 3. Default 30. */
  perplexity?: number;
  /** Upper bound on iterations (tsne-js runs at least 150 unless the time box stops it). Default 300. */
  iterations?: number;
  /** Wall-clock budget for the optimisation. Default 5 s. */
  maxSeconds?: number;
  learningRate?: number;
}

export interface TsneResult {
  points: [number, number][];
  iterations: number;
  /** The time box stopped it before convergence or the iteration limit. */
  timedOut: boolean;
  seconds: number;
}

class TimeBox extends Error {}

export function runTsne(rows: number[][], opts: TsneOptions = {}): TsneResult {
  const started = performance.now();
  const n = rows.length;
  if (n < 4) return { points: rows.map((_, i) => [i, 0]), iterations: 0, timedOut: false, seconds: 0 };
  const perplexity = Math.max(2, Math.min(opts.perplexity ?? 30, Math.floor((n - 1) / 3)));
  const model = new TSNE({
    dim: 2,
    perplexity,
    earlyExaggeration: 4,
    learningRate: opts.learningRate ?? 100,
    nIter: opts.iterations ?? 300,
    metric: 'euclidean',
  });
  model.init({ data: rows, type: 'dense' });
  const rng = createRng(opts.seed ?? 0);
  const gauss = (): number => {
    // Box-Muller on the seeded uniform generator.
    const u = Math.max(rng.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  };
  const init = model.outputEmbedding.data;
  for (let i = 0; i < init.length; i++) init[i] = gauss() * 1e-4;
  const budgetMs = (opts.maxSeconds ?? 5) * 1000;
  let iterations = 0;
  let timedOut = false;
  model.on('progressIter', () => {
    if (performance.now() - started > budgetMs) throw new TimeBox();
    iterations += 1;
  });
  try {
    model.run();
  } catch (e) {
    if (!(e instanceof TimeBox)) throw e;
    timedOut = true;
  }
  const out = model.getOutput();
  return { points: out.map((p) => [p[0], p[1]]), iterations, timedOut, seconds: (performance.now() - started) / 1000 };
}
