/**
 * Calibration (paper 4.1.2, 4.1.4): extract every defence's fingerprints from the victim,
 * train K reference (negative) models from scratch with seeds of their own and slight
 * noise in learning rate and iterations, score each reference with every metric, and turn
 * the values into one tau per metric.
 *
 * Reference models are written under `<out>.references/` and reused when a calibration is
 * run again (an interrupted calibration resumes with the references already trained).
 */
import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveParams, type ParamValues } from '../../../src-shared/params';
import { activeBackend } from '../backend';
import { throwIfCancelled, type RunContext } from '../context';
import { loadDataset } from '../datasets';
import { DEFAULT_DEFENSE_IDS, getDefense } from '../defenses/registry';
import { fingerprintHash, writeFingerprints } from '../defenses/fingerprint-file';
import type { Defense, Fingerprints } from '../defenses/types';
import { AuditError } from '../errors';
import { loadModel, type LoadedModel } from '../models/io';
import { getArch } from '../models/zoo';
import { ArtifactStore, dataTreeHash, recipeKey } from '../artifacts/store';
import { createRng } from '../rng';
import { toolInfo } from '../tool-info';
import { trainModel, type TrainModelRequest } from '../training/train-model';
import type { ModelMeta } from '../../../src-shared/domain/model';
import {
  writeCalibration,
  type Calibration,
  type CalibrationMetric,
  type CalibrationReference,
} from './calibration-file';
import { computeThreshold, type ThresholdRule } from './rules';

/** Reference seeds start here; attacks' Negative models must use seeds outside [base, base + K). */
export const REFERENCE_SEED_BASE = 10_000;

/** Defences calibrated (and verified) when none are named: opt-in ones are left out. */
export const DEFAULT_DEFENSES: readonly string[] = DEFAULT_DEFENSE_IDS;

export interface CalibrateRequest {
  victimDir: string;
  /** Training data of the victim (references train on it) with its test split (fingerprint seeds). */
  dataDir: string;
  outFile: string;
  references: number;
  defenses?: string[];
  /** Per defence id, parameter overrides. */
  defenseParams?: Record<string, Record<string, unknown>>;
  /** Default rule, and per-metric overrides. */
  rule?: ThresholdRule;
  metricRules?: Record<string, ThresholdRule>;
  /** Training recipe of the references (defaults: the victim's recorded recipe). */
  referenceEpochs?: number;
  referenceIterations?: number;
  learningRate?: number;
  /** Relative noise on learning rate and iterations per reference (paper: "slight"). */
  noise?: number;
  maxTrain?: number;
  maxTest?: number;
  /** References trained at once (each by `trainReference`). */
  workers?: number;
  /** Trains one reference; default in this process. The CLI passes one that uses a worker process. */
  trainReference?: (request: TrainModelRequest) => Promise<void>;
  /** Ed25519 private key to sign the calibration with (`calibrate --sign`); unsigned without. */
  signingKey?: KeyObject;
  /**
   * An artifact store folder (artifacts/store.ts): a reference trained before for the same
   * victim, data, recipe, seed and backend is copied from it instead of trained again, and
   * every reference trained here is added to it.
   */
  artifacts?: string;
}

export interface CalibrateResult {
  calibration: Calibration;
  file: string;
}

/** Resolves defence ids and their parameters, refusing unknown ids and bad values up front. */
export function resolveDefenses(
  ids: readonly string[],
  overrides: Record<string, Record<string, unknown>> = {},
): { defense: Defense; params: ParamValues }[] {
  return ids.map((id) => {
    const defense = getDefense(id);
    const r = resolveParams(defense.params, overrides[id] ?? {});
    if (!r.ok)
      throw new AuditError('INVALID_ARGUMENT', `Bad parameters for ${id}: ${r.problems.join('; ')}`, {
        hint: `See the parameters of ${id} with \`ownership-audit defenses\`.`,
      });
    return { defense, params: r.values };
  });
}

