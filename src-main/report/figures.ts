/**
 * The report's chart figures, built from the report data with the shared option builders
 * (src-shared/charts) and rendered to SVG: trajectories (paper Fig. 4-5), metric box plots
 * against tau (the paper's Table 1 as distributions), the ROC of the RemovalNet row per
 * defence (separability.ts), the sweeps (Fig. 6, substitute size,
 * and Fig. 8, the alpha/beta ablation) and attack cost against fidelity (Fig. 7). A figure
 * the run has no data for is listed as skipped with the reason, and the report says so.
 *
 * Sizes are CSS pixels at 96 dpi: 680 px is the 180 mm text width of an A4 page with
 * 15 mm margins; two-column figures use 335 px per chart.
 */
import type { EChartsOption } from 'echarts';
import {
  efficiencyOption,
  boxplotHeight,
  boxplotLies,
  metricBoxplotOption,
  sweepFidelityOption,
  sweepMetricsOption,
  trajectoryOption,
  type TrajectoryChartData,
} from '../../src-shared/charts';
import { checkpointEvery, keepsCheckpoints } from '../../src-shared/audit/spec';
import { attackColor } from '../engine/attacks/registry';
import { displayLabel, type ReportData } from './data';
import { frontierFigures } from './frontier';
import { rocOption, rocRow, separabilityData } from './separability';
import { sweepVariantTest } from './sweeps';
import { renderSvg } from './svg';

export interface ReportChart {
  option: EChartsOption;
  width: number;
  height: number;
  svg: string;
}

interface FigureBase {
  /** Stable id, e.g. 'trajectory-deepjudge.lod', 'boxplots-1', 'efficiency', 'tsne', 'layercam'. */
  id: string;
  /** Short title, the first words of the caption. */
  title: string;
  /** Caption text after the title (the HTML numbers the figures). */
  caption: string;
}

export interface ChartFigure extends FigureBase {
  kind: 'charts';
  charts: ReportChart[];
  /** Charts per line. */
  columns: 1 | 2;
}

export interface ImageFigure extends FigureBase {
  kind: 'images';
  /** Ready HTML (images inlined as data URIs). */
  html: string;
  /** Number of images in it. */
  images: number;
}

export type ReportFigure = ChartFigure | ImageFigure;

export interface SkippedFigure {
  id: string;
  title: string;
  reason: string;
}

export interface ReportFigures {
  figures: ReportFigure[];
  skipped: SkippedFigure[];
}

export const FULL_WIDTH = 680;
export const HALF_WIDTH = 335;

export function chart(option: EChartsOption, width: number, height: number): ReportChart {
  return { option, width, height, svg: renderSvg(option, width, height) };
}

/** One chart's data per metric that was scored at checkpoints. */
export function trajectoryData(data: ReportData): TrajectoryChartData[] {
  // The rows the spec is about: sweep variants have their own figure, and twenty more lines
  // would bury the main rows (they stay when the run has nothing else).
  const isVariant = sweepVariantTest(data.spec);
  const suspectOf = (key: string) => data.suspects.find((x) => x.key === key);
  const main = data.trajectories.filter((t) => {
    const s = suspectOf(t.suspectKey);
    return !s || !isVariant(s.rowId, s.scenario);
  });
  const trajectories = main.length ? main : data.trajectories;
  const ids = [...new Set(trajectories.flatMap((t) => t.points.flatMap((p) => Object.keys(p.metrics))))];
  const order = data.table.metrics.map((m) => m.id);
  ids.sort(
    (a, b) => (order.indexOf(a) === -1 ? 1e9 : order.indexOf(a)) - (order.indexOf(b) === -1 ? 1e9 : order.indexOf(b)),
  );
  return ids.map((id) => {
    const info = data.metrics[id];
    const tau = data.table.metrics.find((m) => m.id === id)?.tau ?? null;
    return {
      metricId: id,
      metricLabel: info?.label ?? id,
      kind: info?.kind ?? null,
      omittedVariants: data.trajectories.length - trajectories.length,
      series: trajectories.map((t) => {
        const s = suspectOf(t.suspectKey);
        const row = s ? `${displayLabel(s)}${s.scenario !== '-' ? ` ${s.scenario}` : ''}` : t.suspectKey;
        return {
          name: s ? `${row} seed ${s.seed}` : row,
          group: row,
          ...(s ? { color: attackColor(s.attack) } : {}),
          points: t.points.flatMap((p) => {
            const m = p.metrics[id];
            const normalized =
              m?.normalized ?? (m?.value !== null && m?.value !== undefined && tau ? m.value / tau : null);
            return normalized === null || normalized === undefined || !Number.isFinite(p.fidelity)
              ? []
              : [{ iteration: p.iteration, fidelity: p.fidelity, normalized }];
          }),
        };
      }),
    };
  });
}

