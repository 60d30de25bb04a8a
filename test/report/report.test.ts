/**
 * Audit reports end to end on a fixture run (built in a temp store without the engine):
 * the PDF through the machine's Chromium, read back with poppler (pdftoppm for page
 * images, pdftotext for the text), CSV/JSON/HTML exports, the CLI command, and the
 * CHROMIUM_NOT_FOUND error.
 *
 * Set REPORT_SAMPLE=<path prefix> (e.g. tmp/report-sample) to keep the fixture's PDF as
 * <prefix>.pdf and its pages as <prefix>-<n>.png for a look.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/engine/backend';
import { attackColor } from '../../src-main/engine/attacks/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNumber } from '../../src-shared/audit/results';
import { isAuditError } from '../../src-main/engine/errors';
import {
  buildReport,
  countPdfPages,
  findChromium,
  findings,
  formatFidelity,
  formatMetricCell,
  formatTau,
  renderPdf,
  writeReport,
  type BuiltReport,
} from '../../src-main/report';
import { runCli } from '../cli/run-cli';
import { buildFixture, TAUS, type Fixture } from './fixture';

const CHROMIUM = '/usr/bin/chromium';
const PDFTOPPM = '/usr/bin/pdftoppm';
// pdftotext comes with pdftoppm (both poppler-utils).
const PDFTOTEXT = join(dirname(PDFTOPPM), 'pdftotext');
const missing = [CHROMIUM, PDFTOPPM].filter((p) => !existsSync(p));
const skipReason = missing.length
  ? ` (skipped: ${missing.join(', ')} not installed; CI installs chromium and poppler-utils)`
  : '';

/** Whitespace removed, so sentences wrapped over lines (also after a hyphen: '2.1-' / 'point') still match. */
const squash = (s: string): string => s.replace(/\s+/g, '');

let dir: string;
let fx: Fixture;

beforeAll(async () => {
  tf.env().set('PROD', true);
  // wasm, as the CLI picks on a machine without the native backends: on the plain cpu
  // backend the t-SNE's 100 forward passes and LayerCAM's gradients take seconds.
  await initBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'oa-report-'));
  fx = await buildFixture(join(dir, 'home'));
});

