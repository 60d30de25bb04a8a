/**
 * The attack loop: `spec.step` for `req.iterations` iterations over deterministic batches,
 * with SGD / Adam under a cosine schedule, and everything around it that the Attack
 * contract promises: progress, fidelity curve, checkpoint and resume, cancellation,
 * divergence guard, compute accounting, trajectory. `runAttackLoop` runs its phases in
 * order: plan, resume or start, the first evaluation, then per iteration the cancellation
 * check, the step, evaluation and progress, the checkpoint; then finish.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { yieldToEventLoop, type ProgressEvent, type RunContext } from '../context';
import { AuditError } from '../errors';
import { saveModel, type ModelMetaInput } from '../models/io';
import { createRng, type Rng } from '../rng';
import { hasCheckpoint, readCheckpoint, writeCheckpoint, type CheckpointState } from '../training/checkpoint';
import { predictLabels } from '../training/evaluate';
import { Optimizer, type OptimizerConfig, DEFAULT_OPTIMIZER } from '../training/optimizers';
import { learningRateAt } from '../training/schedule';
import { BatchOrder, mixSeed } from './batches';
import { DEFAULT_BATCH_SIZE } from './request';
import { trainableVariables, victimLabels } from './surrogate';
import type { AttackCompute, AttackRequest, CurvePoint } from './types';

export interface StepArgs {
  iteration: number;
  indices: Int32Array;
  lr: number;
  /** A generator private to this iteration (a pure function of the seed and the iteration). */
  rng: Rng;
  optimizer: Optimizer;
}

export interface StepOutput {
  /** Named figures of the step; `loss` is required. All must be finite. */
  values: Record<string, number>;
  /** Per-example forward / backward passes this step spent (see AttackCompute). */
  forward: number;
  backward: number;
}

export interface LoopSpec {
  /** Stage name for progress events (the attack id). */
  stage: string;
  surrogate: tf.LayersModel;
  /** Variables the optimiser updates (default: all trainable weights). */
  vars?: tf.Variable[];
  optimizer: Partial<OptimizerConfig>;
  learningRate: number;
  /** Cosine period as a multiple of the iterations (1 anneals to 0 at the end; the RemovalNet code uses 1.5). */
  cosineSpan?: number;
  /** Examples to draw batches from. */
  poolSize: number;
  /** Everything that changes the result, for refusing a resume with other options. */
  optionsKey: Record<string, unknown>;
  step(a: StepArgs): StepOutput;
  /** Runs after every update (pruning masks, frozen statistics). */
  afterUpdate?: () => void;
  /** Work done once before the loop (e.g. labelling queries), counted in a fresh run only. */
  setup?: { forward: number; backward: number };
  /** Metadata for trajectory models (their lineage gets `@<iteration>`). */
  modelMeta: ModelMetaInput;
}

export interface LoopResult {
  compute: AttackCompute;
  curve?: CurvePoint[];
  trajectory?: string[];
}

interface AttackCheckpointState extends CheckpointState {
  attack: string;
  compute: AttackCompute;
  curve: CurvePoint[];
  trajectory: string[];
}

const STATE_DIR = 'state';
const TRAJECTORY_DIR = 'trajectory';

export function trajectoryDir(dir: string, iteration: number): string {
  return join(dir, TRAJECTORY_DIR, `iter-${String(iteration).padStart(6, '0')}`);
}

/** What a run of the loop fixes before its first iteration, from the request and the spec. */
interface LoopPlan {
  total: number;
  batchSize: number;
  optimizerConfig: OptimizerConfig;
  /** Iterations of the cosine period. */
  span: number;
  order: BatchOrder;
  progressEvery: number;
  evalEvery: number;
  /** JSON of everything that changes the result: a checkpoint made with other options is refused. */
  optionsKey: string;
  ckpt: AttackRequest['checkpoint'];
  stateDir: string | undefined;
}

function planLoop(ctx: RunContext, req: AttackRequest, spec: LoopSpec): LoopPlan {
  const total = req.iterations;
  const batchSize = Math.min(req.batchSize ?? DEFAULT_BATCH_SIZE, spec.poolSize);
  const optimizerConfig: OptimizerConfig = { ...DEFAULT_OPTIMIZER, ...spec.optimizer };
  const span = Math.max(total, Math.round(total * (spec.cosineSpan ?? 1)));
  const optionsKey = JSON.stringify({
    attack: spec.stage,
    total,
    batchSize,
    lr: spec.learningRate,
    span,
    optimizer: optimizerConfig,
    seed: ctx.seed,
    pool: spec.poolSize,
    ...spec.optionsKey,
  });
  const ckpt = req.checkpoint;
  return {
    total,
    batchSize,
    optimizerConfig,
    span,
    order: new BatchOrder(spec.poolSize, batchSize, ctx.seed),
    progressEvery: req.progressEvery ?? Math.max(1, Math.round(total / 200)),
    evalEvery: req.evalEvery ?? Math.max(1, Math.round(total / 20)),
    optionsKey,
    ckpt,
    stateDir: ckpt ? join(ckpt.dir, STATE_DIR) : undefined,
  };
}

