/**
 * Consistency between the fields of an audit spec, beyond the shape the schema checks:
 * unique ids, references that exist, which fields a sweep may vary and with which values.
 * Every problem names its field path.
 */
import { isPartition, normalizePartition } from '../domain/partition';
import type { BaseSpec } from './spec';

/** Attack fields a sweep may vary besides the attack's own parameters. */
export const SWEEPABLE_ATTACK_FIELDS = ['iterations', 'batchSize', 'block'] as const;
/** Scenario fields a sweep may vary, per scenario kind. */
export const SWEEPABLE_SCENARIO_FIELDS = { ltd: ['fraction'], lsd: ['partition', 'data'] } as const;

export interface SpecProblem {
  path: (string | number)[];
  message: string;
}

/** Attacks a sweep target 'attack:<label or name>' selects: by label when any matches, else by name. */
export function sweptAttackIndices(spec: Pick<BaseSpec, 'attacks'>, target: string): number[] {
  const key = target.slice('attack:'.length);
  const byLabel = spec.attacks.flatMap((a, i) => (a.label === key ? [i] : []));
  return byLabel.length ? byLabel : spec.attacks.flatMap((a, i) => (a.name === key ? [i] : []));
}

/** Consistency between fields: unique ids, references that exist, sweep targets and values. */
export function crossFieldProblems(spec: BaseSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (p: (string | number)[], message: string): void => {
    problems.push({ path: p, message });
  };

  const scenarioIndex = new Map<string, number>();
  spec.scenarios.forEach((s, i) => {
    const first = scenarioIndex.get(s.id);
    if (first !== undefined) add(['scenarios', i, 'id'], `duplicate scenario id "${s.id}" (also scenarios[${first}])`);
    else scenarioIndex.set(s.id, i);
  });
  const known = [...scenarioIndex.keys()].join(', ');

  const defenseIndex = new Map<string, number>();
  spec.defenses.forEach((d, i) => {
    const first = defenseIndex.get(d.id);
    if (first !== undefined) add(['defenses', i, 'id'], `duplicate defence "${d.id}" (also defenses[${first}])`);
    else defenseIndex.set(d.id, i);
  });

  spec.attacks.forEach((a, i) => {
    const seen = new Set<number>();
    a.seeds.forEach((seed, j) => {
      if (seen.has(seed)) add(['attacks', i, 'seeds', j], `duplicate seed ${seed}`);
      seen.add(seed);
    });
    const ids = new Set<string>();
    a.scenarios?.forEach((id, j) => {
      if (!scenarioIndex.has(id)) add(['attacks', i, 'scenarios', j], `unknown scenario "${id}" (scenarios: ${known})`);
      else if (ids.has(id)) add(['attacks', i, 'scenarios', j], `duplicate scenario "${id}"`);
      ids.add(id);
    });
  });

  // S_LSD must not be the victim's own part of the same data.
  if ('train' in spec.victim && spec.victim.train.partition) {
    const victimPart = normalizePartition(spec.victim.train.partition);
    const victimData = spec.victim.train.data;
    spec.scenarios.forEach((s, i) => {
      if (
        s.kind === 'lsd' &&
        s.partition &&
        normalizePartition(s.partition) === victimPart &&
        (s.data ?? spec.data.train) === victimData
      ) {
        add(
          ['scenarios', i, 'partition'],
          `the victim trains on part ${victimPart} of the same data; S_LSD needs another part`,
        );
      }
    });
  }

  const sweepKeys = new Map<string, number>();
  (spec.sweeps ?? []).forEach((sw, i) => {
    const dup = sweepKeys.get(`${sw.target}\u0000${sw.param}`);
    if (dup !== undefined) add(['sweeps', i], `sweeps[${dup}] already sweeps ${sw.param} of ${sw.target}`);
    sweepKeys.set(`${sw.target}\u0000${sw.param}`, i);
    const seenValues = new Set<string>();
    sw.values.forEach((v, j) => {
      const k = JSON.stringify(v);
      if (seenValues.has(k)) add(['sweeps', i, 'values', j], `duplicate value ${k}`);
      seenValues.add(k);
    });
    if (sw.target.startsWith('attack:')) {
      const matched = sweptAttackIndices(spec, sw.target);
      if (matched.length === 0) {
        add(
          ['sweeps', i, 'target'],
          `no attack labelled or named "${sw.target.slice(7)}" (attacks: ${spec.attacks.map((a) => a.label ?? a.name).join(', ')})`,
        );
        return;
      }
      if (sw.param === 'seeds' || sw.param === 'scenarios' || sw.param === 'label' || sw.param === 'name') {
        add(
          ['sweeps', i, 'param'],
          `"${sw.param}" cannot be swept (sweep an attack parameter, iterations, batchSize or block)`,
        );
        return;
      }
      if (sw.param === 'iterations' || sw.param === 'batchSize') {
        sw.values.forEach((v, j) => {
          if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1))
            add(['sweeps', i, 'values', j], `${sw.param} must be a positive integer, got ${JSON.stringify(v)}`);
        });
      } else if (sw.param === 'block') {
        sw.values.forEach((v, j) => {
          if (!(typeof v === 'string' && v.length > 0))
            add(['sweeps', i, 'values', j], `block must be a block name such as "block2", got ${JSON.stringify(v)}`);
        });
      }
      // Attack parameters are checked against the registry on the main side.
    } else if (sw.target.startsWith('scenario:')) {
      const id = sw.target.slice('scenario:'.length);
      const si = scenarioIndex.get(id);
      if (si === undefined) {
        add(['sweeps', i, 'target'], `unknown scenario "${id}" (scenarios: ${known})`);
        return;
      }
      const scenario = spec.scenarios[si];
      const allowed: readonly string[] = SWEEPABLE_SCENARIO_FIELDS[scenario.kind];
      if (!allowed.includes(sw.param)) {
        add(['sweeps', i, 'param'], `a ${scenario.kind} scenario sweeps ${allowed.join(' or ')}, not "${sw.param}"`);
        return;
      }
      sw.values.forEach((v, j) => {
        if (sw.param === 'fraction' && !(typeof v === 'number' && v > 0 && v <= 1))
          add(['sweeps', i, 'values', j], `fraction must be a number in (0, 1], got ${JSON.stringify(v)}`);
        if (sw.param === 'partition' && !(typeof v === 'string' && isPartition(v)))
          add(['sweeps', i, 'values', j], `partition must look like "k/n" with 0 <= k < n, got ${JSON.stringify(v)}`);
        if (sw.param === 'data' && !(typeof v === 'string' && v.length > 0))
          add(['sweeps', i, 'values', j], `data must be a directory path, got ${JSON.stringify(v)}`);
      });
    } else {
      add(['sweeps', i, 'target'], `must be "attack:<label or name>" or "scenario:<id>", got "${sw.target}"`);
    }
  });
  problems.push(...frontierProblems(spec));
  return problems;
}