/** Scores one suspect with every defence whose requirements it meets; null where not applicable. */
export async function scoreSuspect(
  ctx: RunContext,
  victim: LoadedModel,
  suspect: LoadedModel,
  sets: { defense: Defense; fingerprints: Fingerprints }[],
): Promise<{ id: string; value: number | null; reason?: string }[]> {
  const out: { id: string; value: number | null; reason?: string }[] = [];
  for (const { defense, fingerprints } of sets) {
    throwIfCancelled(ctx, 'Scoring');
    const app = defense.applicability(victim, suspect, fingerprints);
    if (!app.applicable) {
      for (const m of defense.metrics) out.push({ id: m.id, value: null, reason: app.reason });
      continue;
    }
    const values = await defense.score(ctx, victim, suspect, fingerprints);
    for (const m of defense.metrics) out.push({ id: m.id, value: values[m.id] ?? null });
  }
  return out;
}

export async function calibrate(ctx: RunContext, req: CalibrateRequest): Promise<CalibrateResult> {
  if (!(req.references >= 2)) {
    throw new AuditError('INVALID_ARGUMENT', `Calibration needs at least 2 reference models, got ${req.references}`, {
      hint: 'Pass --references 5 or more (the paper uses several).',
    });
  }
  const outFile = resolve(req.outFile);
  const victim = await loadModel(req.victimDir);
  const data = await loadDataset(req.dataDir, {
    inputShape: victim.meta.inputShape,
    // The victim's own task: channels, size and classes must be the victim's (issue 16).
    fit: { inputShape: victim.meta.inputShape, numClasses: victim.meta.numClasses },
    normalization: victim.meta.normalization,
    maxTrain: req.maxTrain,
    maxTest: req.maxTest,
  });
  const chosen = resolveDefenses(req.defenses ?? [...DEFAULT_DEFENSES], req.defenseParams);

  // 1. Fingerprints from the victim, persisted beside the calibration.
  const fpDir = `${outFile}.fingerprints`;
  mkdirSync(fpDir, { recursive: true });
  const sets: { defense: Defense; fingerprints: Fingerprints; file: string; hash: string }[] = [];
  for (const { defense, params } of chosen) {
    throwIfCancelled(ctx, 'Calibration');
    ctx.log?.(`extracting ${defense.id} fingerprints`);
    const fingerprints = await defense.extract(ctx, victim, data.test, params);
    const file = join(fpDir, `${defense.id}.json`);
    writeFingerprints(file, fingerprints);
    sets.push({ defense, fingerprints, file, hash: fingerprintHash(fingerprints) });
  }

  // 2. Reference models: trained from scratch with seeds of their own, reused when present.
  const references = await trainReferences(ctx, req, victim, outFile);

  // 3. Every reference scored with every metric.
  const valuesByMetric = new Map<string, number[]>();
  for (const ref of references) {
    const suspect = await loadModel(ref.path);
    try {
      for (const s of await scoreSuspect(ctx, victim, suspect, sets)) {
        if (s.value === null)
          throw new AuditError(
            'NOT_APPLICABLE',
            `Metric ${s.id} does not apply to reference ${ref.path}: ${s.reason}`,
            { hint: 'Reference models must have the victim architecture.' },
          );
        // JSON has no NaN or Infinity: a tau derived from one could not be written, nor checked on load.
        if (!Number.isFinite(s.value))
          throw new AuditError('NON_FINITE_OUTPUT', `Metric ${s.id} of reference ${ref.path} is ${s.value}`, {
            hint: 'Check the reference model (its outputs may be NaN), or calibrate without this defence.',
          });
        valuesByMetric.set(s.id, [...(valuesByMetric.get(s.id) ?? []), s.value]);
      }
    } finally {
      suspect.model.dispose();
    }
  }

  // 4. One tau per metric.
  const metrics: CalibrationMetric[] = [];
  for (const { defense } of sets) {
    for (const m of defense.metrics) {
      if (m.votes === false) continue;
      const values = valuesByMetric.get(m.id) ?? [];
      const rule = req.metricRules?.[m.id] ?? req.rule ?? { name: 'paper' };
      const t = computeThreshold(m.kind, values, rule);
      metrics.push({ id: m.id, kind: m.kind, values, tau: t.tau, rule: t.rule, degenerate: t.degenerate });
    }
  }
  victim.model.dispose();

  const calibration: Calibration = {
    formatVersion: 2,
    createdAt: new Date().toISOString(),
    backend: activeBackend()?.backend ?? 'unknown',
    victim: { path: resolve(req.victimDir), contentHash: victim.meta.contentHash, lineage: victim.meta.lineage },
    data: { path: resolve(req.dataDir) },
    defenses: sets.map((s) => ({
      id: s.defense.id,
      params: s.fingerprints.params,
      fingerprintsFile: s.file,
      fingerprintsHash: s.hash,
    })),
    references,
    metrics,
  };
  return { calibration: writeCalibration(outFile, calibration, req.signingKey), file: outFile };
}

