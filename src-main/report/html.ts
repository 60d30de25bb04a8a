/**
 * The report as one self-contained HTML document (inline CSS, charts as inline SVG, images
 * as data URIs), laid out for A4 print: Chromium prints it to PDF for the CLI, Electron's
 * printToPDF for the app, and a browser shows the same file on screen.
 *
 * Print rules: tables and figures never break across pages (`break-inside: avoid`), long
 * listings (jobs, hashes) repeat their header row on every page, headings stay with what
 * follows. The results table moves to a landscape page when it has more than seven metric
 * columns. Figures are numbered in order with their captions below; tables are numbered
 * with captions above.
 */
import { formatNumber } from '../../src-shared/audit/results';
import { FONT_FAMILY } from '../../src-shared/charts';
import type { Verdict } from '../../src-shared/domain/verdict';
import { attackRole } from '../engine/attacks/registry';
import { displayLabel, type ReportData } from './data';
import type { ReportFigure, ReportFigures } from './figures';
import { findings, type Finding } from './findings';
import { frontierSentencesHtml } from './frontier';
import { summarySectionHtml } from './summary';
import { formatFidelity, formatMetricCell, formatSeconds, formatTau, percent, readableUtc, ruleText } from './format';
import {
  defenseFalseClaimSentence,
  separabilityData,
  separabilitySectionHtml,
  type Separability,
} from './separability';

const FIGURE_ORDER = ['frontier', 'trajectory', 'boxplots', 'roc', 'sweep', 'efficiency', 'layercam', 'tsne'];

function figureRank(f: { id: string }): number {
  const i = FIGURE_ORDER.findIndex((p) => f.id === p || f.id.startsWith(`${p}-`));
  return i === -1 ? FIGURE_ORDER.length : i;
}

/** Figures in report order (paper order), stable within a kind. */
export function orderFigures<T extends { id: string }>(figs: T[]): T[] {
  return figs
    .map((f, i) => ({ f, i }))
    .sort((a, b) => figureRank(a.f) - figureRank(b.f) || a.i - b.i)
    .map((x) => x.f);
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const e = escapeHtml;

/**
 * JSON indented by two spaces, with arrays and objects of plain values kept on one line
 * when short (`"seeds": [1, 2]`), so the spec reads like the file a user would write.
 */
export function prettyJson(value: unknown, indent = ''): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const entries: [string | null, unknown][] = Array.isArray(value)
    ? value.map((v) => [null, v])
    : Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return `${open}${close}`;
  const key = (k: string | null): string => (k === null ? '' : `${JSON.stringify(k)}: `);
  const flatValues = entries.every(([, v]) => v === null || typeof v !== 'object');
  if (flatValues) {
    const one = `${open}${entries.map(([k, v]) => `${key(k)}${JSON.stringify(v)}`).join(', ')}${close}`;
    if (one.length + indent.length <= 90) return one;
  }
  const inner = `${indent}  `;
  return `${open}\n${entries.map(([k, v]) => `${inner}${key(k)}${prettyJson(v, inner)}`).join(',\n')}\n${indent}${close}`;
}

/** Lets long identifiers (labels, paths, hashes) wrap at punctuation. */
function wrappable(s: string): string {
  return e(s).replace(/([,/_.=-])/g, '$1<wbr>');
}

