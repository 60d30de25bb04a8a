/**
 * `ownership-audit report RUN_ID --out report.pdf [--format pdf|html|csv|json] [--figures DIR]`: the audit
 * report of a stored run. PDF needs a Chromium on the machine (found on the usual paths or
 * through OWNERSHIP_AUDIT_CHROMIUM); html, csv and json need nothing. The format follows
 * --format, else the --out extension, else pdf. Every written report is recorded with the run.
 */
import { extname, resolve } from 'node:path';
import { type Command } from 'commander';
import { initBackend } from '../../engine/backend';
import { AuditError } from '../../engine/errors';
import { findChromium, parseReportFormat, writeReport, type ReportFormat } from '../../report';
import { databasePath, openStore, resolveHome } from '../../store';
import { emit, fail, progress } from '../output';

interface ReportFlags {
  out?: string;
  format?: string;
  home?: string;
  modelFigures?: boolean;
  figures?: string;
  json?: boolean;
}

const EXTENSIONS: Record<string, ReportFormat> = {
  '.pdf': 'pdf',
  '.html': 'html',
  '.htm': 'html',
  '.csv': 'csv',
  '.json': 'json',
};

export function registerReport(program: Command): void {
  program
    .command('report <runId>')
    .description(
      'write the audit report of a run: PDF (findings, Table 1, thresholds, figures, spec, environment), HTML, the table as CSV or the run as JSON',
    )
    .option('--out <file>', 'output file (default: report-<runId>.<format> in the current folder)')
    .option('--format <format>', 'pdf | html | csv | json (default: from the --out extension, else pdf)')
    .option(
      '--home <dir>',
      'data folder with the run history (default: env OWNERSHIP_AUDIT_HOME or the per-user app data folder)',
    )
    .option(
      '--figures <dir>',
      'pdf or html: also write every figure to this folder (charts as SVG, LayerCAM as HTML, figures.json with the captions)',
    )
    .option(
      '--no-model-figures',
      'skip the t-SNE and LayerCAM figures (they load the victim, a RemovalNet surrogate and test data)',
    )
    .option('--json', 'print { path, format, bytes, pages, figures, skipped } as JSON')
    .action(async (runId: string, f: ReportFlags) => {
      const mode = { json: Boolean(f.json) };
      try {
        const fromExt = f.out ? EXTENSIONS[extname(f.out).toLowerCase()] : undefined;
        const format = f.format ? parseReportFormat(f.format) : (fromExt ?? 'pdf');
        if (f.format && fromExt && fromExt !== format) {
          throw new AuditError('INVALID_ARGUMENT', `--format ${format} does not match the --out file ${f.out}`, {
            hint: `Name the file *.${format}, or drop --format.`,
          });
        }
        const out = resolve(f.out ?? `report-${runId}.${format}`);
        if (f.figures && format !== 'pdf' && format !== 'html')
          throw new AuditError('INVALID_ARGUMENT', `--figures needs --format pdf or html, not ${format}`, {
            hint: 'Drop --figures, or write a pdf or html report.',
          });
        const modelFigures = f.modelFigures !== false && (format === 'pdf' || format === 'html');
        const store = openStore(databasePath(resolveHome(f.home)));
        try {
          if (!store.getRun(runId))
            throw new AuditError('RUN_NOT_FOUND', `No run with id ${runId}`, {
              hint: 'List runs with `ownership-audit runs list`.',
            });
          // The browser first: a missing Chromium should not cost a backend start and the figures.
          const executablePath = format === 'pdf' ? findChromium() : undefined;
          if (modelFigures) await initBackend(program.opts<{ backend?: string }>().backend);
          const r = await writeReport(store, runId, {
            format,
            out,
            modelFigures,
            figuresDir: f.figures,
            pdf: { executablePath },
            onProgress: (stage) => progress(`report: ${stage}`),
          });
          emit(mode, r, () =>
            [
              `wrote ${r.path} (${r.format}${r.pages !== undefined ? `, ${r.pages} pages` : ''}, ${(r.bytes / 1024).toFixed(0)} KiB)`,
              ...(r.skipped ?? []).map((s) => `  figure not drawn: ${s.id}: ${s.reason}`),
            ].join('\n'),
          );
        } finally {
          store.close();
        }
      } catch (e) {
        fail(mode, e);
      }
    });
}
