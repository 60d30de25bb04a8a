/**
 * Audit reports: `writeReport(store, runId, { format, out })` writes a run as PDF, HTML,
 * CSV (the results table) or JSON (the whole run) and records the file in the store.
 *
 *   collectReportData -> chartFigures (+ modelFigures) -> reportHtml -> renderPdf
 *
 * Every stage is exported on its own: the app renders `reportHtml` and prints it with
 * Electron's printToPDF, and tests check the stages separately.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AuditError } from '../engine/errors';
import { loadResultsTable } from '../runner/results';
import type { AuditStore } from '../store/types';
import { collectReportData, type ReportData } from './data';
import { tableCsv, runJson } from './exports';
import { chartFigures, type ReportFigures } from './figures';
import { orderFigures, reportHtml } from './html';
import { modelFigures, type ModelFigureOptions } from './model-figures';
import { writeFigureFiles } from './figure-files';
import { findChromium, renderPdf, type RenderPdfOptions } from './pdf';
import { writeFileAtomicSync } from '../engine/files/atomic-write';
import { REPORT_FORMATS, type ReportFormat } from '../../src-shared/domain/reports';

export {
  collectReportData,
  displayLabel,
  metricInfo,
  hashPath,
  attackName,
  defenseName,
  type ReportData,
  type MetricInfo,
  type AttackRun,
  type ReportEnvironment,
} from './data';
export { findings, points, recognised, type Finding } from './findings';
export {
  chartFigures,
  trajectoryData,
  type ReportFigure,
  type ReportFigures,
  type ChartFigure,
  type ImageFigure,
  type SkippedFigure,
  type ReportChart,
} from './figures';
export { modelFigures, outputProbabilities, type ModelFigureOptions } from './model-figures';
export { layerCam, jet, overlay, type LayerCamResult } from './layercam';
export { runTsne, type TsneOptions, type TsneResult } from './tsne';
export { renderSvg } from './svg';
export { reportHtml, orderFigures, escapeHtml } from './html';
export {
  renderPdf,
  findChromium,
  chromiumCandidates,
  countPdfPages,
  CHROMIUM_ENV,
  CHROMIUM_ARGS,
  type RenderPdfOptions,
  type FindChromiumOptions,
  type RenderedPdf,
} from './pdf';
export { tableCsv, runJson } from './exports';
export { writeFigureFiles, type FigureFile } from './figure-files';
export { formatMetricCell, formatFidelity, formatTau, percent, ruleText, formatSeconds } from './format';

export { REPORT_FORMATS, type ReportFormat };

export function parseReportFormat(value: string): ReportFormat {
  const v = value.trim().toLowerCase();
  if ((REPORT_FORMATS as readonly string[]).includes(v)) return v as ReportFormat;
  throw new AuditError('INVALID_ARGUMENT', `Unknown report format "${value}"`, {
    hint: `Use one of: ${REPORT_FORMATS.join(', ')}.`,
  });
}

export interface BuildReportOptions {
  /** Draw the t-SNE and LayerCAM figures (loads victim, surrogate and test data). Default true. */
  modelFigures?: boolean | ModelFigureOptions;
  onProgress?: (stage: string) => void;
}

export interface BuiltReport {
  data: ReportData;
  figures: ReportFigures;
  html: string;
}

/** Data, figures and HTML of a run's report. */
export async function buildReport(
  store: AuditStore,
  runId: string,
  opts: BuildReportOptions = {},
): Promise<BuiltReport> {
  opts.onProgress?.('collecting the run');
  const data = await collectReportData(store, runId);
  opts.onProgress?.('drawing charts');
  const charts = chartFigures(data);
  const figures: ReportFigures = { figures: [...charts.figures], skipped: [...charts.skipped] };
  if (opts.modelFigures !== false) {
    opts.onProgress?.('drawing the t-SNE and LayerCAM figures');
    const m = await modelFigures(data, typeof opts.modelFigures === 'object' ? opts.modelFigures : {});
    figures.figures.push(...m.figures);
    figures.skipped.push(...m.skipped);
  } else {
    for (const [id, title] of [
      ['layercam', 'LayerCAM saliency of victim and surrogate'],
      ['tsne', 't-SNE of victim and surrogate output probabilities'],
    ]) {
      figures.skipped.push({ id, title, reason: 'model figures were turned off for this report' });
    }
  }
  return { data, figures, html: reportHtml(data, figures) };
}

export interface WriteReportOptions extends BuildReportOptions {
  format: ReportFormat;
  /** pdf and html: also write every figure to this folder (SVG charts, figures.json). */
  figuresDir?: string;
  out: string;
  pdf?: RenderPdfOptions;
}

export interface WrittenReport {
  path: string;
  format: ReportFormat;
  bytes: number;
  /** PDF only. */
  pages?: number;
  /** Figure ids drawn, in report order, and skipped (pdf and html). */
  figures?: string[];
  skipped?: { id: string; reason: string }[];
  reportId: number;
}

function writeAtomic(file: string, text: string): number {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomicSync(file, text);
  return Buffer.byteLength(text);
}

/** Writes the run's report in one format and records it in the store. */
export async function writeReport(store: AuditStore, runId: string, opts: WriteReportOptions): Promise<WrittenReport> {
  const out = resolve(opts.out);
  let written: Omit<WrittenReport, 'reportId'>;
  if (opts.format === 'csv') {
    if (!store.getRun(runId))
      throw new AuditError('RUN_NOT_FOUND', `No run with id ${runId}`, {
        hint: 'List runs with `ownership-audit runs list`.',
      });
    written = { path: out, format: 'csv', bytes: writeAtomic(out, tableCsv(loadResultsTable(store, runId))) };
  } else if (opts.format === 'json') {
    const data = await collectReportData(store, runId);
    written = { path: out, format: 'json', bytes: writeAtomic(out, `${JSON.stringify(runJson(data), null, 2)}\n`) };
  } else {
    // Look for the browser first: no point drawing figures for a PDF that cannot be printed.
    const executablePath = opts.format === 'pdf' ? (opts.pdf?.executablePath ?? findChromium(opts.pdf)) : undefined;
    const built = await buildReport(store, runId, opts);
    const figures = orderFigures(built.figures.figures).map((f) => f.id);
    const skipped = built.figures.skipped.map((s) => ({ id: s.id, reason: s.reason }));
    if (opts.figuresDir) writeFigureFiles(resolve(opts.figuresDir), built.figures);
    if (opts.format === 'html') {
      written = { path: out, format: 'html', bytes: writeAtomic(out, built.html), figures, skipped };
    } else {
      opts.onProgress?.('printing the PDF');
      const pdf = await renderPdf(built.html, out, {
        footer: `Ownership Audit report · run ${runId}`,
        ...opts.pdf,
        executablePath,
      });
      written = { path: out, format: 'pdf', bytes: pdf.bytes, pages: pdf.pages, figures, skipped };
    }
  }
  const record = store.addReport({ runId, format: opts.format, path: out });
  return { ...written, reportId: record.id };
}