const CSS = `
@page { size: A4; }
@page wide { size: A4 landscape; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: ${FONT_FAMILY}; font-size: 9pt; line-height: 1.38; color: #1d1d1d; margin: 0; }
h1 { font-size: 18pt; margin: 0 0 1mm; }
h2 { font-size: 12.5pt; margin: 7mm 0 2.5mm; padding-bottom: 1mm; border-bottom: 1px solid #bbb; break-after: avoid; }
h3 { font-size: 10pt; margin: 4mm 0 1.5mm; break-after: avoid; }
p { margin: 0 0 2mm; }
.sub { color: #555; }
.meta { display: grid; grid-template-columns: auto 1fr; gap: 0.6mm 5mm; font-size: 8.5pt; margin: 3mm 0 2mm; }
.meta dt { color: #555; } .meta dd { margin: 0; }
.finding { margin: 0 0 2.5mm; break-inside: avoid; }
ul.headlines { list-style: none; padding: 0; margin: 0 0 3mm; font-size: 9pt; }
ul.headlines li { margin: 0 0 1mm; } ul.headlines .mark { display: inline-block; width: 4mm; font-weight: bold; }
ul.headlines li.survives .mark { color: #1b6e2a; } ul.headlines li.defeated .mark { color: #a12a1c; }
table.grid { font-size: 8pt; } table.grid th.c, table.grid td.c { text-align: center; padding: 1mm 2.5mm; }
table.grid td.proven { background: #dff3e1; color: #1e4f21; } table.grid td.lost { background: #fbe3e1; color: #7a1d16; } table.grid td.none { color: #999; }
.finding b { color: #111; }
table { border-collapse: collapse; }
th, td { padding: 0.9mm 1.4mm; border-bottom: 0.5pt solid #d6d6d6; vertical-align: top; }
th { text-align: left; font-weight: bold; border-bottom: 0.8pt solid #888; }
thead { display: table-header-group; break-after: avoid; }
tbody tr:first-child { break-before: avoid; }
tr { break-inside: avoid; }
p.tcap { font-size: 8.5pt; color: #333; margin: 0 0 1.5mm; break-after: avoid; }
caption { caption-side: top; text-align: left; font-size: 8.5pt; padding: 0 0 1.5mm; color: #333; }
.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.keep { break-inside: avoid; }
table.results { width: 100%; font-size: 7.6pt; break-inside: avoid; }
table.results td.label { white-space: nowrap; }
table.results .flag { display: block; color: #777; font-size: 6.6pt; }
table.results tr.tau td { background: #fbecea; font-weight: bold; border-bottom: 0.8pt solid #888; }
table.results td.yes { color: #1b6e2a; font-weight: bold; } table.results td.no { color: #a12a1c; font-weight: bold; }
section.wide { page: wide; }
table.list { width: 100%; font-size: 7.6pt; }
table.list td.hash { white-space: nowrap; font-size: 6.2pt; }
table.separability td { font-size: 7.6pt; } table.separability tr.group td { background: #f1f1f1; border-bottom: 0.8pt solid #888; } table.separability tr.defence td { border-bottom: 0.8pt solid #bbb; }
table.list td.hash, code { font-family: 'Liberation Mono', 'DejaVu Sans Mono', monospace; font-size: 6.8pt; word-break: break-all; }
td.path { color: #666; font-size: 6.8pt; word-break: break-all; }
figure { margin: 4mm 0 5mm; break-inside: avoid; }
figure .charts { display: flex; flex-wrap: wrap; gap: 3mm 10px; }
figure svg { display: block; }
figcaption { font-size: 8.2pt; margin-top: 1.5mm; color: #2a2a2a; }
figcaption b { color: #000; }
table.cam { border-collapse: separate; border-spacing: 6px 3px; }
table.cam th { border: 0; font-size: 8pt; vertical-align: middle; text-align: right; padding-right: 3mm; }
table.cam td { border: 0; text-align: center; padding: 0; }
table.cam img { display: block; image-rendering: pixelated; margin: 0 auto; }
.cam-label { font-size: 7pt; color: #444; }
.colorbar { display: flex; align-items: center; gap: 2mm; font-size: 7pt; color: #444; margin: 1mm 0 0 30mm; }
.colorbar .bar { display: inline-block; width: 40mm; height: 2.5mm; background: linear-gradient(to right, #0000ff, #00ffff, #80ff80, #ffff00, #ff0000); }
pre { font-family: 'Liberation Mono', 'DejaVu Sans Mono', monospace; font-size: 7pt; line-height: 1.3; background: #f6f6f6; border: 0.5pt solid #ddd; padding: 2mm 3mm; white-space: pre-wrap; word-break: break-all; margin: 0; }
ul.skipped { margin: 1mm 0 0 4mm; padding: 0; font-size: 8.5pt; }
.note { font-size: 8pt; color: #444; }
@media screen { body { max-width: 190mm; margin: 10mm auto; } }
`;

