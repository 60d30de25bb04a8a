/**
 * What one job does, inside a worker process: each job kind calls the engine workflow that
 * the single-purpose CLI commands use (train, calibrate, attack, verify), so an audit run
 * and a hand-made sequence of commands give the same models and numbers.
 *
 * Every executor is resumable: trainings and attacks checkpoint into their output's
 * working folder and continue from there when the job is started again after a crash;
 * finished outputs on disk (a trained reference, a calibration) are reused.
 */
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { runAttack, type RunAttackResult } from '../engine/attacks/run-attack';
import { calibrate, planReferences, reuseStoredReference, storeReference } from '../engine/calibration/calibrate';
import { ArtifactStore } from '../engine/artifacts/store';
import { readCalibration } from '../engine/calibration/calibration-file';
import { loadCalibratedFingerprints, verify } from '../engine/calibration/verify';
import { scoreSuspect } from '../engine/calibration/calibrate';
import { throwIfCancelled, type RunContext } from '../engine/context';
import { loadDataset } from '../engine/datasets';
import { AuditError } from '../engine/errors';
import { loadModel } from '../engine/models/io';
import { evaluate, predictLabels } from '../engine/training/evaluate';
import { trainModel, type TrainModelRequest } from '../engine/training/train-model';
import { applyThresholds, type MetricScore } from '../engine/verdict/verdict';
import {
  unknownJobKind,
  type AnyJobResult,
  type AttackPayload,
  type CalibrateJobResult,
  type CalibratePayload,
  type CheckpointScore,
  type ReferencePayload,
  type ReferenceResult,
  type ScoreJobResult,
  type ScorePayload,
  type TrainVictimResult,
  type TypedJob,
} from './jobs';

/** Checkpoint interval of victim and reference trainings started by the runner. */
const TRAINING_CHECKPOINT_EVERY = 100;

/** A job as a worker receives it: typed by kind, with the results of its dependencies by key. */
export type JobInput = TypedJob & { deps: Record<string, AnyJobResult | undefined> };

export type { CalibrateJobResult, CheckpointScore, ScoreJobResult, TrainVictimResult } from './jobs';

export async function executeJob(ctx: RunContext, job: JobInput): Promise<AnyJobResult> {
  switch (job.kind) {
    case 'train-victim':
      return trainVictim(ctx, job.payload);
    case 'reference':
      return trainReference(ctx, job.payload);
    case 'calibrate':
      return calibrateJob(ctx, job.payload);
    case 'attack':
      return attackJob(ctx, job.payload);
    case 'score':
      return scoreJob(ctx, job.payload, job.deps);
    default:
      // A job arrives as JSON from the runner: a kind this version does not know is refused.
      throw unknownJobKind((job as { kind: string }).kind);
  }
}

function trainingProgress(ctx: RunContext, stage: string): TrainModelRequest['onProgress'] {
  return (p) =>
    ctx.progress?.({
      stage,
      iteration: p.iteration,
      total: p.totalIterations,
      values: { loss: p.loss, accuracy: p.accuracy, examplesPerSec: p.examplesPerSec },
    });
}

async function trainVictim(ctx: RunContext, req: TrainModelRequest): Promise<TrainVictimResult> {
  if (existsSync(`${req.outDir}/model.json`)) {
    // Finished before a crash that came between saving and recording: keep it.
    const { model, meta } = await loadModel(req.outDir);
    model.dispose();
    return {
      model: req.outDir,
      testAccuracy: meta.testAccuracy ?? NaN,
      contentHash: meta.contentHash,
      arch: meta.arch,
      lineage: meta.lineage,
      seconds: 0,
    };
  }
  const r = await trainModel({
    ...req,
    checkpointEvery: TRAINING_CHECKPOINT_EVERY,
    resume: true,
    signal: ctx.signal,
    onProgress: trainingProgress(ctx, 'train-victim'),
  });
  return {
    model: r.model,
    testAccuracy: r.testAccuracy,
    contentHash: r.meta.contentHash,
    arch: r.meta.arch,
    lineage: r.meta.lineage,
    seconds: r.trainSeconds,
  };
}

async function trainReference(ctx: RunContext, p: ReferencePayload): Promise<ReferenceResult> {
  const victim = await loadModel(p.calibrate.victimDir);
  victim.model.dispose();
  const plan = planReferences(p.calibrate, victim.meta, p.calibrate.outFile)[p.index];
  if (!plan)
    throw new AuditError('INVALID_ARGUMENT', `Reference ${p.index} is not in the calibration plan`, {
      hint: 'Start a new run: the plan changed.',
    });
  // A reference trained for the same victim, data, recipe, seed and backend by an earlier audit.
  const store = p.artifacts ? new ArtifactStore(p.artifacts, ctx.log) : undefined;
  if (store) reuseStoredReference(store, plan, victim.meta.contentHash, ctx.log);
  if (existsSync(`${plan.dir}/model.json`)) {
    const { model, meta } = await loadModel(plan.dir);
    model.dispose();
    if (meta.seed === plan.seed) return { model: plan.dir, testAccuracy: meta.testAccuracy ?? NaN, seed: plan.seed };
  }
  const r = await trainModel({
    ...plan.request,
    checkpointEvery: TRAINING_CHECKPOINT_EVERY,
    resume: true,
    signal: ctx.signal,
    onProgress: trainingProgress(ctx, `reference-${p.index}`),
  });
  if (store) storeReference(store, plan, victim.meta.contentHash);
  return { model: r.model, testAccuracy: r.testAccuracy, seed: plan.seed };
}

