/**
 * Runs one attack end to end from files: the victim, the attacker's substitute data (the
 * S_LTD share of its training split when a fraction is given, the whole split otherwise:
 * S_LSD; with `partition`, only that part of the split, e.g. the half the victim did not
 * train on), then fidelity on the test data and the surrogate saved with its lineage. The
 * workflow behind `ownership-audit attack` and the audit runner's attack jobs.
 */
import { resolve } from 'node:path';
import { resolveParams } from '../../../src-shared/params';
import { activeBackend } from '../backend';
import type { RunContext } from '../context';
import { classBalancedFraction, loadDataset, parsePartition, partition, subset, type ImageSet } from '../datasets';
import { AuditError } from '../errors';
import { loadModel, saveModel } from '../models/io';
import { REFERENCE_SEED_BASE } from '../calibration/calibrate';
import { evaluate, predictLabels } from '../training/evaluate';
import { getAttack } from './registry';
import type { AttackCompute, CurvePoint } from './types';

export interface RunAttackRequest {
  attack: string;
  victimDir: string;
  substituteDir: string;
  /** Test data for fidelity (default: the substitute directory's test split). */
  testDir?: string;
  /** S_LTD: this share of the substitute's training split, class-balanced (of `partition`'s part when both are set). */
  fraction?: number;
  /**
   * 'k/n': only part k of n of the substitute's training split, from the same class-stratified
   * partition as `TrainModelRequest.partition` with the same `partitionSeed`: a victim trained
   * on '0/2' and an attacker given '1/2' hold disjoint halves (S_LSD).
   */
  partition?: string;
  /** Seed of the partition (default 0); must equal the victim's `TrainModelRequest.partitionSeed`. */
  partitionSeed?: number;
  /** Keep at most this many training images of the substitute (class-balanced prefix, as the victim's `maxTrain`). */
  maxTrain?: number;
  params?: Record<string, unknown>;
  iterations: number;
  batchSize?: number;
  outDir: string;
  checkpointEvery?: number;
  keepTrajectory?: boolean;
  resume?: boolean;
  block?: string;
  maxTest?: number;
}

export interface RunAttackResult {
  model: string;
  attack: string;
  scenario: 'ltd' | 'lsd';
  lineage: string;
  fidelity: { accuracy: number; agreement: number; victimAccuracy: number };
  compute: AttackCompute & { passes: number };
  curve?: CurvePoint[];
  trajectory?: string[];
}

/** Default seed of `RunAttackRequest.partitionSeed`. */
export const DEFAULT_PARTITION_SEED = 0;

/**
 * The attacker's training images: part `partition` of the substitute's training split (when
 * set), then the class-balanced `fraction` of it drawn with `seed` (when set).
 */
export function substituteSet(
  train: ImageSet,
  req: Pick<RunAttackRequest, 'fraction' | 'partition' | 'partitionSeed'>,
  seed: number,
): ImageSet {
  let set = train;
  if (req.partition) {
    const { k, n } = parsePartition(req.partition);
    set = partition(set, k, n, req.partitionSeed ?? DEFAULT_PARTITION_SEED);
  }
  return req.fraction !== undefined ? classBalancedFraction(set, req.fraction, seed) : set;
}

export async function runAttack(ctx: RunContext, req: RunAttackRequest): Promise<RunAttackResult> {
  const attack = getAttack(req.attack);
  const params = resolveParams(attack.params, req.params ?? {});
  if (!params.ok) {
    throw new AuditError('INVALID_ARGUMENT', `Bad parameters for ${attack.id}: ${params.problems.join('; ')}`, {
      hint: `Parameters of ${attack.id}: ${attack.params.map((p) => p.key).join(', ')}.`,
    });
  }
  if (
    attack.role === 'independent' &&
    typeof params.values.seed === 'number' &&
    params.values.seed >= REFERENCE_SEED_BASE &&
    params.values.seed < REFERENCE_SEED_BASE + 1000
  ) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `The seed ${params.values.seed} of the independent model (${attack.name}) lies in the calibration references' seed range`,
      {
        hint: `Use a seed outside [${REFERENCE_SEED_BASE}, ${REFERENCE_SEED_BASE + 1000}): a reference that sets tau would flag itself.`,
      },
    );
  }
  if (req.fraction !== undefined && !(req.fraction > 0 && req.fraction <= 1)) {
    throw new AuditError('INVALID_ARGUMENT', `--fraction must be in (0, 1], got ${req.fraction}`, {
      hint: 'The paper uses 0.1 for S_LTD.',
    });
  }
  if (req.partition) parsePartition(req.partition); // refuse a bad partition before loading anything
  const victim = await loadModel(req.victimDir);
  try {
    const pre = { inputShape: victim.meta.inputShape, normalization: victim.meta.normalization, maxTest: req.maxTest };
    const sub = await loadDataset(req.substituteDir, { ...pre, maxTrain: req.maxTrain });
    const test = req.testDir ? (await loadDataset(req.testDir, { ...pre, maxTrain: 1 })).test : sub.test;
    const scenario = req.fraction !== undefined ? 'ltd' : 'lsd';
    const substitute = substituteSet(sub.train, req, ctx.seed);
    // A held-out slice for the fidelity curve during the run; the final figures use all of `test`.
    const heldOut = subset(
      test,
      Int32Array.from({ length: Math.min(1000, test.count) }, (_, i) =>
        Math.floor((i * test.count) / Math.min(1000, test.count)),
      ),
    );
    const result = await attack.run(ctx, {
      victim,
      substitute,
      heldOut,
      params: params.values,
      iterations: req.iterations,
      batchSize: req.batchSize,
      checkpoint: req.checkpointEvery
        ? { dir: `${resolve(req.outDir)}.work`, every: req.checkpointEvery, keepTrajectory: req.keepTrajectory }
        : undefined,
      resume: req.resume,
      block: req.block,
      scenario,
    });
    try {
      const accuracy = evaluate(result.model, test).accuracy;
      const victimLabels = predictLabels(victim.model, test);
      const surrogateLabels = predictLabels(result.model, test);
      const agreement =
        victimLabels.reduce((n, v, i) => n + (v === surrogateLabels[i] ? 1 : 0), 0) / Math.max(1, test.count);
      const victimAccuracy =
        victimLabels.reduce((n, v, i) => n + (v === test.labels[i] ? 1 : 0), 0) / Math.max(1, test.count);
      const meta = await saveModel(result.model, req.outDir, {
        ...result.modelMeta,
        testAccuracy: accuracy,
        seed: ctx.seed,
        backend: activeBackend()?.backend,
      });
      return {
        model: resolve(req.outDir),
        attack: attack.id,
        scenario,
        lineage: meta.lineage,
        fidelity: { accuracy, agreement, victimAccuracy },
        compute: { ...result.compute, passes: result.compute.forwardPasses + result.compute.backwardPasses },
        ...(result.curve ? { curve: result.curve } : {}),
        ...(result.trajectory ? { trajectory: result.trajectory } : {}),
      };
    } finally {
      result.model.dispose();
    }
  } finally {
    victim.model.dispose();
  }
}
