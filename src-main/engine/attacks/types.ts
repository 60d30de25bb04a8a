/**
 * The attack interface. An attack takes the victim and the attacker's substitute data and
 * returns a surrogate (suspect) model. RemovalNet and the baselines of the paper (FT, WP,
 * Distill, Negative, KnockoffNets) all implement it, so the app, the CLI and the report list
 * attacks and their parameters from one registry (`registry.ts`).
 *
 * Every attack:
 * - never modifies the victim (the surrogate starts as a copy or as a fresh model);
 * - reports progress through `ctx.progress` (iteration, losses, learning rate, throughput,
 *   ETA, and fidelity on `heldOut` every `evalEvery` iterations);
 * - stops between iterations when `ctx.signal` is aborted: it writes a checkpoint (when
 *   `checkpoint` is set) and throws AuditError CANCELLED; `resume` continues from it;
 * - throws AuditError TRAINING_DIVERGED when a loss stops being finite;
 * - is deterministic: the same request and `ctx.seed` give the same surrogate on the same
 *   backend (also across a cancel/resume).
 */
import type * as tf from '@tensorflow/tfjs';
import type { AttackRole } from '../../../src-shared/domain/attacks';

export type { AttackRole };
import type { ParamSpec, ParamValues } from '../../../src-shared/params';
import type { RunContext } from '../context';
import type { ImageSet } from '../datasets/types';
import type { LoadedModel, ModelMetaInput } from '../models/io';

export interface AttackNeeds {
  /** The result has the victim's architecture (copied, or rebuilt from its metadata). */
  sameArchitecture?: boolean;
  /** The attack works at a split point (`AttackRequest.block`, default meta.defaultAttackBlock). */
  block?: boolean;
  /** The substitute set must carry true labels (e.g. negative models trained from scratch). */
  labels?: boolean;
}

export interface AttackRequest {
  victim: LoadedModel;
  /** The attacker's data, normalised as the victim expects. Its labels are only used where a param asks for them. */
  substitute: ImageSet;
  /** Victim-normalised labelled data for fidelity (accuracy) on a held-out slice during the run. */
  heldOut?: ImageSet;
  /** Resolved parameters (see `resolveParams` with the attack's `params`). Missing keys take the defaults. */
  params: ParamValues;
  iterations: number;
  /** Default 128 (capped at the substitute set's size). */
  batchSize?: number;
  /**
   * `dir` is a working directory: the resumable state lives in `<dir>/state` (rewritten every
   * `every` iterations and on cancel); with `keepTrajectory` the surrogate is also saved as a
   * loadable model directory `<dir>/trajectory/iter-<n>` every `every` iterations.
   */
  checkpoint?: { dir: string; every: number; keepTrajectory?: boolean };
  /** Continue from `<checkpoint.dir>/state` when it exists (same request and seed required). */
  resume?: boolean;
  /** Split point for attacks that need one; default `victim.meta.defaultAttackBlock`. */
  block?: string;
  /** Label of the substitute scenario for the lineage, e.g. 'ltd' or 'lsd'. */
  scenario?: string;
  /** Fidelity on `heldOut` every n iterations (default: about 20 points per run, and at 0 and the end). */
  evalEvery?: number;
  /** Progress event every n iterations (default: about 200 events per run, always the last). */
  progressEvery?: number;
}

export interface AttackCompute {
  /** Iterations (parameter updates) of the whole run, resumed parts included. */
  iterations: number;
  /**
   * Per-example forward passes of a network or of a part of one (a batch of 128 through the
   * victim's tail counts 128): labelling queries to the victim, latent-search steps, the
   * surrogate's training passes. Fidelity evaluation on `heldOut` is not counted.
   */
  forwardPasses: number;
  /** Per-example backward passes (gradient computations), counted the same way. */
  backwardPasses: number;
  /** Wall-clock seconds spent in the attack (resumed parts included). */
  seconds: number;
}

export interface CurvePoint {
  iteration: number;
  /** Accuracy on `heldOut` (its true labels): the paper's "fidelity". */
  fidelity: number;
  /** Share of `heldOut` on which the surrogate agrees with the victim's prediction. */
  agreement: number;
}

export interface AttackResult {
  /** The surrogate; the caller owns it (dispose it, or save it with `modelMeta`). */
  model: tf.LayersModel;
  /** e.g. 'removalnet(ltd,block2)', 'finetune(0.5)'. */
  lineageStep: string;
  /**
   * What `saveModel` needs for the surrogate: architecture, blocks, normalisation and the
   * full lineage (the victim's with `lineageStep` appended; for negative models, which do not
   * descend from the victim, only the step).
   */
  modelMeta: ModelMetaInput;
  compute: AttackCompute;
  /** Fidelity over iterations, when `heldOut` was given. */
  curve?: CurvePoint[];
  /** Model directories kept every `checkpoint.every` iterations (`keepTrajectory`). */
  trajectory?: string[];
}

export interface Attack {
  /** Stable id used in specs, job keys, the store and the CLI, e.g. 'removalnet'. */
  id: string;
  title: string;
  /** The name the paper's tables and figures use, e.g. 'FT' (report legends and findings). */
  name: string;
  /** One line for model owners, shown in the wizard. */
  help: string;
  /** The paper the attack implements. */
  paper: string;
  /** What kind of attack it is (src-shared/domain/attacks.ts): planner, report and workbench act on it. */
  role: AttackRole;
  /**
   * Its colour in every chart of the app and the report (one colour per attack, the same in
   * every run); an attack without one gets a palette colour from its place in the registry.
   */
  color?: string;
  /**
   * Cost model of the planner: seconds per iteration at batch 128 on the wasm backend, on
   * the demo CNN (measured 2026-12-07 by the demo run's job times, less the 8 s overhead;
   * RemovalNet at block2, bench/results/removalnet-cost.json, which over-estimates the
   * demo's block3).
   */
  secondsPerIteration: number;
  /** Seeds the wizard proposes for a new row. */
  defaultSeeds: readonly number[];
  params: readonly ParamSpec[];
  needs: AttackNeeds;
  run(ctx: RunContext, req: AttackRequest): Promise<AttackResult>;
}
