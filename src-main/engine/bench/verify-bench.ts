/**
 * Verification benchmark: per defence, the time to extract fingerprints from a victim, the
 * model queries spent, and the time to score one suspect; compared with the time the
 * engine needs for the same number of plain forward passes, so that the metric math (not
 * the model) being the bottleneck shows as a ratio above 1.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunContext } from '../context';
import type { ImageSet } from '../datasets/types';
import { resolveDefenses } from '../calibration/calibrate';
import type { LoadedModel } from '../models/io';
import { batchTensors } from '../training/batch';

export interface DefenseBenchResult {
  defense: string;
  extractSeconds: number;
  extractQueries: number;
  scoreSeconds: number;
  scoreQueries: number;
  /** Seconds the engine needs for scoreQueries forward passes of the suspect (batch 128). */
  forwardSecondsForScoreQueries: number;
  /** scoreSeconds / forwardSecondsForScoreQueries: target <= 1.25. */
  scoreOverhead: number;
}

/** Forward passes per second of a model on real inputs, batch 128, median of `reps`. */
export function forwardRate(model: tf.LayersModel, data: ImageSet, reps = 5): number {
  const idx = Int32Array.from({ length: Math.min(128, data.count) }, (_, i) => i);
  const { x, y } = batchTensors(data, idx);
  const times: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const t = performance.now();
    const out = tf.tidy(() => model.predict(x) as tf.Tensor);
    out.dataSync();
    out.dispose();
    if (i >= 2) times.push(performance.now() - t);
  }
  tf.dispose([x, y]);
  times.sort((a, b) => a - b);
  return (idx.length * 1000) / times[Math.floor(times.length / 2)];
}

export async function benchVerify(
  victim: LoadedModel,
  suspect: LoadedModel,
  data: ImageSet,
  defenseIds: string[],
  seed = 0,
): Promise<DefenseBenchResult[]> {
  const rate = forwardRate(suspect.model, data);
  const results: DefenseBenchResult[] = [];
  for (const { defense, params } of resolveDefenses(defenseIds)) {
    let scoreQueries = 0;
    const ctx: RunContext = {
      seed,
      progress: (e) => {
        if (e.stage.endsWith('.score') && e.values?.queries !== undefined) scoreQueries = e.values.queries;
      },
    };
    let t = performance.now();
    const fingerprints = await defense.extract(ctx, victim, data, params);
    const extractSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    await defense.score(ctx, victim, suspect, fingerprints);
    const scoreSeconds = (performance.now() - t) / 1000;
    const forwardSeconds = scoreQueries / rate;
    results.push({
      defense: defense.id,
      extractSeconds,
      extractQueries: fingerprints.queries,
      scoreSeconds,
      scoreQueries,
      forwardSecondsForScoreQueries: forwardSeconds,
      scoreOverhead: forwardSeconds > 0 ? scoreSeconds / forwardSeconds : Number.NaN,
    });
  }
  return results;
}