export function chartFigures(data: ReportData): ReportFigures {
  return withFrontier(data, chartFiguresWithoutFrontier(data));
}

/** The frontier's figures lead (page one); a spec without a frontier block has none, and says nothing. */
function withFrontier(data: ReportData, figures: ReportFigures): ReportFigures {
  if (!data.frontier) return figures;
  return { ...figures, figures: [...frontierFigures(data.frontier), ...figures.figures] };
}

function chartFiguresWithoutFrontier(data: ReportData): ReportFigures {
  const figures: ReportFigure[] = [];
  const skipped: SkippedFigure[] = [];

  // Fig. 4-5: trajectories.
  const trajectories = trajectoryData(data).filter((t) => t.series.some((s) => s.points.length > 0));
  if (trajectories.length === 0) {
    skipped.push({
      id: 'trajectory',
      title: 'Fidelity against normalised distance over the attack',
      reason: keepsCheckpoints(data.spec)
        ? 'no checkpoint of this run has been scored yet'
        : 'the audit spec sets no `checkpoints`, so no checkpoint was scored',
    });
  }
  for (const t of trajectories) {
    const every = checkpointEvery(data.spec);
    figures.push({
      kind: 'charts',
      id: `trajectory-${t.metricId}`,
      title: `Fidelity against ${t.metricLabel} / tau over the attack.`,
      caption:
        `Each line is one suspect at its kept checkpoints${every ? ` (every ${every} iterations)` : ''}, in iteration order, in its attack's colour (as in the workbench); y is its test accuracy. ` +
        (t.omittedVariants
          ? `The ${t.omittedVariants} suspects of sweep variants are left out here (see the sweep figures). `
          : '') +
        `The dashed line at x = 1 is the threshold tau; the shaded side is where ${t.metricLabel} flags a suspect as derived. ` +
        'A removal attack that works leaves the shaded side while its accuracy stays high (paper Fig. 4-5).',
      columns: 1,
      charts: [chart(trajectoryOption(t), FULL_WIDTH, 340)],
    });
  }

  // Box plots per metric (Table 1's spread), two per figure in table order (one defence's pair, or
  // two one-metric defences): a figure never breaks across pages, and six panels in one
  // figure would leave most of a page empty before it.
  const boxes = data.boxplots.filter((b) => b.rows.some((r) => r.values.length > 0));
  if (boxes.length === 0) {
    skipped.push({
      id: 'boxplots',
      title: 'Metric values per attack against tau',
      reason: 'no suspect of this run has been scored yet',
    });
  }
  // Many rows lie on their side, one full-width panel per figure, one label per line (legible at 20 rows).
  const lying = boxes.some((b) => boxplotLies(b, HALF_WIDTH));
  const perFigure = lying ? 1 : 2;
  for (let i = 0; i < boxes.length; i += perFigure) {
    const group = boxes.slice(i, i + perFigure);
    figures.push({
      kind: 'charts',
      id: `boxplots-${i / perFigure + 1}`,
      title: `${group.map((b) => b.metricLabel).join(' and ')} per attack against tau.`,
      caption:
        'A box per attack row (quartiles and extremes of its suspects) with every suspect as a dot. ' +
        `The dashed red line is tau: a distance ${lying ? 'left of' : 'below'} it, or a similarity ${lying ? 'right of' : 'above'} it, flags the suspect as derived.`,
      columns: perFigure,
      charts: group.map((b) =>
        chart(metricBoxplotOption(b, lying), lying ? FULL_WIDTH : HALF_WIDTH, boxplotHeight(b, 250, lying)),
      ),
    });
  }

  // ROC of the RemovalNet row per defence (issue 18): separability beyond the one tau.
  const roc = rocRow(separabilityData(data));
  if (roc) {
    const n = roc.defenses.find((d) => d.roc)?.roc;
    figures.push({
      kind: 'charts',
      id: 'roc',
      title: `ROC per defence for ${roc.label}${roc.scenario !== '-' ? ` (${roc.scenario})` : ''}.`,
      caption:
        `Each line is one defence: the share of the row's ${n?.nPos ?? 0} surrogates it recognises (y) against the share of the ${n?.nNeg ?? 0} independent models (reference and Negative models) it accuses (x), over every threshold on its score (the margin past tau of the metric at its strict-majority rank; the calibrated tau is threshold 0). ` +
        'The dashed diagonal is chance; AUC in the legend (section 3 gives its interval).',
      columns: 1,
      charts: [chart(rocOption(roc, FULL_WIDTH), FULL_WIDTH, 320)],
    });
  } else {
    skipped.push({
      id: 'roc',
      title: 'ROC per defence for the RemovalNet row',
      reason: 'the run has no scored RemovalNet surrogate with independent models to compare it with',
    });
  }

  // Fig. 6 and 8: sweeps.
  for (const [i, sw] of data.sweeps.entries()) {
    if (sw.series.length === 0) {
      skipped.push({
        id: `sweep-${i + 1}`,
        title: `Sweep of ${sw.title}`,
        reason: 'no row of this sweep has a scored suspect yet',
      });
      continue;
    }
    const counts = [...new Set(sw.series.flatMap((s) => s.points.map((p) => p.n)))].sort((a, b) => a - b);
    const paper =
      sw.param === 'fraction' || sw.param === 'partition'
        ? ' (paper Fig. 6)'
        : sw.param === 'alpha' || sw.param === 'beta'
          ? ' (paper Fig. 8)'
          : '';
    figures.push({
      kind: 'charts',
      id: `sweep-${i + 1}`,
      title: `Sweep of ${sw.title}.`,
      caption:
        `Left: the surrogates' mean test accuracy at each value of ${sw.param}; right: each metric's mean value / tau, where the dashed red line at 1 is the threshold (a distance flags below it, a similarity, dashed, above it). ` +
        `A line joins the rows whose settings differ only in ${sw.param}, so the spec's main row appears at its own value. ` +
        `Each point is a row mean over ${counts.length === 1 ? `${counts[0]} suspect${counts[0] === 1 ? '' : 's'}` : `${counts.join(', ')} suspects (rows differ)`}${paper}.`,
      columns: 2,
      charts: [chart(sweepFidelityOption(sw), HALF_WIDTH, 280), chart(sweepMetricsOption(sw), HALF_WIDTH, 280)],
    });
  }

  // Fig. 7: efficiency.
  if (data.efficiency) {
    const hasMark = data.efficiency.marks.length > 0;
    figures.push({
      kind: 'charts',
      id: 'efficiency',
      title: `Attack cost against fidelity: KnockoffNets${hasMark ? ' and RemovalNet' : ''}.`,
      caption:
        "KnockoffNets' learning curve: the surrogate's accuracy on held-out test images during training, against the forward and backward passes spent so far (per example; a curve point's cost is prorated by iteration). " +
        (hasMark
          ? "The red diamonds are the RemovalNet surrogates (of the rows no sweep varies, on the scenario KnockoffNets used where there are such) at their final accuracy and total cost; the dashed lines mark their mean. A pass through part of a network, such as a step of RemovalNet's latent search through the tail, counts as one pass. "
          : 'The run has no RemovalNet surrogate to compare with. ') +
        "The dotted line is the victim's accuracy (paper Fig. 7).",
      columns: 1,
      charts: [chart(efficiencyOption(data.efficiency), FULL_WIDTH, 330)],
    });
  } else {
    skipped.push({
      id: 'efficiency',
      title: 'Attack cost against fidelity',
      reason: data.efficiencyReason ?? 'no data',
    });
  }
  return { figures, skipped };
}
