/**
 * An audit spec's sweeps expanded into the rows of the results table: every value of a
 * swept attack parameter becomes its own row (its label and rowId show the value, e.g.
 * `removalnet(alpha=0.4)` / `removalnet-alpha-0.4`), and a swept scenario becomes one
 * scenario per value (`ltd10@fraction=0.05`). Independent attacks (negative models) get the
 * scenario NO_SCENARIO: the spec's scenarios do not apply to them.
 *
 * The evasion frontier's grids (spec.frontier) expand the same way, after every other row:
 * one row per value of the grid's parameter applied to its target attack, with the grid's
 * seeds, labelled `frontier:<attack label>(<param>=<value>)` (rowId `frontier-...`) so they
 * never meet the spec's own rows; `frontierPlan` says which rows make up which grid.
 */
import { NO_SCENARIO } from '../../src-shared/domain/attacks';
import type { RowDef } from '../../src-shared/audit/results';
import { FRONTIER_LABEL_PREFIX, type FrontierPlan } from '../../src-shared/audit/frontier';
import { sweptAttackIndices, type AuditAttack, type AuditSpec } from '../../src-shared/audit/spec';
import { isIndependentAttack } from '../engine/attacks/registry';

export { NO_SCENARIO };

type Value = number | boolean | string;

export interface ExpandedScenario {
  /** The spec's id, or `<id>@<param>=<value>` for a swept one. */
  id: string;
  /** The spec scenario it comes from. */
  origin: string;
  kind: 'ltd' | 'lsd';
  fraction?: number;
  data?: string;
  partition?: string;
}

export interface ExpandedAttack {
  /** Index of the attack in spec.attacks. */
  index: number;
  rowId: string;
  label: string;
  name: AuditAttack['name'];
  /** The spec's parameters with swept values applied (sorted by key). */
  params: Record<string, Value>;
  iterations: number;
  batchSize?: number;
  block?: string;
  seeds: number[];
  /** Expanded scenario ids; [NO_SCENARIO] for independent attacks (negative models). */
  scenarios: string[];
  /** The swept values of this variant. */
  swept: Record<string, Value>;
  /** Set on a row of the evasion frontier: its grid (index in spec.frontier.grids) and value. */
  frontier?: { grid: number; value: Value };
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** A filesystem-safe slug of a row label: lower case, [a-z0-9._-], at most 60 characters. */
export function rowSlug(label: string, fallback = 'row'): string {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9._]+/g, '-')
    .replace(/^[-.]+|-+$/g, '');
  const s = slug || fallback;
  return s.length <= 60 ? s : `${s.slice(0, 51).replace(/-+$/, '')}-${fnv1a(label)}`;
}

function valueSlug(v: Value): string {
  const s = String(v).replace(/[^A-Za-z0-9._-]/g, '_');
  return s.length <= 40 ? s : `${s.slice(0, 31)}-${fnv1a(String(v))}`;
}

function cartesian(sweeps: { param: string; values: Value[] }[]): Record<string, Value>[] {
  return sweeps.reduce<Record<string, Value>[]>(
    (acc, sw) => acc.flatMap((c) => sw.values.map((v) => ({ ...c, [sw.param]: v }))),
    [{}],
  );
}

function kv(o: Record<string, Value>): string {
  return Object.keys(o)
    .sort()
    .map((k) => `${k}=${String(o[k])}`)
    .join(',');
}

