/**
 * The evasion frontier (issue 18 item 2): per defence and per grid of an attack parameter
 * fixed in the spec before the run, the first point of the grid at which the defence's
 * recognition falls to the ceiling (20% by default) or below over at least three judged
 * seeds, and the fidelity drop the attacker pays for it.
 *
 * A defence recognises a suspect when a strict majority of its non-degenerate metrics with
 * a value flag it (a tie is not recognition), as in the results table: for the final
 * models the table's per-row counts are used as they are, for checkpoints the same rule is
 * applied to the checkpoint's values against the calibration's taus (a distance flags below
 * tau, a similarity above). Checkpoints of one grid value are pooled over the grid's seeds.
 *
 * Pure: the plan (which rows belong to which grid, from the spec) is passed in, and so are
 * the defences' display names; no engine, no store.
 */
import type { MetricKind } from '../domain/metrics';
import { metricDefense, type MetricColumn, type ResultsTable, type Trajectory } from './results';

/** Default ceiling: a defence "stops recognising" when it recognises 20% of the suspects or fewer. */
export const FRONTIER_CEILING = 0.2;
/** Judged suspects a point needs before it can be a frontier point (and the seeds a grid needs). */
export const FRONTIER_MIN_SEEDS = 3;
/** Checkpoint spacing of frontier rows when the spec sets no checkpoints.every. */
export const FRONTIER_CHECKPOINT_EVERY = 100;
/** Label prefix of frontier rows ('frontier:RemovalNet(beta=0.5)'); their rowIds start with 'frontier-'. */
export const FRONTIER_LABEL_PREFIX = 'frontier:';

export type FrontierValue = number | boolean | string;

/** One grid as planned (src-main/runner/expand.ts frontierPlan): its rows, one per value. */
export interface FrontierGridPlan {
  /** Index in spec.frontier.grids. */
  grid: number;
  /** 'attack:<label or name>' as the spec says. */
  target: string;
  /** Attack id ('removalnet'). */
  attack: string;
  /** The target attack's label, or its id when it has none ('RemovalNet'). */
  attackLabel: string;
  param: string;
  seeds: number[];
  /** Scenario ids of the grid's rows (the target attack's, sweeps of scenarios expanded). */
  scenarios: string[];
  /** In the spec's order (the order the frontier walks). */
  values: { value: FrontierValue; rowId: string; label: string }[];
}

export interface FrontierPlan {
  ceiling: number;
  /** Whether the grid's rows keep and score checkpoints (the frontier also walks iterations). */
  iterations: boolean;
  grids: FrontierGridPlan[];
}

/** Recognition of one defence at one point of a grid: the final models of a value, or one checkpoint iteration. */
export interface FrontierPoint {
  value: FrontierValue;
  /** null: the final models; a number: the checkpoint at that iteration. */
  iteration: number | null;
  recognised: number;
  /** Suspects on which the defence's metrics split evenly (counted as not recognised). */
  ties: number;
  /** Suspects the defence could judge (at least one of its voting metrics had a value). */
  judged: number;
  /** recognised / judged; null when none was judged. */
  rate: number | null;
  /** Mean fidelity drop of the point's suspects (victim accuracy minus accuracy, a fraction); null when unknown. */
  drop: number | null;
}

export interface FrontierDefense {
  defense: string;
  /** Display name, from the mapping passed in ('DeepJudge'). */
  name: string;
  /** Final models, one per grid value, in grid order. */
  points: FrontierPoint[];
  /** Checkpoints: grid order, then iteration (empty when the grid keeps none). */
  iterations: FrontierPoint[];
  /**
   * The first point (grid order; within a value its checkpoints by iteration, then the final
   * models) with at least FRONTIER_MIN_SEEDS judged and a rate at or below the ceiling; null
   * when the defence still recognises the attack at every point.
   */
  frontier: FrontierPoint | null;
  /**
   * The same over the final models alone (the grid's values, no checkpoints): differs from
   * `frontier` when a checkpoint evades first, e.g. an early checkpoint of an attack that
   * trains from scratch, evading at a large drop.
   */
  finalFrontier: FrontierPoint | null;
  /** The largest drop at which the defence still recognised more than the ceiling (over enough judged seeds). */
  recognisedUpTo: number | null;
  /** This grid's part of the defence's sentence, e.g. 'stops recognising RemovalNet surrogates at a 1.0-point drop (beta 0.5)'. */
  clause: string;
}

export interface FrontierGridResult {
  grid: number;
  target: string;
  attack: string;
  attackLabel: string;
  param: string;
  scenario: string;
  defenses: FrontierDefense[];
}

