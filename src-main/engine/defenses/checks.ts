/**
 * Checks every defence makes before it spends a query: parameters resolved against the
 * spec, fingerprints belonging to this defence and this victim and not empty, and a
 * suspect that takes the same inputs. Each failure is an AuditError that says what to do.
 */
import { resolveParams, type ParamValues } from '../../../src-shared/params';
import { AuditError } from '../errors';
import type { LoadedModel } from '../models/io';
import type { Applicability, Defense, FingerprintArray, Fingerprints } from './types';

/** The given parameters over the defaults; INVALID_ARGUMENT listing every problem. */
export function resolveDefenseParams(defense: Pick<Defense, 'id' | 'params'>, given: ParamValues): ParamValues {
  const r = resolveParams(defense.params, given);
  if (!r.ok) {
    throw new AuditError('INVALID_ARGUMENT', `Invalid ${defense.id} parameters: ${r.problems.join('; ')}`, {
      hint: `Parameters of ${defense.id}: ${defense.params.map((p) => p.key).join(', ')}.`,
    });
  }
  return r.values;
}

/** Not applicable when the fingerprints are another defence's or another victim's. */
export function fingerprintMismatch(
  defenseId: string,
  victim: LoadedModel,
  fp: Fingerprints | undefined,
): Applicability | undefined {
  if (!fp) return undefined;
  if (fp.defense !== defenseId)
    return { applicable: false, reason: `the fingerprints were extracted by ${fp.defense}, not ${defenseId}` };
  if (fp.victimHash !== victim.meta.contentHash) {
    return {
      applicable: false,
      reason: `the fingerprints were extracted from another victim (content hash ${fp.victimHash.slice(0, 12)}..., this victim ${victim.meta.contentHash.slice(0, 12)}...)`,
    };
  }
  return undefined;
}

/** Not applicable when the suspect takes other inputs than the victim. */
export function inputMismatch(victim: LoadedModel, suspect: LoadedModel): Applicability | undefined {
  const v = victim.meta.inputShape.join('x');
  const s = suspect.meta.inputShape.join('x');
  return v === s ? undefined : { applicable: false, reason: `the suspect takes ${s} inputs, the victim ${v}` };
}

/** Not applicable when the suspect has another number of classes (label-based metrics). */
export function classMismatch(victim: LoadedModel, suspect: LoadedModel): Applicability | undefined {
  return victim.meta.numClasses === suspect.meta.numClasses
    ? undefined
    : {
        applicable: false,
        reason: `the suspect has ${suspect.meta.numClasses} classes, the victim ${victim.meta.numClasses}`,
      };
}

/** score() refuses what applicability() refuses, with the same reason. */
export function requireApplicable(defenseId: string, a: Applicability): void {
  if (a.applicable) return;
  throw new AuditError('INVALID_ARGUMENT', `${defenseId} cannot score this suspect: ${a.reason ?? 'not applicable'}`, {
    hint: 'Check applicability first; a metric that does not apply is left out of the verdict.',
  });
}

/** A named fingerprint array with a non-empty first dimension (and optionally a rank). */
export function fingerprintArray(fp: Fingerprints, name: string, rank?: number): FingerprintArray {
  const a = fp.arrays[name];
  if (!a) {
    throw new AuditError('INVALID_ARGUMENT', `The ${fp.defense} fingerprint set has no "${name}" array`, {
      hint: 'The fingerprint file is incomplete or from an older version; extract the fingerprints again.',
    });
  }
  if (rank !== undefined && a.shape.length !== rank) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `The ${fp.defense} fingerprint array "${name}" has shape [${a.shape}], expected rank ${rank}`,
      {
        hint: 'The fingerprint file is damaged; extract the fingerprints again.',
      },
    );
  }
  if ((a.shape[0] ?? 0) === 0) {
    throw new AuditError('INVALID_ARGUMENT', `The ${fp.defense} fingerprint set is empty ("${name}" has no rows)`, {
      hint: 'Extract the fingerprints again from data on which the victim classifies some samples correctly.',
    });
  }
  return a;
}

/** Refuses an extraction that found nothing to fingerprint with. */
export function emptyFingerprintError(defense: string, why: string): AuditError {
  return new AuditError('INVALID_ARGUMENT', `${defense} found no fingerprint inputs: ${why}`, {
    hint: 'Pass more data, or data the victim classifies correctly (its own test split).',
  });
}

/** Applicability of a defence that compares labels: its own fingerprints, and a suspect with the victim's inputs and classes. */
export function sameTaskApplicability(
  defenseId: string,
): (victim: LoadedModel, suspect: LoadedModel, fp?: Fingerprints) => Applicability {
  return (victim, suspect, fp) =>
    fingerprintMismatch(defenseId, victim, fp) ??
    inputMismatch(victim, suspect) ??
    classMismatch(victim, suspect) ?? { applicable: true };
}
