/**
 * Built-in audit specs: `demoSpec`, the embedded default audit (`ownership-audit run
 * --demo`), and `smokeSpec`, a tiny one for tests and quick checks (`--preset smoke`).
 * Both use the committed demo victim and demo data (Fashion-MNIST subset: 20,000 training
 * and 5,000 test images), so they run without downloading anything.
 */
import type { AuditSpec } from '../../src-shared/audit/spec';
import { distill } from '../engine/attacks/distill';
import { fineTune } from '../engine/attacks/finetune';
import { knockoff } from '../engine/attacks/knockoff';
import { negative } from '../engine/attacks/negative';
import { prune } from '../engine/attacks/prune';
import { removalNet } from '../engine/attacks/removalnet';
import { deepJudgeDefense } from '../engine/defenses/deepjudge';
import { ipGuardDefense } from '../engine/defenses/ipguard';
import { modelDiffDefense } from '../engine/defenses/modeldiff';
import { zestDefense } from '../engine/defenses/zest';

export interface PresetPaths {
  /** The demo victim model directory (resources/models/demo-victim). */
  demoModel: string;
  /** The demo data set directory (resources/datasets/fashion-mnist-demo). */
  demoData: string;
}

/**
 * Seconds, not minutes, on 2 cores: every size at its cheapest valid value. Not a
 * meaningful audit (20-iteration references, 5-10-iteration attacks); it exercises every
 * job kind, checkpoint scoring and the results table end to end.
 */
export function smokeSpec(paths: PresetPaths): AuditSpec {
  return {
    version: 1,
    name: 'smoke',
    victim: { model: paths.demoModel },
    data: { train: paths.demoData, maxTest: 200 },
    scenarios: [{ id: 'ltd2', kind: 'ltd', fraction: 0.02 }],
    defenses: [
      // 10 seeds, 5 fuzzing steps each.
      { id: deepJudgeDefense.id, params: { seeds: 10, fuzzSteps: 5 } },
      // 10 pairs, 2 PGD steps.
      { id: modelDiffDefense.id, params: { seeds: 10, pgdSteps: 2 } },
      // 10 boundary fingerprints, at most 20 Adam steps each.
      { id: ipGuardDefense.id, params: { fingerprints: 10, steps: 20 } },
      // 4 reference images, 20 masks each.
      { id: zestDefense.id, params: { references: 4, masks: 20 } },
    ],
    calibration: { references: 2, referenceIterations: 10 },
    attacks: [
      { name: fineTune.id, seeds: [1], iterations: 10 },
      { name: removalNet.id, params: { latentSteps: 2 }, seeds: [1], iterations: 5 },
      { name: negative.id, seeds: [777], iterations: 20 },
    ],
    checkpoints: { every: 5, metrics: ['deepjudge.lod'] },
    verdict: { rule: 'majority' },
  };
}

/**
 * The embedded default audit, sized for about 10 minutes with 2 workers on the 2-core
 * reference machine (AMD EPYC, wasm backend). Job times of the demo run of 2026-12-07 after
 * the training kernels of issue 17 (`run --demo` from a cold home; "+8" is the per-attack
 * overhead: loading, fidelity curve, final evaluation, saving):
 *
 *   job                          | n | iterations | seconds each            | worker-seconds
 *   -----------------------------|---|------------|-------------------------|---------------
 *   reference (victim recipe)    | 5 | ~1248 +-10%| 132-144                 |  680
 *   calibrate                    | 1 |            | 31                      |   31
 *   finetune(ratio=0.5)          | 2 | 300        | 0.034 s/it -> 10 + 8    |   36
 *   prune(ratio=0.5)             | 1 | 300        | 0.10 s/it  -> 30 + 8    |   38
 *   distill                      | 1 | 300        | 0.14 s/it  -> 41 + 8    |   49
 *   knockoff                     | 1 | 300        | 0.12 s/it  -> 35 + 8    |   43
 *   removalnet (block3)          | 1 | 1000       | 0.21       -> 211 + 8   |  219
 *   negative (seed 777)          | 1 | 300        | 0.10 s/it  -> 30 + 8    |   38
 *   score (maxTest 1000)         | 7 |            | 3-8                     |   29
 *   total                        |   |            |                         | ~1160 -> 587 s wall
 *
 * The scheduler runs the longest chains first (the references), so the attacks fill the
 * second worker while the last reference trains and the calibration runs; the wall time is
 * about half the total plus worker start-up. The references keep the victim's full recipe
 * because weaker references would loosen every threshold. (Before issue 17's kernels: 1,098
 * to 1,185 s, references 235-350 s each.)
 *
 * RemovalNet runs the paper's 1000 iterations with the authors' latent search (the
 * attack's defaults) at block3, DeepJudge's block on this 3-block cnn, with the feature term
 * weighted beta = 1 instead of the code's 2: on the demo victim (seed 1, S_LTD 10%) beta 2
 * cost 4.2 points of accuracy, beta 1 cost 2.2 and still left every DeepJudge and ZEST
 * metric beyond its threshold (bench/results/removalnet-variants.json).
 *
 * Where this departs from the paper for the budget:
 * - the baselines run 300 iterations (the paper: 1000 for each attack);
 * - the negative model trains 300 iterations from scratch (the paper trains negative models
 *   with the victim's recipe, here ~1248 iterations, 240 s);
 * - one seed per row except FT (two): the paper averages several suspects per row;
 * - fidelity and fingerprints use a 1,000-image class-balanced prefix of the 5,000 test images;
 * - the trajectory (paper Fig. 4-5) follows the RemovalNet row alone, on DeepJudge LOD, every
 *   200 iterations: each scored checkpoint costs seconds on the critical path, and the
 *   baselines' trajectories add nothing the table does not show.
 * Kept from the paper: S_LTD = 10% of the victim's training data, FT and pruning ratio 0.5,
 * all four defences with their default parameters, K = 5 reference models trained with the
 * victim's recipe, the majority vote.
 */
export function demoSpec(paths: PresetPaths): AuditSpec {
  return {
    version: 1,
    name: 'demo',
    victim: { model: paths.demoModel },
    data: { train: paths.demoData, maxTest: 1000 },
    scenarios: [{ id: 'ltd10', kind: 'ltd', fraction: 0.1 }],
    defenses: [
      { id: deepJudgeDefense.id },
      { id: zestDefense.id },
      { id: modelDiffDefense.id },
      { id: ipGuardDefense.id },
    ],
    calibration: { references: 5 },
    attacks: [
      { name: fineTune.id, params: { ratio: 0.5 }, seeds: [1, 2], iterations: 300 },
      { name: prune.id, params: { ratio: 0.5 }, seeds: [1], iterations: 300 },
      { name: distill.id, seeds: [1], iterations: 300 },
      { name: knockoff.id, seeds: [1], iterations: 300 },
      {
        name: removalNet.id,
        params: { beta: 1 },
        block: 'block3',
        seeds: [1],
        iterations: 1000,
        checkpoints: { every: 200, metrics: ['deepjudge.lod'] },
      },
      { name: negative.id, seeds: [777], iterations: 300 },
    ],
    verdict: { rule: 'majority' },
  };
}