/**
 * Runs `spec.step` for `req.iterations` iterations over deterministic batches, with SGD /
 * Adam under a cosine schedule, and everything around it that the Attack contract promises.
 */
export async function runAttackLoop(ctx: RunContext, req: AttackRequest, spec: LoopSpec): Promise<LoopResult> {
  const plan = planLoop(ctx, req, spec);
  const optimizer = new Optimizer(plan.optimizerConfig, spec.vars ?? trainableVariables(spec.surrogate));
  const loop = new AttackLoop(ctx, req, spec, plan, optimizer);
  try {
    loop.resumeOrStart();
    await loop.iterate();
    await loop.finish();
  } finally {
    optimizer.dispose();
  }
  return loop.result();
}

/** One run of the loop: its phases and the state they share (what a checkpoint holds). */
class AttackLoop {
  private readonly compute: AttackCompute = { iterations: 0, forwardPasses: 0, backwardPasses: 0, seconds: 0 };
  private curve: CurvePoint[] = [];
  private trajectory: string[] = [];
  /** First iteration of this session (the checkpoint's when resuming). */
  private start = 0;
  /** Compute seconds of earlier sessions. */
  private secondsBefore = 0;
  /** Last iteration whose state was saved mid-run (for the divergence hint). */
  private lastCheckpoint = 0;
  private heldOutVictim: Int32Array | undefined;
  private t0 = 0;
  /** Throughput window since the last progress event. */
  private windowStart = 0;
  private windowExamples = 0;

  constructor(
    private readonly ctx: RunContext,
    private readonly req: AttackRequest,
    private readonly spec: LoopSpec,
    private readonly plan: LoopPlan,
    private readonly optimizer: Optimizer,
  ) {}

  // ---- resume / checkpoint ---------------------------------------------------------------

  /** Resumes from the checkpoint in the state folder when asked and there is one; else counts the setup work. */
  resumeOrStart(): void {
    const { spec, plan } = this;
    if (this.req.resume && plan.stateDir && hasCheckpoint(plan.stateDir)) {
      const state = readCheckpoint(
        plan.stateDir,
        spec.surrogate,
        this.optimizer,
        plan.optionsKey,
      ) as AttackCheckpointState;
      this.start = state.iteration;
      Object.assign(this.compute, state.compute);
      this.curve = state.curve ?? [];
      this.trajectory = (state.trajectory ?? []).filter((d) => existsSync(d));
      this.ctx.log?.(`resuming ${spec.stage} from the checkpoint of iteration ${this.start}`);
    } else {
      this.compute.forwardPasses += spec.setup?.forward ?? 0;
      this.compute.backwardPasses += spec.setup?.backward ?? 0;
    }
    this.secondsBefore = this.compute.seconds;
    this.lastCheckpoint = this.start;
  }

  private elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Writes the surrogate, the optimiser and the loop state as of `iteration` (when checkpointing). */
  private async saveState(iteration: number): Promise<void> {
    const { stateDir } = this.plan;
    if (!stateDir) return;
    const state: AttackCheckpointState = {
      formatVersion: 1,
      iteration,
      optimizerStep: iteration,
      optionsKey: this.plan.optionsKey,
      attack: this.spec.stage,
      compute: { ...this.compute, seconds: this.secondsBefore + this.elapsed() },
      curve: this.curve,
      trajectory: this.trajectory,
    };
    await writeCheckpoint(stateDir, this.spec.surrogate, this.optimizer, state);
  }

  /** Every `ckpt.every` iterations: a trajectory model when kept, and the state (not after the last). */
  private async checkpointAt(done: number): Promise<void> {
    const { ckpt, total } = this.plan;
    if (!ckpt || done % ckpt.every !== 0) return;
    if (ckpt.keepTrajectory) {
      const dir = trajectoryDir(ckpt.dir, done);
      const meta = this.spec.modelMeta;
      await saveModel(this.spec.surrogate, dir, { ...meta, lineage: `${meta.lineage}@${done}` });
      this.trajectory = [...this.trajectory.filter((d) => d !== dir), dir];
    }
    if (done < total) {
      await this.saveState(done);
      this.lastCheckpoint = done;
    }
  }

  // ---- the iterations ----------------------------------------------------------------------

  async iterate(): Promise<void> {
    const heldOut = this.req.heldOut;
    this.heldOutVictim = heldOut ? victimLabels(this.req.victim.model, heldOut) : undefined;
    this.t0 = performance.now();
    const { total } = this.plan;
    if (this.start === 0 && total > 0) {
      const p = this.evaluateAt(0);
      if (p)
        this.emit({
          stage: this.spec.stage,
          iteration: 0,
          total,
          values: { fidelity: p.fidelity, agreement: p.agreement },
        });
    }
    this.windowStart = performance.now();
    this.windowExamples = 0;
    for (let it = this.start; it < total; it++) {
      await yieldToEventLoop();
      await this.stopIfCancelled(it);
      const { out, lr } = this.step(it);
      this.report(it + 1, out, lr);
      await this.checkpointAt(it + 1);
    }
  }