/** One reference model to train: where, with which seed and recipe. */
export interface ReferencePlan {
  index: number;
  seed: number;
  dir: string;
  learningRate: number;
  request: TrainModelRequest;
}

/**
 * The references of a calibration: seeds REFERENCE_SEED_BASE + i, and the victim's recipe
 * with learning rate and iterations jittered by +-noise (paper 4.1.2), each a pure
 * function of the seed so that a re-run plans the same models.
 */
export function planReferences(req: CalibrateRequest, meta: ModelMeta, outFile: string): ReferencePlan[] {
  try {
    getArch(meta.arch);
  } catch {
    throw new AuditError(
      'NOT_APPLICABLE',
      `The victim's architecture "${meta.arch}" is not a built-in one, so reference models cannot be trained for it`,
      {
        hint: 'Calibrate with a zoo architecture (cnn, vgg, resnet), or train reference models yourself and pass them as suspects.',
      },
    );
  }
  const recipe = meta.training ?? {};
  const baseLr = req.learningRate ?? (typeof recipe.learningRate === 'number' ? recipe.learningRate : 0.05);
  const baseIterations =
    req.referenceIterations ??
    (req.referenceEpochs === undefined && typeof recipe.iterations === 'number' ? recipe.iterations : undefined);
  const noise = req.noise ?? 0.1;
  const refDir = `${outFile}.references`;
  return Array.from({ length: req.references }, (_, index) => {
    const seed = REFERENCE_SEED_BASE + index;
    const jitter = createRng(seed);
    const lr = baseLr * (1 + noise * (2 * jitter.next() - 1));
    const scale = 1 + noise * (2 * jitter.next() - 1);
    const iterations = baseIterations !== undefined ? Math.max(1, Math.round(baseIterations * scale)) : undefined;
    const dir = join(refDir, `reference-${index}`);
    const request: TrainModelRequest = {
      arch: meta.arch,
      dataDir: resolve(req.dataDir),
      outDir: dir,
      seed,
      epochs: iterations === undefined ? (req.referenceEpochs ?? 1) * scale : undefined,
      iterations,
      learningRate: lr,
      batchSize: typeof recipe.batchSize === 'number' ? recipe.batchSize : undefined,
      ...(meta.archConfig as { blocks?: number; width?: number; depth?: number; hidden?: number }),
      maxTrain: req.maxTrain,
      maxTest: req.maxTest,
      lineagePrefix: 'reference',
    };
    return { index, seed, dir, learningRate: lr, request };
  });
}

