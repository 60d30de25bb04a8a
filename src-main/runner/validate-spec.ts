/**
 * What the shared schema cannot check about an audit spec, because it needs the attack and
 * defence registries: which ids exist, parameters (names and values, swept values
 * included), independent models' seeds against the references' seed range, metric ids,
 * and rows that would collide.
 */
import { resolveParams, type ParamSpec } from '../../src-shared/params';
import { SWEEPABLE_ATTACK_FIELDS, formatPath, sweptAttackIndices, type AuditSpec } from '../../src-shared/audit/spec';
import { ATTACKS, getAttack } from '../engine/attacks/registry';
import type { Attack } from '../engine/attacks/types';
import { REFERENCE_SEED_BASE } from '../engine/calibration/calibrate';
import { DEFENSES, getDefense } from '../engine/defenses/registry';
import type { Defense } from '../engine/defenses/types';
import { MAX_ITERATIONS } from '../engine/training/train';
import { expandSpec } from './expand';

function paramProblems(specs: readonly ParamSpec[], given: Record<string, unknown>, at: (string | number)[]): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(given)) {
    const field = formatPath([...at, key]);
    if (!specs.some((s) => s.key === key)) {
      out.push(`${field}: unknown parameter (known: ${specs.map((s) => s.key).join(', ') || 'none'})`);
      continue;
    }
    const r = resolveParams(specs, { [key]: value });
    if (!r.ok) out.push(...r.problems.map((p) => `${field}: ${p.startsWith(`${key} `) ? p.slice(key.length + 1) : p}`));
  }
  return out;
}

/** Metric ids of the spec's defences (voting ones: those a calibration gives a tau). */
export function specMetricIds(spec: AuditSpec): string[] {
  const ids: string[] = [];
  for (const d of spec.defenses) {
    try {
      ids.push(
        ...getDefense(d.id)
          .metrics.filter((m) => m.votes !== false)
          .map((m) => m.id),
      );
    } catch {
      // reported as an unknown defence
    }
  }
  return ids;
}

function inReferenceRange(seed: number): boolean {
  return seed >= REFERENCE_SEED_BASE && seed < REFERENCE_SEED_BASE + 1000;
}

function referenceRangeProblem(seed: number): string {
  return `seed ${seed} lies in the calibration references' seed range [${REFERENCE_SEED_BASE}, ${REFERENCE_SEED_BASE + 1000}); a reference that sets tau would flag itself`;
}

/**
 * What the shared schema cannot check: attack and defence parameters (names and values,
 * swept values included), independent models' seeds outside the references' seed range, metric
 * ids, and rows that would collide. Returns problems naming their fields; empty when fine.
 */