export interface FrontierResult {
  ceiling: number;
  minSeeds: number;
  iterations: boolean;
  /** One per grid and scenario, in plan order. */
  grids: FrontierGridResult[];
  /** One sentence per defence, in calibration order. */
  sentences: { defense: string; name: string; text: string }[];
}

export interface FrontierInput {
  plan: FrontierPlan;
  /** The results table: per-row recognition (final models), fidelity drops, and the calibration's columns (kinds, taus). */
  table: Pick<ResultsTable, 'rows' | 'metrics' | 'victimAccuracy'>;
  trajectories: readonly Trajectory[];
  /**
   * Scenario of each suspect; without it a trajectory's scenario is read from its key
   * (`attack:<rowId>:<scenario>:<seed>`, see src-main/runner/plan.ts).
   */
  suspects?: readonly { key: string; scenario: string }[];
  /** Defence id -> display name ('deepjudge' -> 'DeepJudge'); the id when absent. */
  names?: Readonly<Record<string, string>>;
}

const flags = (kind: MetricKind, value: number, tau: number): boolean =>
  kind === 'distance' ? value < tau : value > tau;

/** Columns that vote in a defence's own verdict: a kind, a finite tau, not degenerate. */
function votingColumns(metrics: readonly MetricColumn[]): MetricColumn[] {
  return metrics.filter((c) => c.kind !== null && c.tau !== null && Number.isFinite(c.tau) && !c.degenerate);
}

/** Defence ids of the calibration's metric columns, in column order. */
function defenseIds(metrics: readonly MetricColumn[]): string[] {
  return [...new Set(metrics.filter((c) => c.kind !== null).map((c) => metricDefense(c.id)))];
}

function rate(recognised: number, judged: number): number | null {
  return judged > 0 ? recognised / judged : null;
}

function scenarioOfKey(key: string): string | undefined {
  const parts = key.split(':');
  return parts.length === 4 && parts[0] === 'attack' ? parts[2] : undefined;
}

function meanOrNull(xs: readonly number[]): number | null {
  const ok = xs.filter((x) => Number.isFinite(x));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : null;
}

/** Fidelity drop in points with one decimal: 0.0372 -> '3.7'. */
export function dropPoints(drop: number): string {
  const s = (drop * 100).toFixed(1);
  return s === '-0.0' ? '0.0' : s;
}

/** Recognition per defence at each checkpoint iteration of one grid value, pooled over its suspects. */
function checkpointPoints(
  value: FrontierValue,
  trajectories: readonly Trajectory[],
  voting: readonly MetricColumn[],
  defenses: readonly string[],
  victimAccuracy: number | null,
): Map<string, FrontierPoint[]> {
  const iterations = [...new Set(trajectories.flatMap((t) => t.points.map((p) => p.iteration)))].sort((a, b) => a - b);
  const out = new Map<string, FrontierPoint[]>(defenses.map((d) => [d, []]));
  for (const iteration of iterations) {
    const at = trajectories.flatMap((t) => t.points.filter((p) => p.iteration === iteration));
    const drop = victimAccuracy === null ? null : meanOrNull(at.map((p) => victimAccuracy - p.fidelity));
    for (const d of defenses) {
      const mine = voting.filter((c) => metricDefense(c.id) === d);
      let recognised = 0;
      let ties = 0;
      let judged = 0;
      for (const p of at) {
        let flagged = 0;
        let of = 0;
        for (const c of mine) {
          const v = p.metrics[c.id]?.value;
          if (typeof v !== 'number' || !Number.isFinite(v)) continue;
          of += 1;
          if (flags(c.kind as MetricKind, v, c.tau as number)) flagged += 1;
        }
        if (of === 0) continue;
        judged += 1;
        if (flagged * 2 > of) recognised += 1;
        else if (flagged * 2 === of) ties += 1;
      }
      out.get(d)?.push({ value, iteration, recognised, ties, judged, rate: rate(recognised, judged), drop });
    }
  }
  return out;
}

const enough = (p: FrontierPoint): boolean => p.judged >= FRONTIER_MIN_SEEDS && p.rate !== null;

function frontierClause(
  d: Pick<FrontierDefense, 'frontier' | 'recognisedUpTo'> & { thin: number },
  what: string,
  param: string,
): string {
  const f = d.frontier;
  if (f) {
    const at = f.drop === null ? 'at an unknown drop' : `at a ${dropPoints(f.drop)}-point drop`;
    return `stops recognising ${what} ${at} (${param} ${String(f.value)}${f.iteration === null ? '' : `, iteration ${f.iteration}`})`;
  }
  if (d.recognisedUpTo !== null) {
    const short = d.thin
      ? ` (${d.thin} ${d.thin === 1 ? 'point has' : 'points have'} fewer than ${FRONTIER_MIN_SEEDS} judged seeds)`
      : '';
    return `still recognises ${what} at every point of the ${param} grid, up to a ${dropPoints(d.recognisedUpTo)}-point drop${short}`;
  }
  return `has too few judged ${what} for a frontier (${FRONTIER_MIN_SEEDS} seeds per point needed)`;
}