/** The spec with its sweeps expanded: scenarios and attack variants (rows), in spec order. */
export function expandSpec(spec: AuditSpec): { scenarios: ExpandedScenario[]; attacks: ExpandedAttack[] } {
  const sweeps = spec.sweeps ?? [];
  const scenarios: ExpandedScenario[] = [];
  const byOrigin = new Map<string, string[]>();
  for (const s of spec.scenarios) {
    const mine = sweeps.filter((sw) => sw.target === `scenario:${s.id}`);
    const base: ExpandedScenario =
      s.kind === 'ltd'
        ? { id: s.id, origin: s.id, kind: 'ltd', fraction: s.fraction }
        : { id: s.id, origin: s.id, kind: 'lsd', data: s.data, partition: s.partition };
    const variants = mine.length
      ? cartesian(mine).map((combo): ExpandedScenario => ({
          ...base,
          ...(combo as Partial<ExpandedScenario>),
          id: `${s.id}@${Object.keys(combo)
            .map((k) => `${k}=${valueSlug(combo[k])}`)
            .join(',')}`,
        }))
      : [base];
    scenarios.push(...variants);
    byOrigin.set(
      s.id,
      variants.map((v) => v.id),
    );
  }

  const attacks: ExpandedAttack[] = [];
  spec.attacks.forEach((a, index) => {
    const mine = sweeps.filter(
      (sw) => sw.target.startsWith('attack:') && sweptAttackIndices(spec, sw.target).includes(index),
    );
    for (const swept of cartesian(mine)) {
      const params: Record<string, Value> = { ...(a.params ?? {}) };
      let { iterations, batchSize, block } = a;
      for (const [k, v] of Object.entries(swept)) {
        if (k === 'iterations') iterations = v as number;
        else if (k === 'batchSize') batchSize = v as number;
        else if (k === 'block') block = v as string;
        else params[k] = v;
      }
      const sorted = Object.fromEntries(
        Object.keys(params)
          .sort()
          .map((k) => [k, params[k]]),
      );
      const label = a.label
        ? Object.keys(swept).length
          ? `${a.label}(${kv(swept)})`
          : a.label
        : Object.keys({ ...params, ...swept }).length
          ? `${a.name}(${kv({ ...params, ...swept })})`
          : a.name;
      const scenarioIds = isIndependentAttack(a.name)
        ? [NO_SCENARIO]
        : (a.scenarios ?? spec.scenarios.map((s) => s.id)).flatMap((id) => byOrigin.get(id) ?? []);
      attacks.push({
        index,
        rowId: rowSlug(label, a.name),
        label,
        name: a.name,
        params: sorted,
        iterations,
        batchSize,
        block,
        seeds: a.seeds,
        scenarios: scenarioIds,
        swept,
      });
    }
  });
  attacks.push(...frontierAttacks(spec, byOrigin));
  return { scenarios, attacks };
}

/** Rows of the frontier's grids: the target attack (as the spec writes it, without sweeps) with one grid value each. */
function frontierAttacks(spec: AuditSpec, byOrigin: ReadonlyMap<string, string[]>): ExpandedAttack[] {
  const out: ExpandedAttack[] = [];
  (spec.frontier?.grids ?? []).forEach((g, grid) => {
    const [index] = sweptAttackIndices(spec, g.target);
    if (index === undefined) return;
    const a = spec.attacks[index];
    const scenarioIds = isIndependentAttack(a.name)
      ? [NO_SCENARIO]
      : (a.scenarios ?? spec.scenarios.map((s) => s.id)).flatMap((id) => byOrigin.get(id) ?? []);
    for (const value of g.values) {
      const params: Record<string, Value> = { ...(a.params ?? {}), [g.param]: value };
      const label = `${FRONTIER_LABEL_PREFIX}${a.label ?? a.name}(${g.param}=${String(value)})`;
      out.push({
        index,
        rowId: rowSlug(label, a.name),
        label,
        name: a.name,
        params: Object.fromEntries(
          Object.keys(params)
            .sort()
            .map((k) => [k, params[k]]),
        ),
        iterations: a.iterations,
        batchSize: a.batchSize,
        block: a.block,
        seeds: g.seeds,
        scenarios: scenarioIds,
        swept: { [g.param]: value },
        frontier: { grid, value },
      });
    }
  });
  return out;
}

/** Which planned rows make up which frontier grid (null when the spec has no frontier block). */
export function frontierPlan(spec: AuditSpec): FrontierPlan | null {
  if (!spec.frontier) return null;
  const rows = expandSpec(spec).attacks.filter((a) => a.frontier);
  return {
    ceiling: spec.frontier.ceiling,
    iterations: spec.frontier.iterations,
    grids: spec.frontier.grids.flatMap((g, grid) => {
      const mine = rows.filter((r) => r.frontier?.grid === grid);
      if (mine.length === 0) return [];
      const a = spec.attacks[mine[0].index];
      return [
        {
          grid,
          target: g.target,
          attack: a.name,
          attackLabel: a.label ?? a.name,
          param: g.param,
          seeds: [...g.seeds],
          scenarios: [...mine[0].scenarios],
          values: mine.map((r) => ({ value: r.frontier?.value as Value, rowId: r.rowId, label: r.label })),
        },
      ];
    }),
  };
}

/** The rows of the results table, in spec order: one per attack variant and scenario. */
export function planRows(spec: AuditSpec): RowDef[] {
  const rows: RowDef[] = [];
  const seen = new Set<string>();
  for (const a of expandSpec(spec).attacks) {
    for (const scenario of a.scenarios) {
      const k = `${a.rowId}\u0000${scenario}`;
      if (seen.has(k)) continue;
      seen.add(k);
      rows.push({ rowId: a.rowId, attack: a.name, label: a.label, scenario });
    }
  }
  return rows;
}
