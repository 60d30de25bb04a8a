/**
 * The run monitor's charts: the data the shared echarts option builders draw, from the
 * stored run and the live progress the monitor has collected. Pure (no DOM, no runes).
 */
import type { LossesChartData, TrajectoryChartData } from '../../../../src-shared/charts';
import type { RunDetail } from '../../../../src-shared/contract/api';
import { attackColor, metricLabel } from '../format';

/** The attack a suspect's job key belongs to ('attack:ROW:SCENARIO:SEED'), through its Table-1 row. */
function attackOfKey(detail: RunDetail | null, key: string): string | undefined {
  const rowId = key.split(':')[1];
  return detail?.table.rows.find((r) => r.rowId === rowId)?.attack;
}

/** A suspect's colour: its attack's, the same in every run. */
function colorOfKey(detail: RunDetail | null, key: string): string | undefined {
  const attack = attackOfKey(detail, key);
  return attack ? attackColor(attack) : undefined;
}

/** A job's label for a series name, from its key. */
export type LabelOf = (jobKey: string) => string;

/** Series per job: job key -> [iteration, value] points. */
export type PointSeries = Record<string, [number, number][]>;

/** The loss series of one job (`key`); a log scale once they span more than two decades. */
export function lossesChart(
  losses: Record<string, PointSeries>,
  key: string | null,
  labelOf: LabelOf,
): LossesChartData {
  const series = key ? Object.entries(losses[key] ?? {}).map(([name, points]) => ({ name, points })) : [];
  const all = series.flatMap((s) => s.points.map((p) => p[1]));
  const positive = all.length > 0 && all.every((v) => v > 0);
  const logY = positive && Math.max(...all) / Math.min(...all) > 100;
  return { title: key ? `Losses: ${labelOf(key)}` : 'Losses', series, logY };
}

/** Test accuracy over iterations of every attack job: stored curves, then live points. */
export function fidelityChart(detail: RunDetail | null, liveFidelity: PointSeries, labelOf: LabelOf): LossesChartData {
  const keys = new Set<string>([...Object.keys(detail?.curves ?? {}), ...Object.keys(liveFidelity)]);
  const series = [...keys].map((key) => {
    const pts = new Map<number, number>();
    for (const p of detail?.curves[key] ?? []) pts.set(p.iteration, p.fidelity);
    for (const [it, v] of liveFidelity[key] ?? []) pts.set(it, v);
    return {
      name: labelOf(key),
      color: colorOfKey(detail, key),
      points: [...pts.entries()].sort((a, b) => a[0] - b[0]).map(([it, v]): [number, number] => [it, v * 100]),
    };
  });
  return { title: 'Fidelity over the attack', series, yName: 'test accuracy %' };
}

/** Metric ids that have checkpoint values: those the spec asked for first. */
export function trajectoryMetrics(detail: RunDetail | null): string[] {
  const ids = new Set<string>();
  for (const t of detail?.trajectories ?? [])
    for (const p of t.points) for (const [id, v] of Object.entries(p.metrics)) if (v.normalized !== null) ids.add(id);
  const spec = detail?.run.spec;
  const wanted = [
    ...new Set([
      ...(spec?.checkpoints?.metrics ?? []),
      ...(spec?.attacks.flatMap((a) => a.checkpoints?.metrics ?? []) ?? []),
    ]),
  ];
  return [...wanted.filter((m) => ids.has(m)), ...[...ids].filter((m) => !wanted.includes(m))];
}

/** Fidelity against one metric over tau at each checkpoint (`chosen`, or the first with values). */
export function trajectoryChart(
  detail: RunDetail | null,
  chosen: string | null,
  labelOf: LabelOf,
): TrajectoryChartData | null {
  const metrics = trajectoryMetrics(detail);
  const metricId = chosen && metrics.includes(chosen) ? chosen : metrics[0];
  if (!metricId) return null;
  const column = detail?.table.metrics.find((m) => m.id === metricId);
  const series = (detail?.trajectories ?? []).map((t) => ({
    name: labelOf(t.suspectKey),
    color: colorOfKey(detail, t.suspectKey),
    points: t.points.flatMap((p) => {
      const m = p.metrics[metricId];
      return m && m.normalized !== null && Number.isFinite(p.fidelity)
        ? [{ iteration: p.iteration, fidelity: p.fidelity, normalized: m.normalized }]
        : [];
    }),
  }));
  return {
    metricId,
    metricLabel: metricLabel(metricId),
    kind: column?.kind ?? null,
    series: series.filter((s) => s.points.length > 0),
    title: `Fidelity against ${metricLabel(metricId)} / tau at each checkpoint`,
  };
}

/** Run letters of a comparison: A, B, C... */
export function runLetter(i: number): string {
  return String.fromCharCode(65 + i);
}

/**
 * Compared runs' fidelity curves overlaid: one series per (run, suspect), named with the
 * run's letter ("A · finetune ltd2 seed 1"), in its attack's colour and its run's line type.
 */
export function comparedFidelityChart(details: readonly RunDetail[]): LossesChartData {
  const series = details.flatMap((d, i) => {
    const labelOf = (key: string): string => d.jobs.find((j) => j.key === key)?.label ?? key;
    // Each attack keeps its colour; the runs differ by line type (A solid, B dashed, C dotted, ...).
    const lineType = (['solid', 'dashed', 'dotted'] as const)[i % 3];
    return fidelityChart(d, {}, labelOf).series.map((s) => ({ ...s, lineType, name: `${runLetter(i)} · ${s.name}` }));
  });
  return { title: 'Fidelity over the attack, runs overlaid', series, yName: 'test accuracy %' };
}