/** CSS class of the ownership cell. */
const VERDICT_CLASS: Record<Verdict, string> = { derived: 'yes', 'not-derived': 'no', pending: '' };
/** An independent model called derived is a false claim (red); called not derived, a right answer (green). */
const VERDICT_CLASS_INDEPENDENT: Record<Verdict, string> = { derived: 'no', 'not-derived': 'yes', pending: '' };

function resultsTable(data: ReportData): string {
  const t = data.table;
  const head = [
    '<th>Attack</th>',
    '<th>Scenario</th>',
    '<th class="num">n</th>',
    '<th class="num">Acc. %</th>',
    '<th class="num">Drop</th>',
    ...t.metrics.map(
      (m) =>
        `<th class="num">${e(data.metrics[m.id]?.label ?? m.id)}<br><span class="sub">${m.kind === 'similarity' ? 'similarity &#8593;' : m.kind === 'distance' ? 'distance &#8595;' : ''}</span></th>`,
    ),
    '<th>Ownership</th>',
  ].join('');
  const tauRow = `<tr class="tau"><td class="label">tau</td><td></td><td></td><td></td><td></td>${t.metrics.map((m) => `<td class="num">${formatTau(m.tau)}${m.degenerate ? ' !' : ''}</td>`).join('')}<td></td></tr>`;
  const body = t.rows
    .map((r) => {
      const f = formatFidelity(r);
      const cells = t.metrics.map((m) => {
        const v = r.metrics[m.id];
        if (!v) return `<td class="num">${r.suspects ? 'n/a' : '-'}</td>`;
        // A degenerate threshold does not vote: its flags mean nothing and are not shown.
        const flag = m.degenerate || v.tau === null ? '' : `<span class="flag">flagged ${v.flagged}/${v.n}</span>`;
        return `<td class="num">${formatMetricCell(v)}${flag}</td>`;
      });
      // Green always means ownership still proven: a Yes for an attack, a No for an independent model.
      const independent = attackRole(r.attack) === 'independent';
      const verdictClass = independent
        ? VERDICT_CLASS_INDEPENDENT[r.ownership.verdict]
        : VERDICT_CLASS[r.ownership.verdict];
      return `<tr><td class="label">${e(r.label)}</td><td>${e(r.scenario)}</td><td class="num">${r.suspects}</td><td class="num">${f.accuracy}</td><td class="num">${f.drop}</td>${cells.join('')}<td class="${verdictClass}">${e(r.ownership.label)}</td></tr>`;
    })
    .join('');
  const victim = t.victimAccuracy === null ? 'unknown' : `${percent(t.victimAccuracy)} %`;
  return `<table class="results"><caption><b>Table 1.</b> Results per attack row (paper Table 1): mean ± sample std over the row's suspects (the mean alone for one suspect) and how many suspects each metric flagged; the tau row holds the thresholds. Accuracy in percent, drop in percentage points below the victim's ${e(victim)}. Ownership: "Yes (k/N)" when a strict majority of the row's suspects were judged derived by the majority vote of all metrics.</caption><thead><tr>${head}</tr></thead><tbody>${tauRow}${body}</tbody></table>${
    t.metrics.some((m) => m.degenerate)
      ? '<p class="note">! degenerate threshold: every reference model reached the same value, so the metric does not vote.</p>'
      : ''
  }`;
}

function figureHtml(f: ReportFigure, n: number): string {
  const inner =
    f.kind === 'charts'
      ? `<div class="charts">${f.charts.map((c) => `<div style="width:${c.width}px;height:${c.height}px">${c.svg}</div>`).join('')}</div>`
      : f.html;
  return `<figure id="fig-${e(f.id)}">${inner}<figcaption><b>Figure ${n}.</b> <b>${e(f.title)}</b> ${e(f.caption)}</figcaption></figure>`;
}