  /** On cancellation: saves the state as of `it` (nothing of iteration `it` done yet) and throws CANCELLED. */
  private async stopIfCancelled(it: number): Promise<void> {
    if (!this.ctx.signal?.aborted) return;
    await this.saveState(it);
    const { ckpt, stateDir, total } = this.plan;
    throw new AuditError('CANCELLED', `${this.spec.stage} was cancelled at iteration ${it} of ${total}`, {
      hint: ckpt
        ? `Run it again with resume to continue from the checkpoint in ${stateDir}.`
        : 'Run it again to start over.',
    });
  }

  /** Iteration `it`: the attack's step at the scheduled learning rate, the divergence guard, the accounting. */
  private step(it: number): { out: StepOutput; lr: number } {
    const { spec, plan } = this;
    const lr = learningRateAt('cosine', spec.learningRate, it, plan.span);
    const out = spec.step({
      iteration: it,
      indices: plan.order.indices(it),
      lr,
      rng: createRng(mixSeed(this.ctx.seed, 0x5e9, it)),
      optimizer: this.optimizer,
    });
    for (const [k, v] of Object.entries(out.values)) {
      if (!Number.isFinite(v)) throw this.diverged(k, v, it, lr);
    }
    spec.afterUpdate?.();
    this.compute.iterations = it + 1;
    this.compute.forwardPasses += out.forward;
    this.compute.backwardPasses += out.backward;
    this.windowExamples += plan.batchSize;
    return { out, lr };
  }

  private diverged(k: string, v: number, it: number, lr: number): AuditError {
    const { ckpt, stateDir } = this.plan;
    return new AuditError(
      'TRAINING_DIVERGED',
      `${this.spec.stage}: ${k} became ${v} at iteration ${it + 1} (learning rate ${lr.toPrecision(3)})`,
      {
        hint:
          'Lower the learning rate or the loss weights, and check that the data are normalised and free of NaN' +
          (ckpt && this.lastCheckpoint > 0
            ? `; or resume from the checkpoint of iteration ${this.lastCheckpoint} in ${stateDir}.`
            : '.'),
      },
    );
  }

  // ---- evaluation and progress -------------------------------------------------------------

  /** Fidelity and agreement on the held-out set after `iteration` iterations, recorded in the curve. */
  private evaluateAt(iteration: number): CurvePoint | undefined {
    const heldOut = this.req.heldOut;
    const heldOutVictim = this.heldOutVictim;
    if (!heldOut || !heldOutVictim) return undefined;
    const pred = predictLabels(this.spec.surrogate, heldOut);
    let correct = 0;
    let agree = 0;
    for (let i = 0; i < heldOut.count; i++) {
      if (pred[i] === heldOut.labels[i]) correct++;
      if (pred[i] === heldOutVictim[i]) agree++;
    }
    const point = {
      iteration,
      fidelity: correct / Math.max(1, heldOut.count),
      agreement: agree / Math.max(1, heldOut.count),
    };
    this.curve = this.curve.filter((p) => p.iteration !== iteration);
    this.curve.push(point);
    return point;
  }

  private emit(e: ProgressEvent): void {
    this.ctx.progress?.(e);
  }

  /** After `done` iterations: a curve point every `evalEvery`, a progress event every `progressEvery` (and with each point). */
  private report(done: number, out: StepOutput, lr: number): void {
    const { evalEvery, progressEvery, total } = this.plan;
    const point = done % evalEvery === 0 || done === total ? this.evaluateAt(done) : undefined;
    if (done % progressEvery === 0 || done === total || point) {
      const now = performance.now();
      const perIt = this.elapsed() / (done - this.start);
      this.emit({
        stage: this.spec.stage,
        iteration: done,
        total,
        values: {
          ...out.values,
          lr,
          examplesPerSec: (this.windowExamples * 1000) / Math.max(1e-9, now - this.windowStart),
          ...(point ? { fidelity: point.fidelity, agreement: point.agreement } : {}),
        },
        etaSeconds: perIt * (total - done),
      });
      this.windowStart = now;
      this.windowExamples = 0;
    }
  }

  // ---- finish --------------------------------------------------------------------------------

  /** Closes the accounting and saves the final state (when checkpointing and this session did work). */
  async finish(): Promise<void> {
    const { ckpt, total } = this.plan;
    this.compute.iterations = total;
    this.compute.seconds = this.secondsBefore + this.elapsed();
    if (ckpt && total > this.start) await this.saveState(total);
  }

  result(): LoopResult {
    return {
      compute: this.compute,
      ...(this.req.heldOut ? { curve: [...this.curve].sort((a, b) => a.iteration - b.iteration) } : {}),
      ...(this.req.checkpoint?.keepTrajectory ? { trajectory: this.trajectory } : {}),
    };
  }
}
