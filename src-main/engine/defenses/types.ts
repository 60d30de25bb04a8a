/**
 * The defence interface. A defence extracts fingerprints from the victim once (they are
 * persisted and reused against many suspects) and scores a suspect against them with one
 * or more metrics. Each defence declares its access and requirements, checked up front so
 * impossible combinations are refused with a reason instead of failing midway.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ParamSpec, ParamValues } from '../../../src-shared/params';
import type { RunContext } from '../context';
import type { ImageSet } from '../datasets/types';
import type { LoadedModel } from '../models/io';

import type { MetricKind } from '../../../src-shared/domain/metrics';
import type { QuerySet, ResponseMap } from './responses';

export type { MetricKind };
export type Access = 'white-box' | 'black-box';

export interface MetricSpec {
  /** Stable id, e.g. 'deepjudge.lod' (used by the CLI, the store and the report). */
  id: string;
  kind: MetricKind;
  /** Full name, e.g. 'DeepJudge LOD' (report, charts, the workbench). */
  label: string;
  /** Name for narrow tables, e.g. 'LOD'. */
  shortLabel: string;
  /** The value a model scores against itself (0 for distances, 1 for similarities). */
  identity: number;
  /**
   * Whether the metric takes part in the verdict (default true). Fidelity figures are
   * reported next to the verdict but never vote; they get no threshold.
   */
  votes?: boolean;
  /**
   * Whether a voting metric also counts in the combined verdict (default true). `false` for
   * baselines (mistakes.agreement): calibrated and judged in their defence's own verdict,
   * but left out of the combined vote so that the six published metrics keep deciding it.
   */
  combined?: boolean;
}

/** A metric votes unless its spec says `votes: false`. */
export function metricVotes(m: MetricSpec): boolean {
  return m.votes !== false;
}

/** A voting metric counts in the combined verdict unless its spec says `combined: false`. */
export function metricCombined(m: MetricSpec): boolean {
  return metricVotes(m) && m.combined !== false;
}

/** A named float array: what fingerprints are made of. */
export interface FingerprintArray {
  shape: number[];
  data: Float32Array;
}

export interface Fingerprints {
  defense: string;
  /** The resolved parameters the fingerprints were extracted with. */
  params: ParamValues;
  /** contentHash of the victim they were extracted from. */
  victimHash: string;
  /** Probing inputs, victim outputs, masks...: whatever score() needs. */
  arrays: Record<string, FingerprintArray>;
  /** Small JSON-able extras (chosen block, neuron indices, segment counts...). */
  info: Record<string, unknown>;
  /** Model queries (forward passes over single inputs) spent extracting. */
  queries: number;
}

export interface Applicability {
  applicable: boolean;
  reason?: string;
}

export interface Defense {
  /** Stable id used in specs, metric ids, the store and the CLI, e.g. 'deepjudge'. */
  id: string;
  title: string;
  /** The name the paper's tables use, e.g. 'DeepJudge' (report findings and headers). */
  name: string;
  /** One line for model owners, shown in the wizard. */
  help: string;
  /** The paper the defence implements. */
  paper: string;
  access: Access;
  /**
   * Opt-in defences (baselines such as 'mistakes') are offered but not run unless named:
   * they are left out of the default defences (calibrate, verify) and start unchecked in
   * the wizard, so a default audit and the committed results keep their meaning.
   */
  optIn?: boolean;
  metrics: readonly MetricSpec[];
  params: readonly ParamSpec[];
  /** Can this defence score `suspect` against `victim` at all (e.g. same architecture, block present)? */
  applicability(victim: LoadedModel, suspect: LoadedModel, fingerprints?: Fingerprints): Applicability;
  /**
   * Extracts fingerprints from the victim. `data` is victim-normalised data to draw seeds
   * from (a test split).
   */
  extract(ctx: RunContext, victim: LoadedModel, data: ImageSet, params: ParamValues): Promise<Fingerprints>;
  /**
   * The inputs a suspect must answer (issue 19). With `scoreResponses`, it lets the defence be
   * scored from recorded answers (an API) and re-checked from an evidence bundle; a defence
   * without them is scored from weights only.
   */
  querySets?(fingerprints: Fingerprints): QuerySet[];
  /** One value per metric id, from the fingerprints and a suspect's answers to `querySets` alone. */
  scoreResponses?(fingerprints: Fingerprints, responses: ResponseMap): Record<string, number>;
  /** One value per metric id of this defence. */
  score(
    ctx: RunContext,
    victim: LoadedModel,
    suspect: LoadedModel,
    fingerprints: Fingerprints,
  ): Promise<Record<string, number>>;
}

/** Convenience for defences: a tensor's values as a FingerprintArray. */
export function toFingerprintArray(t: tf.Tensor): FingerprintArray {
  return { shape: t.shape.slice(), data: Float32Array.from(t.dataSync()) };
}
