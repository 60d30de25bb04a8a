/**
 * An attack request and its parameters, checked before any work: the params against the
 * attack's specs, the iterations, batch size and checkpoint interval, the data against the
 * victim's input, the split block against its layers; and the labels an attack trains on.
 */
import { resolveParams, type ParamSpec, type ParamValues } from '../../../src-shared/params';
import type { ImageSet } from '../datasets/types';
import { AuditError } from '../errors';
import { checkIterations } from '../training/train';
import { relabel, victimLabels } from './surrogate';
import type { AttackRequest } from './types';

/** Batch size when the request gives none (the paper's). */
export const DEFAULT_BATCH_SIZE = 128;

/**
 * The request's params checked against the spec and merged over its defaults (strings as a
 * CLI passes them are accepted); unknown keys and out-of-range values are INVALID_ARGUMENT.
 */
export function paramsOf(specs: readonly ParamSpec[], given: ParamValues): ParamValues {
  const r = resolveParams(specs, given);
  if (!r.ok) {
    throw new AuditError('INVALID_ARGUMENT', `Invalid attack parameters: ${r.problems.join('; ')}`, {
      hint: `Parameters: ${specs.map((s) => `${s.key} (${s.type === 'enum' ? s.choices.join('|') : s.type}, default ${String(s.default)})`).join(', ')}.`,
    });
  }
  return r.values;
}

export function num(p: ParamValues, key: string): number {
  const v = p[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new AuditError('INVALID_ARGUMENT', `Attack parameter ${key} must be a number, got ${JSON.stringify(v)}`, {
      hint: "Resolve the parameters with resolveParams against the attack's params.",
    });
  }
  return v;
}

export function str(p: ParamValues, key: string): string {
  return String(p[key]);
}

export function checkRequest(req: AttackRequest): void {
  checkIterations(req.iterations, 'Attack iterations');
  if (req.substitute.count < 1) {
    throw new AuditError('INVALID_ARGUMENT', 'The substitute set is empty', {
      hint: 'Give the attacker some data (S_LTD or S_LSD).',
    });
  }
  const [h, w, c] = req.victim.meta.inputShape;
  for (const [name, set] of [
    ['substitute', req.substitute],
    ['held-out', req.heldOut],
  ] as const) {
    if (set && (set.height !== h || set.width !== w || set.channels !== c)) {
      throw new AuditError(
        'DATASET_MISMATCH',
        `The ${name} images are ${set.height}x${set.width}x${set.channels}, the victim takes ${h}x${w}x${c}`,
        {
          hint: "Adapt the data to the victim's input first (adaptToInput).",
        },
      );
    }
  }
  if (req.batchSize !== undefined && (!Number.isInteger(req.batchSize) || req.batchSize < 1)) {
    throw new AuditError('INVALID_ARGUMENT', `Invalid batch size ${req.batchSize}`, {
      hint: 'Use a positive whole number (the paper: 128).',
    });
  }
  if (req.checkpoint && (!Number.isInteger(req.checkpoint.every) || req.checkpoint.every < 1)) {
    throw new AuditError('INVALID_ARGUMENT', `Invalid checkpoint interval ${req.checkpoint.every}`, {
      hint: 'Checkpoint every n >= 1 iterations.',
    });
  }
}

/** The split point of a request, checked against the victim's layers. */
export function requestBlock(req: AttackRequest): string {
  const block = req.block ?? req.victim.meta.defaultAttackBlock;
  if (!req.victim.model.layers.some((l) => l.name === block)) {
    throw new AuditError('UNKNOWN_BLOCK', `The victim has no layer named "${block}"`, {
      hint: `Pick one of its blocks: ${req.victim.meta.blocks.join(', ')}.`,
    });
  }
  return block;
}
/**
 * The substitute set with the labels an attack trains on: the victim's argmax labels
 * ('victim', one forward pass per image, counted as setup) or the set's own ('true', which
 * must be labels of the victim's classes).
 */
export function trainingLabels(req: AttackRequest, mode: string): { set: ImageSet; forward: number } {
  const numClasses = req.victim.meta.numClasses;
  if (mode === 'true') {
    if (req.substitute.numClasses !== numClasses) {
      throw new AuditError(
        'DATASET_MISMATCH',
        `The substitute set has ${req.substitute.numClasses} classes, the victim ${numClasses}`,
        {
          hint: "True labels only make sense for data of the victim's task (S_LTD); use the victim's labels otherwise.",
        },
      );
    }
    return { set: req.substitute, forward: 0 };
  }
  return {
    set: relabel(req.substitute, victimLabels(req.victim.model, req.substitute), numClasses),
    forward: req.substitute.count,
  };
}

/** Parameter specs shared by the fine-tuning baselines. */
export const LABELS_PARAM: ParamSpec = {
  key: 'labels',
  type: 'enum',
  default: 'victim',
  choices: ['victim', 'true'],
  help: "Labels to train on: the victim's predictions on the substitute set, or the set's own (true) labels.",
};
