/**
 * From an audit spec to the job graph of a run: `victim` (only when the spec trains it),
 * `reference:<i>` and `calibrate` (or one `calibrate` that reuses a stored calibration),
 * then per row, scenario and seed an `attack:<rowId>:<scenarioId>:<seed>` and its
 * `score:<rowId>:<scenarioId>:<seed>`. Rows come from expand.ts (sweeps, frontier grids), the checks the
 * shared schema cannot make from validate-spec.ts, the weights from costs.ts, and the
 * payload of each kind is typed in jobs.ts.
 *
 * Keys, directories and payloads are pure functions of the spec (attack parameters are
 * listed in sorted key order), so planning the same spec again gives the same jobs: a run
 * that stopped continues with the jobs it has.
 *
 * Work directory W of the run: the victim in `W/victim`, the calibration in
 * `W/calibration/calibration.json` (its references in `calibration.json.references/`), the
 * suspects in `W/suspects/<rowId>-<scenarioId>-s<seed>` (checkpoints in `<that>.work`).
 */
import { join, resolve } from 'node:path';
import { attackCheckpoints, type AuditSpec } from '../../src-shared/audit/spec';
import { isIndependentAttack } from '../engine/attacks/registry';
import { DEFAULT_PARTITION_SEED, type RunAttackRequest } from '../engine/attacks/run-attack';
import type { CalibrateRequest } from '../engine/calibration/calibrate';
import { AuditError } from '../engine/errors';
import type { TrainModelRequest } from '../engine/training/train-model';
import {
  CALIBRATE_BASE_SECONDS,
  CALIBRATE_SECONDS_PER_REFERENCE,
  DEFAULT_TRAINING_ITERATIONS,
  SCORE_BASE_SECONDS,
  SCORE_SECONDS_PER_CHECKPOINT,
  attackWeight,
  epochIterations,
  recordedIterations,
  trainingWeight,
} from './costs';
import { FRONTIER_CHECKPOINT_EVERY } from '../../src-shared/audit/frontier';
import { NO_SCENARIO, expandSpec, type ExpandedAttack, type ExpandedScenario } from './expand';
import type { AttackPayload, ScorePayload, TypedJob } from './jobs';
import { specMetricIds, validateAgainstRegistries } from './validate-spec';

export { NO_SCENARIO, expandSpec, frontierPlan, planRows, rowSlug } from './expand';
export type { ExpandedAttack, ExpandedScenario } from './expand';
export { validateAgainstRegistries } from './validate-spec';
export { attackWeight } from './costs';
export type { JobKind } from './jobs';

/** A job of the run's graph: a typed job (kind and payload) with its place in the graph. */
export type PlannedJob = TypedJob & {
  /** Unique in the run, stable across re-expansion of the same spec. */
  key: string;
  deps: string[];
  /** Estimated cost in seconds on the wasm backend (for ETA and ordering). */
  weight: number;
  /** Human label, e.g. 'finetune(ratio=0.5) ltd10 seed 1'. */
  label: string;
};

export interface PlanContext {
  /** The run's work directory W (`<home>/runs/<runId>`). */
  workDir: string;
  runId: string;
  /** Relative paths in the spec (models, data) are resolved against this directory. */
  baseDir: string;
  /** The stored calibration to reuse, when the spec says `calibration: { reuse }`. */
  calibration?: { filePath: string };
  /** The home's artifact store (`<home>/artifacts`): reference jobs reuse what earlier audits trained. */
  artifacts?: string;
  /** Where an input (an absolute path the spec names) is read from: a distributed run's published copy. */
  inputs?: (path: string) => string;
}

/** The partition seed of every victim and attacker partition an audit plans: the two halves come from one split. */
export const PARTITION_SEED = DEFAULT_PARTITION_SEED;

/** What every phase of planning shares: the spec, resolved paths, and the jobs so far. */
interface Planning {
  spec: AuditSpec;
  ctx: PlanContext;
  jobs: PlannedJob[];
  W: string;
  abs: (p: string) => string;
  trained: Extract<AuditSpec['victim'], { train: unknown }>['train'] | undefined;
  victimDir: string;
  victimDeps: string[];
  dataTrain: string;
  testDir: string;
  maxTest: number | undefined;
  maxTrain: number | undefined;
}

