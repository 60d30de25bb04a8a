/**
 * `ownership-audit report RUN_ID --out report.pdf [--format pdf|html|csv|json] [--figures DIR]`: the audit
 * report of a stored run. PDF needs a Chromium on the machine (found on the usual paths or
 * through OWNERSHIP_AUDIT_CHROMIUM); html, csv and json need nothing. The format follows
 * --format, else the --out extension, else pdf. Every written report is recorded with the run.
 *
 * `ownership-audit report --evidence DIR --out cert.pdf [--format pdf|html]`: instead of a run,
 * the one- or two-page certificate of an evidence bundle (report/certificate.ts). The bundle is
 * checked first; one that does not check (EVIDENCE_MISMATCH) gets no certificate.
 */
import { extname, resolve } from 'node:path';
import { type Command } from 'commander';
import { allCores, initBackend } from '../../engine/backend';
import { AuditError } from '../../engine/errors';
import { findChromium, parseReportFormat, writeReport, type ReportFormat } from '../../report';
import { writeCertificate } from '../../report/certificate';
import { databasePath, openStore, resolveHome } from '../../store';
import { emit, fail, progress } from '../output';
import { calibrationTrust } from './verification';

interface ReportFlags {
  out?: string;
  format?: string;
  home?: string;
  modelFigures?: boolean;
  figures?: string;
  json?: boolean;
  evidence?: string;
  rootHash?: string;
  trustKey?: string;
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
    .command('report [runId]')
    .description(
      'write the audit report of a run: PDF (findings, Table 1, thresholds, figures, spec, environment), HTML, the table as CSV or the run as JSON; or, with --evidence DIR, the certificate of an evidence bundle',
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
    .option(
      '--evidence <dir>',
      'instead of a run: a 1-2 page certificate (pdf or html) of this evidence bundle, which must check (`evidence check`)',
    )
    .option('--root-hash <hex>', 'with --evidence: the published root hash the bundle must have')
    .option(
      '--trust-key <file>',
      "with --evidence: require the bundle's calibration to be signed by this public key (PEM)",
    )
    .option(
      '--json',
      'print { path, format, bytes, pages, figures, skipped } as JSON (with --evidence: rootHash, verdict)',
    )
    .action(async (runId: string | undefined, f: ReportFlags) => {
      const mode = { json: Boolean(f.json) };
      try {
        if (f.evidence !== undefined || runId === undefined) {
          await certificate(runId, f);
          return;
        }
        if (f.rootHash || f.trustKey)
          throw new AuditError('INVALID_ARGUMENT', '--root-hash and --trust-key go with --evidence DIR', {
            hint: 'Drop them, or pass --evidence DIR instead of a run id.',
          });
        const format = reportFormat(f);
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
          if (modelFigures) await initBackend(program.opts<{ backend?: string }>().backend, allCores());
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

/** --format, else the --out extension, else pdf; INVALID_ARGUMENT when the two disagree. */
function reportFormat(f: ReportFlags): ReportFormat {
  const fromExt = f.out ? EXTENSIONS[extname(f.out).toLowerCase()] : undefined;
  const format = f.format ? parseReportFormat(f.format) : (fromExt ?? 'pdf');
  if (f.format && fromExt && fromExt !== format) {
    throw new AuditError('INVALID_ARGUMENT', `--format ${format} does not match the --out file ${f.out}`, {
      hint: `Name the file *.${format}, or drop --format.`,
    });
  }
  return format;
}

/** `report --evidence DIR`: the bundle's certificate, written only when the bundle checks. */
async function certificate(runId: string | undefined, f: ReportFlags): Promise<void> {
  const mode = { json: Boolean(f.json) };
  if (runId !== undefined)
    throw new AuditError('INVALID_ARGUMENT', `Pass a run id or --evidence DIR, not both (got ${runId})`, {
      hint: "`report RUN_ID` writes a run's audit report; `report --evidence DIR` writes a bundle's certificate.",
    });
  if (f.evidence === undefined)
    throw new AuditError('INVALID_ARGUMENT', 'Name what to report on: a run id, or --evidence DIR', {
      hint: 'List runs with `ownership-audit runs list`; evidence bundles are written by `verify --evidence DIR`.',
    });
  const format = reportFormat(f);
  if (format !== 'pdf' && format !== 'html')
    throw new AuditError('INVALID_ARGUMENT', `A certificate is pdf or html, not ${format}`, {
      hint: 'For the figures as JSON, run `ownership-audit evidence check DIR --json`.',
    });
  if (f.figures)
    throw new AuditError('INVALID_ARGUMENT', '--figures goes with a run report, not --evidence', {
      hint: 'Drop --figures: a certificate has no figures.',
    });
  const r = await writeCertificate(resolve(f.evidence), {
    format,
    out: resolve(f.out ?? `certificate.${format}`),
    rootHash: f.rootHash,
    trust: calibrationTrust(f.trustKey, f.home, true),
  });
  emit(mode, r, () =>
    [
      `wrote ${r.path} (${r.format}${r.pages !== undefined ? `, ${r.pages} pages` : ''}, ${(r.bytes / 1024).toFixed(0)} KiB)`,
      `verdict: ${r.verdict}; root hash ${r.rootHash}`,
    ].join('\n'),
  );
}