function thresholdsSection(data: ReportData): string {
  const c = data.calibration;
  if (!c)
    return '<p>No calibration is recorded for this run: the metrics have no thresholds, and no verdict was reached.</p>';
  const doc = c.document;
  const refs = doc.references ?? [];
  const metricRows = doc.metrics
    .map((m) => {
      const values = m.values.map((v) => formatNumber(v)).join(', ');
      return `<tr><td>${e(data.metrics[m.id]?.label ?? m.id)}<br><code>${e(m.id)}</code></td><td>${e(m.kind)}</td><td>${e(ruleText(m.rule))}</td><td class="num"><b>${formatTau(Number.isFinite(m.tau) ? m.tau : null)}</b><br><span class="sub">${Number.isFinite(m.tau) ? e(m.tau.toPrecision(6)) : ''}</span></td><td>${m.degenerate ? '<b>degenerate</b> (does not vote)' : 'no'}</td><td>${e(values)}</td></tr>`;
    })
    .join('');
  const refRows = refs
    .map(
      (r, i) =>
        `<tr><td class="num">${i + 1}</td><td>${wrappable(r.lineage)}</td><td class="num">${r.seed}</td><td class="num">${r.learningRate !== undefined ? e(r.learningRate.toPrecision(3)) : '-'}</td><td class="num">${r.iterations ?? '-'}</td><td class="num">${r.testAccuracy !== undefined ? percent(r.testAccuracy) : '-'}</td><td class="hash">${e(r.contentHash)}</td></tr>`,
    )
    .join('');
  const defences = doc.defenses
    .map(
      (d) =>
        `<tr><td>${e(d.id)}</td><td><code>${e(JSON.stringify(d.params))}</code></td><td class="hash">${e(d.fingerprintsHash)}</td></tr>`,
    )
    .join('');
  return `
<p>Calibration ${c.id ? `<code>${e(c.id)}</code> ` : ''}from <code>${wrappable(c.filePath)}</code>, made ${e(readableUtc(doc.createdAt))} on the ${e(doc.backend)} backend for victim <code>${e(doc.victim.contentHash)}</code>. Each threshold tau comes from the values that ${refs.length} independently trained reference models reached: a suspect must be closer to the victim than the rule allows an independent model to be.</p>
<table class="list keep"><caption><b>Table 4.</b> Thresholds per metric: the rule, tau (three digits; six below), degeneracy and the reference values in reference order.</caption><thead><tr><th>Metric</th><th>Kind</th><th>Rule</th><th class="num">tau</th><th>Degenerate</th><th>Reference values</th></tr></thead><tbody>${metricRows}</tbody></table>
<table class="list keep" style="margin-top:4mm"><caption><b>Table 5.</b> Reference (negative) models of the calibration.</caption><thead><tr><th class="num">#</th><th>Lineage</th><th class="num">Seed</th><th class="num">LR</th><th class="num">Iterations</th><th class="num">Acc. %</th><th>Content hash (sha256)</th></tr></thead><tbody>${refRows}</tbody></table>
<table class="list keep" style="margin-top:4mm"><caption><b>Table 6.</b> Defences, their parameters and fingerprint hashes.</caption><thead><tr><th>Defence</th><th>Parameters</th><th>Fingerprints (sha256)</th></tr></thead><tbody>${defences}</tbody></table>`;
}