function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function planJobs(spec: AuditSpec, ctx: PlanContext): PlannedJob[] {
  const problems = validateAgainstRegistries(spec);
  if (problems.length) {
    throw new AuditError('SPEC_INVALID', `The audit spec is invalid:\n  ${problems.join('\n  ')}`, {
      hint: 'Fix the fields named above; `ownership-audit attacks` lists attack parameters.',
    });
  }
  const W = resolve(ctx.workDir);
  const abs = (p: string): string => (ctx.inputs ? ctx.inputs(resolve(ctx.baseDir, p)) : resolve(ctx.baseDir, p));
  const trained = 'train' in spec.victim ? spec.victim.train : undefined;
  const p: Planning = {
    spec,
    ctx,
    jobs: [],
    W,
    abs,
    trained,
    victimDir: trained ? join(W, 'victim') : abs((spec.victim as { model: string }).model),
    victimDeps: trained ? ['victim'] : [],
    dataTrain: abs(spec.data.train),
    testDir: abs(spec.data.test ?? spec.data.train),
    maxTest: spec.data.maxTest,
    maxTrain: spec.data.maxTrain,
  };
  const victimIterations = planVictim(p);
  const calibrationFile = planCalibration(p, victimIterations);
  planSuspects(p, calibrationFile);
  return p.jobs;
}

/** The victim's training job when the spec trains it; returns the iterations of the victim's recipe (for the weights of victim and references). */
function planVictim(p: Planning): number {
  const { trained, abs, victimDir, maxTrain, maxTest } = p;
  if (trained) {
    const victimIterations =
      trained.iterations ??
      (trained.epochs !== undefined
        ? epochIterations(trained.epochs, trained.batchSize, maxTrain)
        : DEFAULT_TRAINING_ITERATIONS);
    const payload: TrainModelRequest = compact({
      arch: trained.arch,
      dataDir: abs(trained.data),
      partition: trained.partition,
      partitionSeed: trained.partition ? PARTITION_SEED : undefined,
      outDir: victimDir,
      seed: trained.seed,
      epochs: trained.epochs,
      iterations: trained.iterations,
      batchSize: trained.batchSize,
      learningRate: trained.learningRate,
      width: trained.width,
      blocks: trained.blocks,
      depth: trained.depth,
      hidden: trained.hidden,
      maxTrain,
      maxTest,
    });
    p.jobs.push({
      key: 'victim',
      kind: 'train-victim',
      deps: [],
      payload: { ...payload },
      weight: trainingWeight(victimIterations),
      label: `train victim (${trained.arch}, seed ${trained.seed})`,
    });
    return victimIterations;
  }
  return recordedIterations(victimDir) ?? DEFAULT_TRAINING_ITERATIONS;
}

/** The reference and calibrate jobs (or one calibrate job that reuses a stored calibration); returns the calibration file. */
function planCalibration(p: Planning, victimIterations: number): string {
  const { spec, ctx, W, trained, victimDir, victimDeps, dataTrain, maxTrain, maxTest } = p;
  if ('reuse' in spec.calibration) {
    if (!ctx.calibration) {
      throw new AuditError(
        'INVALID_ARGUMENT',
        `The spec reuses calibration ${spec.calibration.reuse} but the planner was not given its file`,
        { hint: 'Look the calibration up in the store and pass its filePath.' },
      );
    }
    const calibrationFile = resolve(ctx.calibration.filePath);
    p.jobs.push({
      key: 'calibrate',
      kind: 'calibrate',
      deps: victimDeps,
      payload: { reuse: calibrationFile, victimDir },
      weight: 1,
      label: `reuse calibration ${spec.calibration.reuse}`,
    });
    return calibrationFile;
  }
  {
    const cal = spec.calibration;
    const calibrationFile = join(W, 'calibration', 'calibration.json');
    const request: CalibrateRequest = compact({
      victimDir,
      dataDir: dataTrain,
      outFile: calibrationFile,
      references: cal.references,
      defenses: spec.defenses.map((d) => d.id),
      defenseParams: Object.fromEntries(spec.defenses.map((d) => [d.id, { ...(d.params ?? {}) }])),
      rule: cal.rule,
      metricRules: cal.metricRules,
      referenceIterations: cal.referenceIterations,
      referenceEpochs: cal.referenceEpochs,
      noise: cal.noise,
      maxTrain,
      maxTest,
    });
    const refIterations =
      cal.referenceIterations ??
      (cal.referenceEpochs !== undefined
        ? epochIterations(cal.referenceEpochs, trained?.batchSize, maxTrain)
        : victimIterations);
    const refKeys: string[] = [];
    for (let i = 0; i < cal.references; i++) {
      refKeys.push(`reference:${i}`);
      p.jobs.push({
        key: `reference:${i}`,
        kind: 'reference',
        deps: victimDeps,
        payload: { index: i, calibrate: request, ...(ctx.artifacts ? { artifacts: ctx.artifacts } : {}) },
        weight: trainingWeight(refIterations),
        label: `reference model ${i + 1}/${cal.references}`,
      });
    }
    p.jobs.push({
      key: 'calibrate',
      kind: 'calibrate',
      deps: [...victimDeps, ...refKeys],
      payload: { ...request },
      weight: CALIBRATE_BASE_SECONDS + CALIBRATE_SECONDS_PER_REFERENCE * cal.references,
      label: `calibration (${cal.references} references)`,
    });
    return calibrationFile;
  }
}