afterAll(() => {
  fx?.store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('audit report', () => {
  let built: BuiltReport;

  it.skipIf(missing.length > 0)(
    `renders the run to a PDF whose pages and text carry the table, taus, findings and captions${skipReason}`,
    async () => {
      built = await buildReport(fx.store, fx.runId, {
        modelFigures: { tsneSamples: 80, tsneSeconds: 2, tsneIterations: 200 },
      });
      const { data, figures } = built;

      // Every figure the fixture has data for, each with data in every series.
      expect(figures.skipped).toEqual([]);
      expect(figures.figures.map((f) => f.id)).toEqual([
        'trajectory-deepjudge.lod',
        // The fixture's labels ('KnockoffNets' beside 'RemovalNet') do not fit upright at half
        // width: each metric lies on its side in a panel of its own.
        ...[1, 2, 3, 4, 5, 6].map((i) => `boxplots-${i}`),
        'roc',
        'efficiency',
        'layercam',
        'tsne',
      ]);
      for (const f of figures.figures) {
        if (f.kind === 'images') {
          expect(f.images).toBe(12);
          expect(f.html).toContain('data:image/png;base64,');
          continue;
        }
        for (const c of f.charts) {
          expect(c.svg.startsWith('<svg')).toBe(true);
          const series = (Array.isArray(c.option.series) ? c.option.series : [c.option.series]) as {
            data?: unknown[];
          }[];
          expect(series.length, f.id).toBeGreaterThan(0);
          for (const s of series) expect(s.data?.length ?? 0, `${f.id} has an empty series`).toBeGreaterThan(0);
          expect(c.option.title).toBeTruthy();
        }
      }
      // Every attack in its colour from the registry, as in the workbench: boxes, trajectories, curves, marks.
      const rowColors = data.table.rows.map((r) => attackColor(r.attack));
      for (const f of figures.figures) {
        if (f.kind !== 'charts') continue;
        for (const c of f.charts) {
          const series = c.option.series as { type: string; color?: string; name?: string; data: unknown[] }[];
          if (f.id.startsWith('boxplots-')) {
            const boxes = series[0].data as { itemStyle?: { borderColor?: string } }[];
            expect(boxes.map((b) => b.itemStyle?.borderColor)).toEqual(rowColors);
          } else if (f.id.startsWith('trajectory-')) {
            const attackOf = (key: string) => data.suspects.find((x) => x.key === key)!.attack;
            const lines = series.filter((x) => x.type === 'line' && x.data.length > 1);
            expect(lines.length).toBe(data.trajectories.length);
            expect(new Set(lines.map((x) => x.color))).toEqual(
              new Set(data.trajectories.map((t) => attackColor(attackOf(t.suspectKey)))),
            );
          } else if (f.id === 'efficiency') {
            expect(series.filter((x) => x.type === 'line').map((x) => x.color)).toEqual(['#f28e2b']);
            expect(series.find((x) => x.type === 'scatter')?.color).toBe('#e15759');
          }
        }
      }

      // One box-plot panel per metric column.
      expect(
        figures.figures.flatMap((f) => (f.kind === 'charts' && f.id.startsWith('boxplots-') ? f.charts : [])),
      ).toHaveLength(data.table.metrics.length);

      const pdfFile = join(dir, 'report.pdf');
      const pdf = await renderPdf(built.html, pdfFile, {
        executablePath: CHROMIUM,
        footer: `Ownership Audit report · run ${fx.runId}`,
      });
      expect(pdf.pages).toBe(countPdfPages(readFileSync(pdfFile)));

      // Pages as images.
      const pngDir = join(dir, 'png');
      mkdirSync(pngDir);
      execFileSync(PDFTOPPM, ['-r', '40', '-png', pdfFile, join(pngDir, 'page')]);
      const pngs = readdirSync(pngDir).filter((f) => f.endsWith('.png'));
      expect(pngs.length).toBe(pdf.pages);
      expect(pngs.length).toBeGreaterThanOrEqual(5);
      expect(pngs.length).toBeLessThanOrEqual(12);

      // The text: every table row with its values on one line, the tau row, taus, findings, captions.
      const layout = execFileSync(PDFTOTEXT, ['-layout', pdfFile, '-'], { encoding: 'utf8' });
      const lines = layout.split('\n');
      const t = data.table;
      expect(t.rows.length).toBe(4);
      for (const r of t.rows) {
        const f = formatFidelity(r);
        const cells = [
          r.label,
          r.scenario,
          f.accuracy,
          f.drop,
          ...t.metrics.map((m) => formatMetricCell(r.metrics[m.id])),
          r.ownership.label,
        ];
        expect(
          lines.some((l) => cells.every((c) => l.includes(c))),
          `no line carries row ${r.label}: ${cells.join(' | ')}`,
        ).toBe(true);
      }
      const tauCells = t.metrics.map((m) => formatTau(m.tau));
      expect(lines.some((l) => /^\s*tau\b/.test(l) && tauCells.every((c) => l.includes(c)))).toBe(true);
      for (const [id, tau] of Object.entries(TAUS)) {
        expect(t.metrics.find((m) => m.id === id)?.tau).toBe(tau);
        expect(layout).toContain(formatNumber(tau));
        expect(layout).toContain(tau.toPrecision(6));
      }
      const text = squash(execFileSync(PDFTOTEXT, [pdfFile, '-'], { encoding: 'utf8' }));
      const has = (s: string): void => expect(text, s).toContain(squash(s));
      const found = findings(data);
      expect(found.map((f) => f.name)).toEqual(['DeepJudge', 'ZEST', 'ModelDiff', 'IPGuard']);
      for (const f of found) for (const s of f.sentences) has(s);
      has('DeepJudge still recognises 0 of 2 RemovalNet surrogates (ltd10) at a 2.1-point fidelity drop.');
      has('DeepJudge still recognises 2 of 2 FT(ratio=0.5) surrogates (ltd10) at a 0.2-point fidelity drop.');
      has('ZEST flags 0 of 1 independently trained negative model as derived.');
      has('RemovalNet defeats its ownership verification in this run (0 of 2 surrogates recognised).');
      // The answer first: page one opens with one headline per defence and the defence x attack grid.
      const page1 = squash(execFileSync(PDFTOTEXT, ['-f', '1', '-l', '1', pdfFile, '-'], { encoding: 'utf8' }));
      expect(page1).toContain(squash('Summary: would the fingerprint survive?'));
      expect(page1).toContain(squash('DeepJudge: RemovalNet defeats it (0 of 2 recognised, 2.1-point drop)'));
      expect(page1).toContain(squash('Table 0.'));
      for (let n = 1; n <= figures.figures.length; n++) has(`Figure ${n}.`);
      for (const f of figures.figures) has(f.title);
      has(data.environment.victim.contentHash as string);
      has(`run ${fx.runId}`);

      const sample = process.env.REPORT_SAMPLE;
      if (sample) {
        const prefix = resolve(sample);
        mkdirSync(dirname(prefix), { recursive: true });
        copyFileSync(pdfFile, `${prefix}.pdf`);
        execFileSync(PDFTOPPM, ['-r', '80', '-png', pdfFile, prefix]);
      }
    },
  );

  it('writes HTML, CSV and JSON and records each report with the run', async () => {
    const html = await writeReport(fx.store, fx.runId, {
      format: 'html',
      out: join(dir, 'r.html'),
      modelFigures: false,
      figuresDir: join(dir, 'figs'),
    });
    expect(html.skipped?.map((s) => s.id).sort()).toEqual(['layercam', 'tsne']);
    // --figures: one SVG per chart, numbered in report order, with the captions in figures.json.
    const figIndex = JSON.parse(readFileSync(join(dir, 'figs', 'figures.json'), 'utf8')) as {
      figures: { number: number; id: string; caption: string; files: string[] }[];
    };
    expect(figIndex.figures.map((f) => f.id)).toEqual(html.figures);
    expect(figIndex.figures.map((f) => f.number)).toEqual(figIndex.figures.map((_, i) => i + 1));
    const svgs = figIndex.figures.flatMap((f) => f.files);
    expect(
      readdirSync(join(dir, 'figs'))
        .filter((f) => f.endsWith('.svg'))
        .sort(),
    ).toEqual([...svgs].sort());
    for (const f of svgs) expect(readFileSync(join(dir, 'figs', f), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
    const page = readFileSync(html.path, 'utf8');
    expect(page).toContain('Figures not drawn');
    expect(page).toContain('model figures were turned off for this report');

    const csv = await writeReport(fx.store, fx.runId, { format: 'csv', out: join(dir, 'r.csv') });
    const csvLines = readFileSync(csv.path, 'utf8').trim().split('\r\n');
    expect(csvLines).toHaveLength(5);
    expect(csvLines[0].split(',').slice(0, 5)).toEqual(['row_id', 'label', 'attack', 'scenario', 'suspects']);
    expect(csvLines[0]).toContain('deepjudge.lod_mean');
    const removal = csvLines.find((l) => l.startsWith('removalnet,'))?.split(',') ?? [];
    const header = csvLines[0].split(',');
    expect(Number(removal[header.indexOf('deepjudge.lod_mean')])).toBeCloseTo((4.61 + 4.52) / 2, 10);
    expect(Number(removal[header.indexOf('deepjudge.lod_tau')])).toBe(TAUS['deepjudge.lod']);
    expect(removal[header.indexOf('ownership')]).toBe('No (0/2)');

    const json = await writeReport(fx.store, fx.runId, { format: 'json', out: join(dir, 'r.json') });
    const doc = JSON.parse(readFileSync(json.path, 'utf8')) as {
      run: { id: string };
      table: { rows: unknown[] };
      findings: { text: string }[];
      trajectories: unknown[];
      calibration: { document: { metrics: unknown[] } };
    };
    expect(doc.run.id).toBe(fx.runId);
    expect(doc.table.rows).toHaveLength(4);
    expect(doc.findings).toHaveLength(4);
    expect(doc.trajectories.length).toBe(5);
    expect(doc.calibration.document.metrics).toHaveLength(6);

    expect(fx.store.listReports(fx.runId).map((r) => [r.format, r.path])).toEqual([
      ['html', html.path],
      ['csv', csv.path],
      ['json', json.path],
    ]);
  });

  it('skips the model figures with a reason when the surrogate is not on disk', async () => {
    const other = await buildFixture(join(dir, 'home-no-models'), { surrogate: false });
    try {
      const r = await buildReport(other.store, other.runId, { modelFigures: { tsneSamples: 20, tsneSeconds: 1 } });
      expect(r.figures.skipped.map((s) => s.id).sort()).toEqual(['layercam', 'tsne']);
      for (const s of r.figures.skipped)
        expect(s.reason).toMatch(/RemovalNet surrogate's model files are not on this machine/);
      expect(r.html).toContain('Figures not drawn');
    } finally {
      other.store.close();
    }
  });

  it('says CHROMIUM_NOT_FOUND, naming what to install, when no browser is found', async () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        if (isAuditError(e)) {
          expect(e.hint).toContain('apt-get install chromium');
          expect(e.hint).toContain('OWNERSHIP_AUDIT_CHROMIUM');
          return e.code;
        }
        throw e;
      }
      return undefined;
    };
    const nowhere = join(dir, 'no-such-chromium');
    // An explicit setting that points nowhere is an error even when another browser exists.
    expect(code(() => findChromium({ env: { OWNERSHIP_AUDIT_CHROMIUM: nowhere }, candidates: [CHROMIUM] }))).toBe(
      'CHROMIUM_NOT_FOUND',
    );
    expect(code(() => findChromium({ env: {}, candidates: [nowhere] }))).toBe('CHROMIUM_NOT_FOUND');
    expect(findChromium({ env: {}, candidates: [nowhere, '/bin/sh'] })).toBe('/bin/sh');
    // writeReport looks for the browser before it draws anything, and records nothing.
    const before = fx.store.listReports(fx.runId).length;
    await expect(
      writeReport(fx.store, fx.runId, {
        format: 'pdf',
        out: join(dir, 'x.pdf'),
        pdf: { env: { OWNERSHIP_AUDIT_CHROMIUM: nowhere } },
      }),
    ).rejects.toMatchObject({ code: 'CHROMIUM_NOT_FOUND' });
    expect(fx.store.listReports(fx.runId)).toHaveLength(before);
  });

  it('CLI: report RUN_ID writes the format of --out, and exits 2 with CHROMIUM_NOT_FOUND when no browser is found', () => {
    const out = join(dir, 'cli.csv');
    const ok = runCli(['report', fx.runId, '--out', out, '--home', fx.home, '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.json).toMatchObject({ path: out, format: 'csv' });
    expect(readFileSync(out, 'utf8')).toContain('removalnet');

    const bad = runCli(['report', fx.runId, '--out', join(dir, 'cli.pdf'), '--home', fx.home, '--json'], {
      OWNERSHIP_AUDIT_CHROMIUM: join(dir, 'no-such-chromium'),
    });
    expect(bad.status).toBe(2);
    expect(bad.json).toMatchObject({ error: { code: 'CHROMIUM_NOT_FOUND' } });
    expect(bad.stderr).toContain('apt-get install chromium');

    const unknown = runCli(['report', 'r_nope', '--home', fx.home, '--format', 'json', '--json']);
    expect(unknown.status).toBe(2);
    expect(unknown.json).toMatchObject({ error: { code: 'RUN_NOT_FOUND' } });
  });
});