function environmentSection(data: ReportData): string {
  const env = data.environment;
  const run = data.run;
  const kv = (pairs: [string, string][]): string =>
    `<dl class="meta">${pairs.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
  const versions =
    Object.entries(env.runVersions)
      .map(([k, v]) => `${e(k)} ${e(v)}`)
      .join(', ') || '-';
  const reportVersions = Object.entries(env.reportVersions)
    .map(([k, v]) => `${e(k)} ${e(v)}`)
    .join(', ');
  const v = env.victim;
  const data_ = env.data
    .map(
      (d) =>
        `<tr><td>${e(d.role)}</td><td class="path">${wrappable(d.path)}</td><td class="hash">${d.sha256 ? e(d.sha256) : ''}</td><td>${e(d.note ?? '')}</td></tr>`,
    )
    .join('');
  const models = env.models
    .map(
      (m) =>
        `<tr><td>${e(m.role)}</td><td>${wrappable(m.name)}<div class="path">${wrappable(m.path)}</div></td><td class="hash">${e(m.contentHash)}</td></tr>`,
    )
    .join('');
  const seeds = env.seeds.map((s) => `<tr><td>${wrappable(s.what)}</td><td class="num">${s.seed}</td></tr>`).join('');
  const jobs = env.jobs
    .map(
      (j) =>
        `<tr><td>${wrappable(j.label)}<div class="path">${wrappable(j.key)}</div></td><td>${e(j.kind)}</td><td>${e(j.status)}${j.error ? `<div class="path">${e(j.error)}</div>` : ''}</td><td class="num">${j.attempts}</td><td class="num">${formatSeconds(j.seconds)}</td></tr>`,
    )
    .join('');
  const total = env.jobs.reduce((a, j) => a + (j.seconds ?? 0), 0);
  return `
${kv([
  ['Run', `<code>${e(run.id)}</code> (${e(run.name)}), ${e(run.status)}`],
  [
    'Created / started / finished',
    `${e(readableUtc(run.createdAt))} / ${e(run.startedAt ? readableUtc(run.startedAt) : '-')} / ${e(run.finishedAt ? readableUtc(run.finishedAt) : '-')}`,
  ],
  ['Wall time', `${formatSeconds(run.wallSeconds)} (jobs: ${formatSeconds(total)} of worker time)`],
  ['Backend', e(env.backend)],
  ['Versions (run)', versions],
  ['Versions (report)', reportVersions],
  ['Work folder', `<code>${wrappable(run.workDir)}</code>`],
  [
    'Victim',
    `${e(v.lineage ?? '-')}${v.testAccuracy !== null ? `, test accuracy ${percent(v.testAccuracy)} %` : ''}${v.seed !== null ? `, seed ${v.seed}` : ''}<div class="path">${wrappable(v.path ?? '-')}</div><code>${e(v.contentHash ?? '-')}</code>`,
  ],
])}
<h3>Data</h3>
<p class="tcap">Data folders the run read, with sha256 over their files (relative path, size and bytes of each, in path order).</p>
<table class="list keep"><thead><tr><th>Role</th><th>Path</th><th>sha256</th><th>Files</th></tr></thead><tbody>${data_ || '<tr><td colspan="4">none recorded</td></tr>'}</tbody></table>
<h3>Models and fingerprints</h3>
<p class="tcap">Content hashes (sha256 over topology, weight specs and weight bytes for models; over the fingerprint set for fingerprints).</p>
<table class="list"><thead><tr><th>Role</th><th>Name and path</th><th>Content hash</th></tr></thead><tbody>${models || '<tr><td colspan="3">none recorded</td></tr>'}</tbody></table>
<h3>Seeds</h3>
<table class="list keep" style="width:auto"><thead><tr><th>What</th><th class="num">Seed</th></tr></thead><tbody>${seeds || '<tr><td colspan="2">none recorded</td></tr>'}</tbody></table>
<h3>Jobs</h3>
<p class="tcap">Every job of the run with its wall time (the last attempt's).</p>
<table class="list"><thead><tr><th>Job</th><th>Kind</th><th>Status</th><th class="num">Attempts</th><th class="num">Wall time</th></tr></thead><tbody>${jobs}</tbody></table>`;
}

/** The evasion frontier, first thing in the report when the spec plans one. */
function frontierSection(data: ReportData, figs: ReportFigure[]): string {
  if (!data.frontier) return '';
  return `<section class="frontier">
<h2>Evasion frontier</h2>
<p class="note">Where each defence stops proving ownership: along the spec's frontier grid, the first point at which it recognises ${Math.round(data.frontier.ceiling * 100)}% or less of the surrogates (at least ${data.frontier.minSeeds} seeds), and the fidelity drop the attacker paid for it.</p>
${frontierSentencesHtml(data.frontier)}
${figs.map((f, i) => figureHtml(f, i + 1)).join('\n')}
</section>`;
}

function findingHtml(f: Finding, s: Separability): string {
  const claims = defenseFalseClaimSentence(s, f.defense);
  return `<p class="finding"><b>${e(f.name)}.</b> ${e(f.text)}${claims ? ` <span class="note">${e(claims)}</span>` : ''}</p>`;
}

/** The whole report. `figures` come from chartFigures and (optionally) modelFigures. */
export function reportHtml(data: ReportData, figures: ReportFigures): string {
  const run = data.run;
  const t = data.table;
  const ordered = orderFigures(figures.figures);
  // The frontier leads the report (page one); the other figures keep their section and numbers after it.
  const frontierFigs = ordered.filter((f) => f.id.startsWith('frontier-'));
  const figs = ordered.filter((f) => !f.id.startsWith('frontier-'));
  const found = findings(data);
  const separability = separabilityData(data);
  const wide = t.metrics.length > 7;
  const removal = t.rows.filter((r) => attackRole(r.attack) === 'removal' && r.suspects > 0);
  const summary = removal.length
    ? `RemovalNet rows: ${removal.map((r) => `${e(displayLabel(r))}${r.scenario !== '-' ? ` (${e(r.scenario)})` : ''} ${e(r.ownership.label)}`).join('; ')}.`
    : 'This run has no finished RemovalNet row.';
  const skipped = figures.skipped.length
    ? `<h3>Figures not drawn</h3><ul class="skipped">${figures.skipped.map((s) => `<li><b>${e(s.title)}</b>: ${e(s.reason)}.</li>`).join('')}</ul>`
    : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Ownership audit report ${e(run.id)}</title><style>${CSS}</style></head>
<body>
<header>
<h1>Ownership audit report</h1>
<div class="sub">Does ownership verification of the victim model survive removal attacks?</div>
<dl class="meta">
<dt>Run</dt><dd><code>${e(run.id)}</code> &middot; ${e(run.name)} &middot; ${e(run.status)}</dd>
<dt>Victim</dt><dd>${e(data.environment.victim.lineage ?? '-')}${t.victimAccuracy !== null ? ` &middot; test accuracy ${percent(t.victimAccuracy)} %` : ''}</dd>
<dt>Suspects</dt><dd>${data.suspects.length} in ${t.rows.length} rows &middot; ${data.calibration ? `${data.calibration.document.references.length} reference models` : 'no calibration'}</dd>
<dt>Verdict</dt><dd>${summary}</dd>
<dt>Report</dt><dd>generated ${e(readableUtc(data.generatedAt))}</dd>
</dl>
</header>
${summarySectionHtml(data)}
${frontierSection(data, frontierFigs)}
<h2>1. Findings</h2>
<p class="note">Per defence: how many suspects of each attack row it still recognises, and at what accuracy cost to the attacker. A defence recognises a suspect when a strict majority of its own metrics flag it (for DeepJudge both LOD and LAD; a tie does not count); metrics with a degenerate threshold do not vote. The fidelity drop is the row's mean test-accuracy loss against the victim, in percentage points.</p>
${found.length ? found.map((f) => findingHtml(f, separability)).join('\n') : '<p>No defence has scored a suspect in this run yet.</p>'}
<section${wide ? ' class="wide"' : ''}>
<h2>2. Results</h2>
${resultsTable(data)}
</section>
<h2>3. Separability</h2>
${separabilitySectionHtml(data, separability)}
<h2>4. Figures</h2>
${figs.map((f, i) => figureHtml(f, frontierFigs.length + i + 1)).join('\n')}
${figs.length === 0 ? '<p>No figure could be drawn for this run.</p>' : ''}
${skipped}
<h2>5. Thresholds</h2>
${thresholdsSection(data)}
<h2>6. Audit spec</h2>
<pre>${e(prettyJson(data.spec))}</pre>
<h2>7. Environment</h2>
${environmentSection(data)}
</body></html>`;
}