/** Per row, scenario and seed: the attack job and the job that scores its suspect. */
function planSuspects(p: Planning, calibrationFile: string): void {
  const { spec, W, abs, trained, victimDir, victimDeps, dataTrain, testDir, maxTest, maxTrain } = p;
  const { scenarios, attacks } = expandSpec(spec);
  const scenarioById = new Map(scenarios.map((s) => [s.id, s]));
  const victimPartOfTrain = trained?.partition && abs(trained.data) === dataTrain ? trained.partition : undefined;
  const rule = spec.verdict?.rule ?? 'majority';
  // A frontier that walks iterations keeps checkpoints of its grid's rows and scores them with
  // every voting metric; otherwise an attack's own checkpoints, else the spec's, else none.
  const checkpointsOf = (a: ExpandedAttack): { every: number; metrics: string[] } | null => {
    if (a.frontier && spec.frontier?.iterations)
      return { every: spec.checkpoints?.every ?? FRONTIER_CHECKPOINT_EVERY, metrics: specMetricIds(spec) };
    const kept = attackCheckpoints(spec, spec.attacks[a.index]);
    return kept ? { every: kept.every, metrics: kept.metrics ?? specMetricIds(spec) } : null;
  };

  for (const a of attacks) {
    const kept = checkpointsOf(a);
    const checkpointMetrics = kept ? kept.metrics : null;
    for (const scenarioId of a.scenarios) {
      let substitute: Pick<RunAttackRequest, 'substituteDir' | 'fraction' | 'partition' | 'partitionSeed'>;
      if (scenarioId === NO_SCENARIO) {
        // An independent model trains from scratch on the victim's training data, as the references do.
        substitute = { substituteDir: dataTrain };
      } else {
        const s = scenarioById.get(scenarioId) as ExpandedScenario;
        substitute =
          s.kind === 'ltd'
            ? // S_LTD: a share of the victim's training data (of its part when it trained on one).
              compact({
                substituteDir: dataTrain,
                fraction: s.fraction,
                partition: victimPartOfTrain,
                partitionSeed: victimPartOfTrain ? PARTITION_SEED : undefined,
              })
            : compact({
                substituteDir: abs(s.data ?? spec.data.train),
                partition: s.partition,
                partitionSeed: s.partition ? PARTITION_SEED : undefined,
              });
      }
      for (const seed of a.seeds) {
        const tail = `${a.rowId}:${scenarioId}:${seed}`;
        const attackKey = `attack:${tail}`;
        const outDir = join(W, 'suspects', `${a.rowId}-${scenarioId}-s${seed}`);
        const where = scenarioId === NO_SCENARIO ? '' : ` ${scenarioId}`;
        const request: AttackPayload = compact({
          attack: a.name,
          victimDir,
          ...substitute,
          testDir,
          params: isIndependentAttack(a.name) ? { seed, ...a.params } : { ...a.params },
          iterations: a.iterations,
          batchSize: a.batchSize,
          outDir,
          checkpointEvery: kept?.every ?? Math.max(50, Math.ceil(a.iterations / 10)),
          keepTrajectory: Boolean(kept),
          resume: true,
          block: a.block,
          maxTest,
          maxTrain,
          seed,
          rowId: a.rowId,
          scenario: scenarioId,
          label: a.label,
          suspectKey: attackKey,
        });
        p.jobs.push({
          key: attackKey,
          kind: 'attack',
          deps: [...victimDeps],
          payload: { ...request },
          weight: attackWeight(a.name, a.iterations, a.batchSize),
          label: `${a.label}${where} seed ${seed}`,
        });

        const checkpoints = kept ? Math.floor(a.iterations / kept.every) : 0;
        p.jobs.push({
          key: `score:${tail}`,
          kind: 'score',
          deps: [attackKey, 'calibrate'],
          payload: compact<ScorePayload>({
            suspectKey: attackKey,
            victimDir,
            suspectDir: outDir,
            dataDir: testDir,
            calibrationFile,
            rule,
            maxTest,
            checkpointMetrics,
            rowId: a.rowId,
            scenario: scenarioId,
            seed,
            label: a.label,
            attack: a.name,
          }),
          weight: SCORE_BASE_SECONDS + SCORE_SECONDS_PER_CHECKPOINT * (checkpointMetrics ? checkpoints : 0),
          label: `score ${a.label}${where} seed ${seed}`,
        });
      }
    }
  }
}