async function calibrateJob(ctx: RunContext, req: CalibratePayload): Promise<CalibrateJobResult> {
  if ('reuse' in req) {
    const c = readCalibration(req.reuse);
    const victim = await loadModel(req.victimDir);
    victim.model.dispose();
    // Throws CALIBRATION_MISMATCH when made for another victim or when its fingerprints changed.
    loadCalibratedFingerprints(c, req.reuse, victim.meta.contentHash);
    return {
      file: req.reuse,
      victimHash: c.victim.contentHash,
      metrics: c.metrics.map((m) => ({ id: m.id, kind: m.kind, tau: m.tau, degenerate: m.degenerate })),
    };
  }
  // The references were trained by their own jobs into the planned folders; calibrate reuses them.
  const r = await calibrate(ctx, { ...req, workers: 1 });
  return {
    file: r.file,
    victimHash: r.calibration.victim.contentHash,
    metrics: r.calibration.metrics.map((m) => ({ id: m.id, kind: m.kind, tau: m.tau, degenerate: m.degenerate })),
  };
}

async function attackJob(ctx: RunContext, req: AttackPayload): Promise<RunAttackResult> {
  return runAttack({ ...ctx, seed: req.seed }, { ...req, resume: true });
}

async function scoreJob(
  ctx: RunContext,
  p: ScorePayload,
  deps: Record<string, AnyJobResult | undefined>,
): Promise<ScoreJobResult> {
  const attack = Object.values(deps).find(
    (d): d is RunAttackResult => typeof d === 'object' && d !== null && 'fidelity' in d && 'model' in d,
  );
  const calibrationFile =
    p.calibrationFile ??
    Object.values(deps).find(
      (d): d is CalibrateJobResult => typeof d === 'object' && d !== null && 'file' in d && 'victimHash' in d,
    )?.file;
  const suspectDir = p.suspectDir ?? attack?.model;
  if (!suspectDir)
    throw new AuditError('INVALID_ARGUMENT', `Score job ${p.suspectKey} has no suspect`, {
      hint: 'Its attack job must finish first.',
    });
  const final = await verify(ctx, {
    victimDir: p.victimDir,
    suspectDir,
    dataDir: p.dataDir,
    calibrationFile,
    rule: p.rule,
    maxTest: p.maxTest,
  });
  const checkpoints =
    p.checkpointMetrics && calibrationFile && attack?.trajectory?.length
      ? await scoreCheckpoints(ctx, p, calibrationFile, attack.trajectory, p.checkpointMetrics)
      : [];
  return { suspectKey: p.suspectKey, final, checkpoints };
}

/** The iteration a trajectory folder was kept at (`.../trajectory/iter-300`). */
export function checkpointIteration(dir: string): number {
  const m = /iter-(\d+)$/.exec(basename(dir));
  if (!m)
    throw new AuditError('CHECKPOINT', `Not a trajectory checkpoint folder: ${dir}`, {
      hint: 'Trajectory folders are named iter-<n>.',
      path: dirname(dir),
    });
  return Number(m[1]);
}

/**
 * Scores every kept checkpoint of one attack with the chosen metrics (those of the
 * calibration's defences that own one of them), plus its fidelity: the data of the
 * paper's trajectory figures (fidelity against value / tau).
 */
async function scoreCheckpoints(
  ctx: RunContext,
  p: ScorePayload,
  calibrationFile: string,
  dirs: string[],
  metricIds: string[],
): Promise<CheckpointScore[]> {
  const calibration = readCalibration(calibrationFile);
  const victim = await loadModel(p.victimDir);
  try {
    const sets = loadCalibratedFingerprints(calibration, calibrationFile, victim.meta.contentHash).filter((s) =>
      s.defense.metrics.some((m) => metricIds.length === 0 || metricIds.includes(m.id)),
    );
    const data = await loadDataset(p.dataDir, {
      inputShape: victim.meta.inputShape,
      fit: { inputShape: victim.meta.inputShape, numClasses: victim.meta.numClasses },
      normalization: victim.meta.normalization,
      maxTrain: 1,
      maxTest: p.maxTest,
    });
    const victimLabels = predictLabels(victim.model, data.test);
    const out: CheckpointScore[] = [];
    for (const dir of dirs.filter((d) => existsSync(`${d}/model.json`))) {
      throwIfCancelled(ctx, 'Checkpoint scoring');
      const suspect = await loadModel(dir);
      try {
        const raw = await scoreSuspect(ctx, victim, suspect, sets);
        const scores: MetricScore[] = raw
          .filter((r) => metricIds.length === 0 || metricIds.includes(r.id))
          .map((r) => {
            const m = sets.flatMap((s) => s.defense.metrics).find((x) => x.id === r.id);
            const cal = calibration.metrics.find((c) => c.id === r.id);
            return {
              id: r.id,
              kind: m?.kind ?? 'distance',
              value: r.value,
              applicable: r.value !== null,
              votes: m?.votes !== false,
              ...(m?.combined === false ? { combined: false } : {}),
              ...(cal ? { tau: cal.tau, degenerate: cal.degenerate } : {}),
            };
          });
        const labels = predictLabels(suspect.model, data.test);
        const agreement =
          labels.reduce((n, v, i) => n + (v === victimLabels[i] ? 1 : 0), 0) / Math.max(1, labels.length);
        out.push({
          iteration: checkpointIteration(dir),
          path: dir,
          accuracy: evaluate(suspect.model, data.test).accuracy,
          agreement,
          metrics: applyThresholds(scores),
        });
        ctx.progress?.({ stage: 'score-checkpoints', iteration: out.length, total: dirs.length });
      } finally {
        suspect.model.dispose();
      }
    }
    return out;
  } finally {
    victim.model.dispose();
  }
}