export function validateAgainstRegistries(spec: AuditSpec): string[] {
  const problems: string[] = [];
  spec.defenses.forEach((d, i) => {
    let defense: Defense;
    try {
      defense = getDefense(d.id);
    } catch {
      problems.push(`defenses[${i}].id: unknown defence "${d.id}" (known: ${DEFENSES.map((x) => x.id).join(', ')})`);
      return;
    }
    problems.push(...paramProblems(defense.params, d.params ?? {}, ['defenses', i, 'params']));
  });

  const attacks: (Attack | undefined)[] = spec.attacks.map((a, i) => {
    try {
      return getAttack(a.name);
    } catch {
      problems.push(`attacks[${i}].name: unknown attack "${a.name}" (known: ${ATTACKS.map((x) => x.id).join(', ')})`);
      return undefined;
    }
  });
  spec.attacks.forEach((a, i) => {
    const attack = attacks[i];
    if (!attack) return;
    problems.push(...paramProblems(attack.params, a.params ?? {}, ['attacks', i, 'params']));
    if (attack.role === 'independent') {
      // The initialisation seed: params.seed when given (shared by every suspect), else each suspect's seed.
      const explicit = a.params?.seed === undefined ? undefined : Number(a.params.seed);
      if (explicit !== undefined && inReferenceRange(explicit))
        problems.push(`attacks[${i}].params.seed: ${referenceRangeProblem(explicit)}`);
      if (explicit === undefined) {
        a.seeds.forEach((seed, j) => {
          if (inReferenceRange(seed)) problems.push(`attacks[${i}].seeds[${j}]: ${referenceRangeProblem(seed)}`);
        });
      }
    }
  });

  (spec.sweeps ?? []).forEach((sw, i) => {
    if (!sw.target.startsWith('attack:') || (SWEEPABLE_ATTACK_FIELDS as readonly string[]).includes(sw.param)) return;
    for (const index of sweptAttackIndices(spec, sw.target)) {
      const attack = attacks[index];
      if (!attack) continue;
      if (!attack.params.some((p) => p.key === sw.param)) {
        problems.push(
          `sweeps[${i}].param: unknown parameter "${sw.param}" of ${attack.id} (known: ${[...attack.params.map((p) => p.key), ...SWEEPABLE_ATTACK_FIELDS].join(', ')})`,
        );
        continue;
      }
      sw.values.forEach((v, j) => {
        const r = resolveParams(attack.params, { [sw.param]: v });
        if (!r.ok) problems.push(...r.problems.map((p) => `sweeps[${i}].values[${j}]: ${p}`));
        else if (attack.role === 'independent' && sw.param === 'seed' && inReferenceRange(r.values.seed as number))
          problems.push(`sweeps[${i}].values[${j}]: ${referenceRangeProblem(r.values.seed as number)}`);
      });
    }
  });

  problems.push(...frontierRegistryProblems(spec, attacks));
  problems.push(...sizeProblems(spec));

  const metricIds = specMetricIds(spec);
  const checkpointMetrics: [string, string[] | undefined][] = [
    ['checkpoints', spec.checkpoints?.metrics],
    ...spec.attacks.map((a, i): [string, string[] | undefined] => [
      `attacks[${i}].checkpoints`,
      a.checkpoints?.metrics,
    ]),
  ];
  for (const [field, ids] of checkpointMetrics)
    ids?.forEach((id, j) => {
      if (!metricIds.includes(id))
        problems.push(
          `${field}.metrics[${j}]: unknown metric "${id}" (metrics of the spec's defences: ${metricIds.join(', ')})`,
        );
    });
  if ('references' in spec.calibration) {
    for (const id of Object.keys(spec.calibration.metricRules ?? {})) {
      if (!metricIds.includes(id))
        problems.push(
          `${formatPath(['calibration', 'metricRules', id])}: unknown metric (metrics of the spec's defences: ${metricIds.join(', ')})`,
        );
    }
  }

  // Two variants that make the same row (same label and scenario) would share job keys.
  try {
    const owner = new Map<string, string>();
    for (const a of expandSpec(spec).attacks) {
      const mine = a.frontier ? `frontier.grids[${a.frontier.grid}]` : `attacks[${a.index}]`;
      for (const scenario of a.scenarios) {
        const k = `${a.rowId}\u0000${scenario}`;
        const first = owner.get(k);
        if (first !== undefined && first !== mine) {
          problems.push(
            `${mine}: makes the same row as ${first} ("${a.label}", scenario ${scenario}); give one of them a distinct label`,
          );
        } else if (first === undefined) owner.set(k, mine);
      }
    }
  } catch (e) {
    problems.push(`sweeps: ${(e as Error).message}`);
  }
  return problems;
}

/**
 * The frontier's grids against the registry: the parameter is one of the target attack's own
 * (not iterations, a block or a seed list: the frontier walks iterations itself), every value
 * is valid for it, and the target removes or steals (an independent model has nothing to evade with).
 */
function frontierRegistryProblems(spec: AuditSpec, attacks: readonly (Attack | undefined)[]): string[] {
  const out: string[] = [];
  (spec.frontier?.grids ?? []).forEach((g, i) => {
    const [index] = sweptAttackIndices(spec, g.target);
    const attack = index === undefined ? undefined : attacks[index];
    if (!attack) return;
    if (attack.role === 'independent') {
      out.push(
        `frontier.grids[${i}].target: ${attack.id} trains an independent model; a frontier walks a removal or stealing attack`,
      );
      return;
    }
    if (!attack.params.some((p) => p.key === g.param)) {
      out.push(
        `frontier.grids[${i}].param: unknown parameter "${g.param}" of ${attack.id} (known: ${attack.params.map((p) => p.key).join(', ')})`,
      );
      return;
    }
    g.values.forEach((v, j) => {
      const r = resolveParams(attack.params, { [g.param]: v });
      if (!r.ok) out.push(...r.problems.map((p) => `frontier.grids[${i}].values[${j}]: ${p}`));
    });
  });
  return out;
}

/**
 * Iteration counts beyond what any job accepts (MAX_ITERATIONS), caught before the run starts
 * rather than by the job that would take them, after the references have trained.
 */
function sizeProblems(spec: AuditSpec): string[] {
  const out: string[] = [];
  const check = (n: number | undefined, field: string): void => {
    if (n !== undefined && n > MAX_ITERATIONS)
      out.push(`${field}: ${n} iterations is more than the ${MAX_ITERATIONS} any job accepts`);
  };
  if ('train' in spec.victim) check(spec.victim.train.iterations, 'victim.train.iterations');
  if ('references' in spec.calibration) check(spec.calibration.referenceIterations, 'calibration.referenceIterations');
  spec.attacks.forEach((a, i) => check(a.iterations, `attacks[${i}].iterations`));
  (spec.sweeps ?? []).forEach((sw, i) => {
    if (sw.param === 'iterations')
      sw.values.forEach((v, j) => check(typeof v === 'number' ? v : undefined, `sweeps[${i}].values[${j}]`));
  });
  return out;
}