/**
 * The frontier's grids: each targets exactly one attack, once per parameter, with distinct
 * values and seeds. Whether the parameter is one of the attack's (and its values valid) is
 * checked against the registry on the main side.
 */
function frontierProblems(spec: BaseSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (p: (string | number)[], message: string): void => {
    problems.push({ path: ['frontier', 'grids', ...p], message });
  };
  const gridKeys = new Map<string, number>();
  (spec.frontier?.grids ?? []).forEach((g, i) => {
    const dup = gridKeys.get(`${g.target}\u0000${g.param}`);
    if (dup !== undefined) add([i], `frontier.grids[${dup}] already walks ${g.param} of ${g.target}`);
    gridKeys.set(`${g.target}\u0000${g.param}`, i);
    const distinct = (field: 'values' | 'seeds'): void => {
      const seen = new Set<string>();
      (g[field] as unknown[]).forEach((v, j) => {
        const k = JSON.stringify(v);
        if (seen.has(k)) add([i, field, j], `duplicate ${field === 'seeds' ? 'seed' : 'value'} ${k}`);
        seen.add(k);
      });
    };
    distinct('values');
    distinct('seeds');
    if (!g.target.startsWith('attack:')) {
      add([i, 'target'], `must be "attack:<label or name>", got "${g.target}"`);
      return;
    }
    const matched = sweptAttackIndices(spec, g.target);
    const names = spec.attacks.map((a) => a.label ?? a.name).join(', ');
    if (matched.length === 0)
      add([i, 'target'], `no attack labelled or named "${g.target.slice(7)}" (attacks: ${names})`);
    else if (matched.length > 1)
      add(
        [i, 'target'],
        `"${g.target.slice(7)}" names ${matched.length} attacks (${matched.map((m) => `attacks[${m}]`).join(', ')}); give the one to walk a label and target it`,
      );
  });
  return problems;
}