/** The evasion frontier of every grid and defence, and one sentence per defence. */
export function computeFrontier(input: FrontierInput): FrontierResult {
  const { plan, table } = input;
  const voting = votingColumns(table.metrics);
  const defenses = defenseIds(table.metrics);
  const name = (id: string): string => input.names?.[id] ?? id;
  const scenarioOf = new Map((input.suspects ?? []).map((s) => [s.key, s.scenario]));
  const trajectoryScenario = (t: Trajectory): string | undefined =>
    scenarioOf.get(t.suspectKey) ?? scenarioOfKey(t.suspectKey);

  const grids: FrontierGridResult[] = [];
  for (const g of plan.grids) {
    for (const scenario of g.scenarios) {
      const perDefense = new Map<string, { points: FrontierPoint[]; iterations: FrontierPoint[] }>(
        defenses.map((d) => [d, { points: [], iterations: [] }]),
      );
      for (const v of g.values) {
        const row = table.rows.find((r) => r.rowId === v.rowId && r.scenario === scenario);
        const trajectories = plan.iterations
          ? input.trajectories.filter((t) => t.rowId === v.rowId && trajectoryScenario(t) === scenario)
          : [];
        const checkpoints = checkpointPoints(v.value, trajectories, voting, defenses, table.victimAccuracy);
        for (const d of defenses) {
          const rec = row?.defenses[d] ?? { recognised: 0, ties: 0, judged: 0 };
          const entry = perDefense.get(d) as { points: FrontierPoint[]; iterations: FrontierPoint[] };
          entry.points.push({
            value: v.value,
            iteration: null,
            recognised: rec.recognised,
            ties: rec.ties,
            judged: rec.judged,
            rate: rate(rec.recognised, rec.judged),
            drop: row?.fidelity ? row.fidelity.drop : null,
          });
          entry.iterations.push(...(checkpoints.get(d) ?? []));
        }
      }
      const what = `${g.attackLabel} surrogates${g.scenarios.length > 1 ? ` (${scenario})` : ''}`;
      grids.push({
        grid: g.grid,
        target: g.target,
        attack: g.attack,
        attackLabel: g.attackLabel,
        param: g.param,
        scenario,
        defenses: defenses.map((d): FrontierDefense => {
          const { points, iterations } = perDefense.get(d) as { points: FrontierPoint[]; iterations: FrontierPoint[] };
          // The walk: grid order; within a value, its checkpoints by iteration, then its final models.
          const walk = g.values.flatMap((v) => [
            ...iterations.filter((p) => p.value === v.value),
            ...points.filter((p) => p.value === v.value),
          ]);
          const evades = (p: FrontierPoint): boolean => enough(p) && (p.rate as number) <= plan.ceiling;
          const frontier = walk.find(evades) ?? null;
          const finalFrontier = points.find(evades) ?? null;
          const surviving = walk.filter((p) => enough(p) && (p.rate as number) > plan.ceiling && p.drop !== null);
          const recognisedUpTo = surviving.length ? Math.max(...surviving.map((p) => p.drop as number)) : null;
          return {
            defense: d,
            name: name(d),
            points,
            iterations,
            frontier,
            finalFrontier,
            recognisedUpTo,
            clause: frontierClause(
              { frontier, recognisedUpTo, thin: walk.filter((p) => !enough(p)).length },
              what,
              g.param,
            ),
          };
        }),
      });
    }
  }

  const sentences = defenses.flatMap((d) => {
    const clauses = grids.flatMap((g) => g.defenses.filter((x) => x.defense === d).map((x) => x.clause));
    return clauses.length ? [{ defense: d, name: name(d), text: `${name(d)} ${clauses.join('; ')}.` }] : [];
  });
  return { ceiling: plan.ceiling, minSeeds: FRONTIER_MIN_SEEDS, iterations: plan.iterations, grids, sentences };
}

/** The text lines `run` and `runs show` print under the table. */
export function formatFrontier(result: FrontierResult): string[] {
  if (result.sentences.length === 0) return [];
  return [
    `evasion frontier (recognition at or below ${Number((result.ceiling * 100).toFixed(1))}% over at least ${result.minSeeds} judged seeds):`,
    ...result.sentences.map((s) => `  ${s.text}`),
  ];
}
