/**
 * The chart data of a run's sweeps (paper Fig. 6 and 8): for each sweep of the spec, the
 * table rows that differ from a swept row only in the swept setting, as points along it.
 *
 * A row's setting is everything that shapes its surrogates: the attack, its parameters with
 * the registry's defaults filled in, block, iterations, batch size and the scenario's own
 * fields. Two rows belong to the same line when their settings agree once the swept field
 * is left out. That is how the spec's main row joins its sweep: a `RemovalNet` row with
 * beta 1 on a 10% scenario is the beta = 1 point of a beta sweep of an otherwise identical
 * attack, and the 10% point of a sweep of the substitute fraction. Nothing is matched by
 * label.
 */
import type { AuditSpec } from '../../src-shared/audit/spec';
import { sweptAttackIndices } from '../../src-shared/audit/spec';
import type { ResultRow, ResultsTable } from '../../src-shared/audit/results';
import type { SweepChartData } from '../../src-shared/charts/sweep';
import { resolveParams } from '../../src-shared/params';
import { getAttack } from '../engine/attacks/registry';
import { NO_SCENARIO, expandSpec, type ExpandedAttack, type ExpandedScenario } from '../runner/plan';
import type { MetricInfo } from './data';

type Value = number | boolean | string;

interface RowSetting {
  row: ResultRow;
  attack: ExpandedAttack;
  scenario: ExpandedScenario | null;
  fields: Record<string, Value | undefined>;
}

/** The fields of a row's setting: `a.<param>` for the attack, `s.<field>` for its scenario. */
function settingFields(attack: ExpandedAttack, scenario: ExpandedScenario | null): Record<string, Value | undefined> {
  const resolved = resolveParams(getAttack(attack.name).params, attack.params);
  const params = resolved.ok ? resolved.values : attack.params;
  const fields: Record<string, Value | undefined> = {
    attack: attack.name,
    'a.iterations': attack.iterations,
    'a.batchSize': attack.batchSize,
    'a.block': attack.block,
  };
  for (const [k, v] of Object.entries(params)) fields[`a.${k}`] = v;
  if (scenario)
    Object.assign(fields, {
      's.kind': scenario.kind,
      's.fraction': scenario.fraction,
      's.data': scenario.data,
      's.partition': scenario.partition,
    });
  return fields;
}

function keyWithout(fields: Record<string, Value | undefined>, swept: string): string {
  return JSON.stringify(
    Object.keys(fields)
      .filter((k) => k !== swept && fields[k] !== undefined)
      .sort()
      .map((k) => [k, fields[k]]),
  );
}

/**
 * Whether a row (attack variant and scenario) exists only because of a sweep: an attack
 * variant with swept values, or a swept scenario's variant (`size@fraction=0.05`).
 */
export function sweepVariantTest(spec: AuditSpec): (rowId: string, scenario: string) => boolean {
  const { attacks, scenarios } = expandSpec(spec);
  const sweptAttackRows = new Set(attacks.filter((a) => Object.keys(a.swept).length > 0).map((a) => a.rowId));
  const variantScenarios = new Set(scenarios.filter((s) => s.id !== s.origin).map((s) => s.id));
  return (rowId, scenario) => sweptAttackRows.has(rowId) || variantScenarios.has(scenario);
}

const label = (spec: AuditSpec, a: ExpandedAttack): string => spec.attacks[a.index]?.label ?? a.name;

export function sweepChartData(
  spec: AuditSpec,
  table: ResultsTable,
  metrics: Record<string, MetricInfo>,
): SweepChartData[] {
  if (!spec.sweeps?.length) return [];
  const { attacks, scenarios } = expandSpec(spec);
  const settings: RowSetting[] = [];
  for (const row of table.rows) {
    const attack = attacks.find((a) => a.rowId === row.rowId && a.scenarios.includes(row.scenario));
    if (!attack) continue;
    const scenario = row.scenario === NO_SCENARIO ? null : (scenarios.find((s) => s.id === row.scenario) ?? null);
    settings.push({ row, attack, scenario, fields: settingFields(attack, scenario) });
  }
  const columns = table.metrics.map((m) => ({
    id: m.id,
    label: metrics[m.id]?.label ?? m.id,
    kind: m.kind,
    tau: m.tau,
  }));

  return spec.sweeps.map((sw) => {
    const onScenario = sw.target.startsWith('scenario:');
    const field = `${onScenario ? 's' : 'a'}.${sw.param}`;
    const sweptIndices = onScenario ? [] : sweptAttackIndices(spec, sw.target);
    const swept = settings.filter((s) =>
      onScenario
        ? s.scenario?.origin === sw.target.slice('scenario:'.length) && s.scenario.id !== s.scenario.origin
        : sweptIndices.includes(s.attack.index) && sw.param in s.attack.swept,
    );
    const groups = [...new Set(swept.map((s) => keyWithout(s.fields, field)))];
    const series = groups.map((key) => {
      const members = settings.filter(
        (s) =>
          keyWithout(s.fields, field) === key &&
          s.row.fidelity !== null &&
          s.fields[field] !== undefined &&
          typeof s.fields[field] !== 'boolean',
      );
      const first = swept.find((s) => keyWithout(s.fields, field) === key) as RowSetting;
      return {
        name: `${label(spec, first.attack)}${first.scenario && !onScenario ? ` ${first.scenario.id}` : ''}`,
        points: members.map((s) => ({
          x: s.fields[field] as number | string,
          fidelity: (s.row.fidelity as NonNullable<ResultRow['fidelity']>).accuracy,
          n: s.row.suspects,
          normalized: Object.fromEntries(
            columns.map((c) => {
              const m = s.row.metrics[c.id];
              return [c.id, m && c.tau !== null && c.tau !== 0 ? m.mean / c.tau : null];
            }),
          ),
        })),
      };
    });
    const what = onScenario
      ? `of scenario ${sw.target.slice('scenario:'.length)}`
      : `of ${sw.target.slice('attack:'.length)}`;
    return {
      title: `${sw.param} ${what}`,
      param: sw.param,
      metrics: columns.map(({ id, label: l, kind }) => ({ id, label: l, kind })),
      series: series.filter((s) => s.points.length > 0),
      victimAccuracy: table.victimAccuracy,
    };
  });
}
