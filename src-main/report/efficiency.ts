/**
 * The efficiency figure (paper Fig. 7): the learning curves of the stealing attacks
 * (KnockoffNets: fidelity against the victim queries and passes spent) with the removal
 * attacks' surrogates marked at their own cost, like with like.
 */
import type { AuditSpec } from '../../src-shared/audit/spec';
import type { EfficiencyChartData } from '../../src-shared/charts';
import { ATTACKS, attackColor, attackRole } from '../engine/attacks/registry';
import type { RunAttackResult } from '../engine/attacks/run-attack';
import type { AttackRun } from './data';
import { displayLabel } from './names';
import { sweepVariantTest } from './sweeps';

const hasRole = (a: Pick<AttackRun, 'attack'>, role: 'removal' | 'stealing'): boolean => attackRole(a.attack) === role;

/**
 * The removal surrogates the efficiency figure marks, like with like: finished ones of a
 * row no sweep varies, on a scenario a stealing attack used too; all finished removal
 * surrogates when none qualify.
 */
export function comparableRemovalNet(spec: AuditSpec, attacks: AttackRun[]): AttackRun[] {
  const isVariant = sweepVariantTest(spec);
  const all = attacks.filter((a) => hasRole(a, 'removal') && a.result);
  const comparable = all.filter(
    (a) => !isVariant(a.rowId, a.scenario) && attacks.some((k) => hasRole(k, 'stealing') && k.scenario === a.scenario),
  );
  return comparable.length ? comparable : all;
}

/** The figure's data, or null with the reason it cannot be drawn. */
export function efficiencyData(
  spec: AuditSpec,
  attacks: AttackRun[],
  victimAccuracy: number | null,
): { efficiency: EfficiencyChartData | null; efficiencyReason: string | null } {
  const seriesName = (a: AttackRun): string =>
    `${displayLabel(a)}${a.scenario !== '-' ? ` ${a.scenario}` : ''} seed ${a.seed}`;
  const stealing = attacks.filter(
    (a): a is AttackRun & { result: RunAttackResult } =>
      hasRole(a, 'stealing') && !!a.result?.curve?.length && a.result.compute.iterations > 0,
  );
  if (stealing.length === 0) {
    const names = ATTACKS.filter((a) => a.role === 'stealing')
      .map((a) => a.name)
      .join(' or ');
    return {
      efficiency: null,
      efficiencyReason: attacks.some((a) => hasRole(a, 'stealing'))
        ? `the ${names} attacks of this run recorded no learning curve`
        : `the run has no ${names} attack`,
    };
  }
  const removal = comparableRemovalNet(spec, attacks).filter(
    (a): a is AttackRun & { result: RunAttackResult } => a.result !== null,
  );
  return {
    efficiency: {
      curves: stealing.map((a) => {
        const perIteration = a.result.compute.passes / a.result.compute.iterations;
        return {
          name: seriesName(a),
          color: attackColor(a.attack),
          points: (a.result.curve ?? []).map((c) => ({ passes: c.iteration * perIteration, fidelity: c.fidelity })),
        };
      }),
      marks: removal.map((a) => ({
        name: seriesName(a),
        passes: a.result.compute.passes,
        fidelity: a.result.fidelity.accuracy,
      })),
      ...(removal.length ? { markColor: attackColor(removal[0].attack) } : {}),
      victimAccuracy,
    },
    efficiencyReason: null,
  };
}
