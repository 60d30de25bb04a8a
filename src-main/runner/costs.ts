/**
 * The planner's cost model: each job's estimated seconds on the wasm backend (its weight),
 * for the ETA, the estimate the wizard shows and the scheduler's ordering. Attack rates
 * come from the attacks' registry entries.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACKS } from '../engine/attacks/registry';

// Cost model (weights). Measured on the 2-core AMD EPYC machine, wasm backend, demo cnn on
// Fashion-MNIST, batch 128 (the demo run of 2026-12-07 after the training kernels of issue 17:
// its job times):
//
//   job            | estimate
//   ---------------|-----------------------------------------------------------------------
//   attack         | ATTACK_OVERHEAD_SECONDS + iterations * rate * batchSize / 128, rate: the
//                  |   attack's own `secondsPerIteration` (its registry entry says what it rests on)
//   victim, ref.   | TRAINING_OVERHEAD_SECONDS + iterations * 0.105 s/it (references: 1235 it in 134 s)
//   calibrate      | 30 s + 10 s per reference (fingerprints, scoring every reference)
//   score          | 15 s + 5 s per scored checkpoint
//
// Iterations of the references follow the victim's recipe unless the spec sets them: read
// from the victim's metadata when it is a model directory, else the spec's training
// recipe; DEFAULT_TRAINING_ITERATIONS when neither says.

/** Loading victim and data, the fidelity curve, the final evaluation and saving. */
export const ATTACK_OVERHEAD_SECONDS = 8;
export const TRAINING_SECONDS_PER_ITERATION = 0.105;
export const TRAINING_OVERHEAD_SECONDS = 5;
export const CALIBRATE_BASE_SECONDS = 30;
export const CALIBRATE_SECONDS_PER_REFERENCE = 10;
export const SCORE_BASE_SECONDS = 15;
export const SCORE_SECONDS_PER_CHECKPOINT = 5;
/** The demo victim's recipe (2.5 epochs of 20,000 images at batch 128 is 391; 1248 as trained). */
export const DEFAULT_TRAINING_ITERATIONS = 1250;
/** Training images assumed when only epochs are known and the spec sets no maxTrain (the demo set). */
export const ASSUMED_TRAINING_IMAGES = 20_000;

/** Iterations of a model directory's recorded training recipe, if it has one. */
export function recordedIterations(modelDir: string): number | undefined {
  try {
    const meta = JSON.parse(readFileSync(join(modelDir, 'ownership-audit.json'), 'utf8')) as {
      training?: { iterations?: unknown };
    };
    const it = meta.training?.iterations;
    return typeof it === 'number' && it > 0 ? it : undefined;
  } catch {
    return undefined;
  }
}

export function epochIterations(epochs: number, batchSize: number | undefined, maxTrain: number | undefined): number {
  return Math.ceil((epochs * (maxTrain ?? ASSUMED_TRAINING_IMAGES)) / (batchSize ?? 128));
}

/** Seconds per iteration at batch 128 assumed for an attack the registry does not know. */
const UNKNOWN_ATTACK_SECONDS_PER_ITERATION = 0.14;

export function attackWeight(name: string, iterations: number, batchSize = 128): number {
  const rate = ATTACKS.find((a) => a.id === name)?.secondsPerIteration ?? UNKNOWN_ATTACK_SECONDS_PER_ITERATION;
  return Math.round(ATTACK_OVERHEAD_SECONDS + (iterations * rate * batchSize) / 128);
}

export function trainingWeight(iterations: number): number {
  return Math.round(TRAINING_OVERHEAD_SECONDS + iterations * TRAINING_SECONDS_PER_ITERATION);
}
