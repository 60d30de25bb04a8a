/**
 * Every attack the product offers, in one place: the app's wizard, the CLI (`--attack`,
 * `--param key=value`) and the report list attacks and their parameters from here.
 */
import { colorAt } from '../../../src-shared/charts/common';
import { AuditError } from '../errors';
import { distill } from './distill';
import { fineTune } from './finetune';
import { knockoff } from './knockoff';
import { negative } from './negative';
import { prune } from './prune';
import { removalNet } from './removalnet';
import type { Attack, AttackRole } from './types';

export type { Attack, AttackRole, AttackNeeds, AttackRequest, AttackResult, AttackCompute, CurvePoint } from './types';

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

/** The role of an attack id (src-shared/domain/attacks.ts); undefined for an id no registry line knows. */
export function attackRole(id: string): AttackRole | undefined {
  return ATTACKS.find((a) => a.id === id)?.role;
}

/** Whether rows of this attack are independent models (no scenario, seeded initialisation). */
export function isIndependentAttack(id: string): boolean {
  return attackRole(id) === 'independent';
}

/**
 * An attack's colour in every chart: its own, or a palette colour fixed by its place in the
 * registry (never by its place in one run, so a run without fine-tuning keeps RemovalNet's).
 */
export function attackColor(id: string): string {
  const i = ATTACKS.findIndex((a) => a.id === id);
  if (i < 0) return colorAt(ATTACKS.length + [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 997, 0));
  return ATTACKS[i].color ?? colorAt(i);
}