/** Trains (or reuses) every planned reference, `workers` at a time. */
async function trainReferences(
  ctx: RunContext,
  req: CalibrateRequest,
  victim: LoadedModel,
  outFile: string,
): Promise<CalibrationReference[]> {
  const plans = planReferences(req, victim.meta, outFile);
  mkdirSync(`${outFile}.references`, { recursive: true });
  const store = req.artifacts ? new ArtifactStore(req.artifacts, ctx.log) : undefined;
  const pending: ReferencePlan[] = [];
  for (const plan of plans) {
    if (store) reuseStoredReference(store, plan, victim.meta.contentHash, ctx.log);
    if (await reusable(plan)) ctx.log?.(`reusing reference ${plan.index} (${plan.dir})`);
    else pending.push(plan);
  }
  const runner =
    req.trainReference ??
    (async (request: TrainModelRequest) => {
      await trainModel({
        ...request,
        signal: ctx.signal,
        onProgress: (p) =>
          ctx.progress?.({
            stage: `reference-${request.seed - REFERENCE_SEED_BASE}`,
            iteration: p.iteration,
            total: p.totalIterations,
            values: { loss: p.loss, accuracy: p.accuracy },
          }),
      });
    });
  const queue = [...pending];
  const workers = Math.max(1, Math.min(req.workers ?? 1, queue.length));
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let plan = queue.shift(); plan; plan = queue.shift()) {
        throwIfCancelled(ctx, 'Calibration');
        ctx.log?.(
          `training reference ${plan.index + 1}/${plans.length} (seed ${plan.seed}, lr ${plan.learningRate.toPrecision(3)})`,
        );
        await runner(plan.request);
        if (store) storeReference(store, plan, victim.meta.contentHash);
      }
    }),
  );
  const out: CalibrationReference[] = [];
  for (const plan of plans) {
    const { model, meta } = await loadModel(plan.dir);
    model.dispose();
    out.push({
      path: plan.dir,
      contentHash: meta.contentHash,
      lineage: meta.lineage,
      seed: plan.seed,
      learningRate: plan.learningRate,
      iterations: meta.training?.iterations as number | undefined,
      testAccuracy: meta.testAccuracy,
    });
  }
  return out;
}

/**
 * Everything that determines a trained reference, hashed into its artifact store key: the
 * victim (its content hash), the training data (its tree hash), the recipe (the training
 * request without its paths), the seed, the backend and the tool version. Training is
 * deterministic for these on one backend, so a stored reference equals a retrained one.
 */
export function referenceRecipe(plan: ReferencePlan, victimHash: string): Record<string, unknown> {
  const { outDir: _out, dataDir, ...recipe } = plan.request;
  return {
    kind: 'reference',
    tool: toolInfo().version,
    backend: activeBackend()?.backend ?? 'unknown',
    victim: victimHash,
    data: dataTreeHash(dataDir),
    recipe: JSON.parse(JSON.stringify(recipe)) as Record<string, unknown>,
  };
}

/**
 * Copies a reference from the artifact store into its planned folder when the store has one
 * for the same recipe; true when it did. A folder already there (an earlier, perhaps
 * interrupted, run) is left to the caller.
 */
export function reuseStoredReference(
  store: ArtifactStore,
  plan: ReferencePlan,
  victimHash: string,
  log?: (line: string) => void,
): boolean {
  if (existsSync(plan.dir)) return false;
  const key = recipeKey(referenceRecipe(plan, victimHash));
  if (!store.materialize(key, plan.dir)) return false;
  log?.(`reference ${plan.index + 1} (seed ${plan.seed}) copied from the artifact store`);
  return true;
}

/** Adds a trained reference to the artifact store under its recipe. */
export function storeReference(store: ArtifactStore, plan: ReferencePlan, victimHash: string): void {
  const recipe = referenceRecipe(plan, victimHash);
  store.put(recipeKey(recipe), plan.dir, 'reference', recipe);
}

/** A reference already on disk from an earlier (perhaps interrupted) calibration. */
async function reusable(plan: ReferencePlan): Promise<boolean> {
  if (!existsSync(join(plan.dir, 'model.json'))) return false;
  try {
    const { model, meta } = await loadModel(plan.dir);
    model.dispose();
    return meta.seed === plan.seed && meta.lineage.startsWith('reference');
  } catch {
    return false; // a damaged leftover is trained again
  }
}
