/**
 * Every attack the product offers, in one place: the app's wizard, the CLI (`--attack`,
 * `--param key=value`) and the report list attacks and their parameters from here.
 */
import { AuditError } from '../errors';
import { distill } from './distill';
import { fineTune } from './finetune';
import { knockoff } from './knockoff';
import { negative } from './negative';
import { prune } from './prune';
import { removalNet } from './removalnet';
import type { Attack } from './types';

export type { Attack, AttackNeeds, AttackRequest, AttackResult, AttackCompute, CurvePoint } from './types';

export const ATTACKS: readonly Attack[] = [removalNet, fineTune, prune, distill, negative, knockoff];

export function getAttack(id: string): Attack {
  const attack = ATTACKS.find((a) => a.id === id);
  if (!attack) {
    throw new AuditError('INVALID_ARGUMENT', `Unknown attack "${id}"`, {
      hint: `Known attacks: ${ATTACKS.map((a) => a.id).join(', ')}.`,
    });
  }
  return attack;
}
