/**
 * The evidence certificate: one suspect's verification, from an evidence bundle, on one or
 * two A4 pages a third party can read without the tool: the verdict in words, every metric
 * against its threshold per defence, where the thresholds come from, the hashes that pin the
 * evidence, the checks made and the command that repeats them.
 *
 * It is built only from `checkEvidence(dir)`: the check recomputes every figure from the
 * bundle's raw answers and throws EVIDENCE_MISMATCH when anything was edited, so a
 * certificate never states a figure the bundle does not support. Nothing is written then.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FONT_FAMILY } from '../../src-shared/charts';
import { loadCalibration, type Calibration, type ReadCalibrationOptions } from '../engine/calibration/calibration-file';
import type { VerifyResult } from '../engine/calibration/verify';
import { DEFENSES, getDefense, getMetric } from '../engine/defenses/registry';
import { checkEvidence, type EvidenceCheck } from '../engine/evidence/check';
import { writeFileAtomicSync } from '../engine/files/atomic-write';
import type { DefenseStatus, MetricScore, VoteRule } from '../engine/verdict/verdict';
import { formatNumber, percent, ruleText } from './format';
import { escapeHtml } from './html';
import { readableUtc } from './format';
import { findChromium, renderPdf, type RenderPdfOptions } from './pdf';

const e = escapeHtml;

export const CERTIFICATE_FORMATS = ['pdf', 'html'] as const;
export type CertificateFormat = (typeof CERTIFICATE_FORMATS)[number];

export interface CertificateData {
  result: VerifyResult;
  evidence: EvidenceCheck;
  /** The bundle's calibration (already checked by checkEvidence): rules and references. */
  calibration: Calibration;
}

export interface CertificateOptions {
  /** Keys the bundle's calibration signature is checked against (as `evidence check`). */
  trust?: ReadCalibrationOptions;
  /** The published root hash: the manifest must hash to it. */
  rootHash?: string;
}

/** Checks the bundle (EVIDENCE_MISMATCH when it does not check) and gathers what the certificate shows. */
export function certificateData(dir: string, opts: CertificateOptions = {}): CertificateData {
  const { result, evidence } = checkEvidence(dir, opts);
  // checkEvidence loaded and verified this file already; read again for the rules and references it does not return.
  const { calibration } = loadCalibration(result.calibration as string, opts.trust);
  return { result, evidence, calibration };
}

/** The verdict in words, as the certificate's headline says it. */
export function verdictWords(result: VerifyResult): 'derived' | 'not derived' | 'insufficient evidence' {
  const v = result.verdict;
  if (!v || v.insufficientEvidence) return 'insufficient evidence';
  return v.derived ? 'derived' : 'not derived';
}

const VOTE_RULES: Record<VoteRule, string> = {
  majority: 'majority: derived when more than half of the voting metrics flag the suspect (a tie is not derived)',
  any: 'any: derived when at least one voting metric flags the suspect',
  all: 'all: derived when every voting metric flags the suspect',
};

/** Value and tau to three digits, or six where three would make them look equal. */
function valueAndTau(value: number, tau: number | undefined): [string, string] {
  const short: [string, string] = [formatNumber(value), tau === undefined ? '-' : formatNumber(tau)];
  if (tau === undefined || short[0] !== short[1] || value === tau) return short;
  return [String(Number(value.toPrecision(6))), String(Number(tau.toPrecision(6)))];
}

function metricName(id: string): string {
  try {
    return getMetric(id).metric.shortLabel;
  } catch {
    return id;
  }
}

/** A defence's own verdict (its metrics' strict majority), in the owner's words. */
const DEFENSE_STATUS_WORDS: Record<DefenseStatus, string> = {
  recognised: 'recognises the suspect',
  'not-recognised': 'does not recognise it',
  tie: 'tie: not recognised',
  'not-applicable': 'could not vote',
};

function defenseRows(result: VerifyResult): string {
  const rows: string[] = [];
  for (const d of DEFENSES) {
    const name = getDefense(d.id).name;
    const metrics = result.metrics.filter((m) => m.id.split('.')[0] === d.id);
    if (!metrics.length) {
      rows.push(
        `<tr class="first"><th>${e(name)}</th><td colspan="5" class="na">not in this calibration: no fingerprints, no vote</td></tr>`,
      );
      continue;
    }
    const own = result.defenses?.find((v) => v.id === d.id);
    const status = own
      ? `<br><span class="own ${own.status}">${e(DEFENSE_STATUS_WORDS[own.status])}${own.of ? ` (${own.votes} of ${own.of})` : ''}</span><br><span class="own">false claims: ${own.falseClaims.accused} of ${own.falseClaims.of} references</span>`
      : '';
    metrics.forEach((m, i) => {
      const head = i === 0 ? `<th rowspan="${metrics.length}">${e(name)}${status}</th>` : '';
      rows.push(`<tr${i === 0 ? ' class="first"' : ''}>${head}${metricCells(m)}</tr>`);
    });
  }
  return rows.join('');
}

function metricCells(m: MetricScore): string {
  const label = `<td class="metric">${e(metricName(m.id))} <code>${e(m.id)}</code></td>`;
  if (m.value === null || !m.applicable)
    return `${label}<td colspan="4" class="na">not applicable: ${e(m.reason ?? 'no value')}</td>`;
  const [value, tau] = valueAndTau(m.value, m.tau);
  const when = m.kind === 'distance' ? 'below tau' : 'above tau';
  let flag: string;
  if (m.tau === undefined) flag = '<span class="na">no threshold</span>';
  else if (m.degenerate) flag = '<span class="na">degenerate threshold: does not vote</span>';
  else flag = m.flagged ? '<b class="yes">yes: derived</b>' : 'no';
  return `${label}<td>${e(m.kind)} (flags ${when})</td><td class="num">${e(value)}</td><td class="num">${e(tau)}</td><td>${flag}</td>`;
}

function fidelityLine(result: VerifyResult): string {
  const f = (id: string): string => {
    const m = result.metrics.find((x) => x.id === id);
    return m && m.value !== null ? `${percent(m.value)} %` : `not measured${m?.reason ? ` (${m.reason})` : ''}`;
  };
  return `<p class="fid"><b>Fidelity</b> (reported, never votes) on ${e(String(result.data.testCount))} test images: suspect accuracy <b>${e(f('fidelity.accuracy'))}</b>, agreement with the victim's labels <b>${e(f('fidelity.agreement'))}</b>.</p>`;
}

/** The rule shared by every metric, when there is one: said once above the table instead of per row. */
function commonRule(cal: Calibration): string | null {
  const texts = new Set(cal.metrics.map((m) => ruleText(m.rule)));
  return texts.size === 1 ? [...texts][0] : null;
}

function thresholdTable(cal: Calibration): string {
  const shared = commonRule(cal) !== null;
  const rows = cal.metrics
    .map((m) => {
      const values = m.values.map((v) => formatNumber(v)).join(', ');
      const rule = shared ? '' : `<td>${e(ruleText(m.rule))}</td>`;
      return `<tr><td class="metric">${e(metricName(m.id))} <code>${e(m.id)}</code></td>${rule}<td class="num">${e(formatNumber(m.tau))}${m.degenerate ? ' (degenerate)' : ''}</td><td>${e(values)}</td></tr>`;
    })
    .join('');
  return `<table><thead><tr><th>Metric</th>${shared ? '' : '<th>Rule</th>'}<th class="num">tau</th><th>Reference values, in reference order</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function hashRow(label: string, value: string, note = ''): string {
  return `<tr><th>${e(label)}</th><td><code>${e(value)}</code>${note ? `<br><span class="note">${e(note)}</span>` : ''}</td></tr>`;
}

function hashRows(d: CertificateData): string {
  const { result, evidence } = d;
  const s = result.suspect;
  const rows = [
    hashRow('victim (content hash)', result.victim.contentHash, result.victim.lineage),
    s.kind === 'responses' && s.responses
      ? hashRow('suspect (responses sha256)', s.responses.sha256, `recorded answers, output ${s.responses.output}`)
      : hashRow(
          s.kind === 'responses' ? 'suspect (responses)' : 'suspect (content hash)',
          s.contentHash ?? '-',
          s.lineage ?? '',
        ),
    hashRow('test data (sha256)', result.data.testSha256, `${result.data.testCount} images`),
    ...result.fingerprints.map((f) => hashRow(`${getDefense(f.defense).name} fingerprints (sha256)`, f.sha256)),
    hashRow('calibration (content hash)', result.calibrationIntegrity?.contentHash ?? '-'),
  ];
  const facts = `<p class="facts">Written by <b>${e(result.tool.name)} ${e(result.tool.version)}</b> on the <b>${e(result.backend)}</b> backend, <b>${e(readableUtc(result.createdAt))}</b>; ${e(String(evidence.files))} files in the bundle.</p>`;
  return `<table class="kv">${rows.join('')}</table>${facts}`;
}

function checkRows(evidence: EvidenceCheck): string {
  return evidence.checks
    .map(
      (c) =>
        `<tr><th>${e(c.name)}</th><td class="${c.ok ? 'ok' : 'bad'}">${c.ok ? 'passed' : 'FAILED'}</td><td>${e(c.detail)}</td></tr>`,
    )
    .join('');
}

const CSS = `
@page { size: A4; }
* { box-sizing: border-box; }
body { font-family: ${FONT_FAMILY}; font-size: 9pt; line-height: 1.35; color: #1d1d1d; margin: 0; }
h1 { font-size: 17pt; margin: 0 0 1mm; }
h2 { font-size: 11pt; margin: 5mm 0 1.8mm; padding-bottom: 0.8mm; border-bottom: 1px solid #bbb; break-after: avoid; }
p { margin: 1mm 0; }
.sub { color: #555; font-size: 8.5pt; }
code { font-family: 'Liberation Mono', 'DejaVu Sans Mono', monospace; font-size: 7.4pt; word-break: break-all; }
.verdict { margin: 4mm 0 3mm; padding: 3mm 4mm; border: 1.2pt solid #555; border-radius: 2mm; break-inside: avoid; }
.verdict.derived { border-color: #1e6b34; background: #eff8f1; }
.verdict.not-derived { border-color: #777; background: #f4f4f4; }
.verdict.insufficient { border-color: #8a6d00; background: #fbf6e4; }
.verdict .word { font-size: 20pt; font-weight: bold; letter-spacing: 0.3pt; }
.verdict .votes { font-size: 10pt; margin-top: 1mm; }
.root { margin: 2mm 0; padding: 2mm 3mm; background: #f3f3f3; border-left: 2pt solid #333; break-inside: avoid; }
.root code { font-size: 9.6pt; font-weight: bold; }
.recheck code { font-size: 7.2pt; white-space: nowrap; word-break: normal; background: #f3f3f3; padding: 0.3mm 1mm; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; break-inside: avoid; }
th, td { text-align: left; vertical-align: top; padding: 0.8mm 1.6mm; border-bottom: 0.5pt solid #ddd; }
thead th { border-bottom: 0.9pt solid #888; font-size: 7.6pt; color: #333; }
tbody th { font-weight: bold; white-space: nowrap; }
tr.first td, tr.first th { border-top: 0.9pt solid #aaa; }
td.metric { white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.na, span.na { color: #666; font-style: italic; }
/* Green always means "ownership still proven" (a metric or defence that recognises the suspect). */
b.yes { color: #1b6e2a; }
span.own { font-weight: normal; font-size: 8pt; }
span.own.recognised { color: #1b6e2a; font-weight: bold; }
span.own.not-recognised, span.own.tie, span.own.not-applicable { color: #666; }
table.kv th { width: 50mm; font-weight: normal; color: #333; }
table.kv code { font-size: 7.4pt; }
.note { color: #666; font-size: 7.2pt; }
td.ok { color: #1e6b34; font-weight: bold; white-space: nowrap; }
td.bad { color: #b3261e; font-weight: bold; white-space: nowrap; }
.fid, .facts { font-size: 8.5pt; }
`;

/** The certificate as one self-contained HTML page (print CSS for A4). Every string is escaped. */
export function certificateHtml(d: CertificateData): string {
  const { result, evidence, calibration } = d;
  const words = verdictWords(result);
  const v = result.verdict;
  const cls = words === 'derived' ? 'derived' : words === 'not derived' ? 'not-derived' : 'insufficient';
  const headline =
    words === 'derived'
      ? 'DERIVED from the victim'
      : words === 'not derived'
        ? 'NOT DERIVED from the victim'
        : 'INSUFFICIENT EVIDENCE';
  const votes = v
    ? `${v.votes} of ${v.of} voting metrics flag the suspect as derived. Vote rule: ${VOTE_RULES[v.rule] ?? v.rule}.`
    : 'No verdict: the bundle has no thresholds.';
  const insufficient = v?.insufficientEvidence
    ? '<p>Fewer than two metrics could vote, so the verification makes no claim either way.</p>'
    : '';
  const suspectName =
    result.suspect.kind === 'responses'
      ? `recorded answers (sha256 ${result.suspect.responses?.sha256 ?? '-'})`
      : `model ${result.suspect.contentHash ?? '-'}`;
  const integrity = result.calibrationIntegrity;
  const rule = commonRule(calibration);
  const thresholdsCheck = evidence.checks.find((c) => c.name === 'thresholds');
  const recheck = `ownership-audit evidence check DIR --root-hash ${evidence.rootHash}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ownership Audit evidence certificate ${e(evidence.rootHash.slice(0, 16))}</title>
<style>${CSS}</style></head><body>
<h1>Model ownership: evidence certificate</h1>
<p class="sub">Is the suspect ${e(suspectName)} derived from the victim ${e(result.victim.contentHash)}? Recomputed from the raw answers in an evidence bundle; every check below passed.</p>
<div class="verdict ${cls}"><div class="word">Verdict: ${e(headline)}</div><div class="votes">${e(votes)}</div>${insufficient}</div>
<div class="root">Root hash (sha256 of the bundle's manifest.json, which lists the sha256 of every other file):<br><code>${e(evidence.rootHash)}</code></div>
<p class="recheck">To re-check, with the bundle in folder DIR (recomputes every figure here from the answers and compares every hash):<br><code>${e(recheck)}</code></p>

<h2>Results per defence</h2>
<table><thead><tr><th>Defence</th><th>Metric</th><th>Kind</th><th class="num">Value</th><th class="num">tau</th><th>Flags as derived</th></tr></thead>
<tbody>${defenseRows(result)}</tbody></table>
${fidelityLine(result)}

<h2>Where the thresholds come from</h2>
<p>Calibration with content hash <code>${e(integrity?.contentHash ?? 'none (formatVersion 1)')}</code>, signature: <b>${e(integrity?.summary ?? 'unknown')}</b>. ${e(String(calibration.references.length))} independently trained reference models; made ${e(readableUtc(calibration.createdAt))} on the ${e(calibration.backend)} backend. Each tau below was re-derived from the references' answers in the bundle with ${rule ? `the rule of every metric, <b>${e(rule)}</b>` : "each metric's rule"} (${e(thresholdsCheck?.detail ?? 'see the checks')}).</p>
${thresholdTable(calibration)}

<h2>Evidence hashes</h2>
${hashRows(d)}

<h2>Checks made</h2>
<table><tbody>${checkRows(evidence)}</tbody></table>
</body></html>
`;
}

export interface WriteCertificateOptions extends CertificateOptions {
  format: CertificateFormat;
  out: string;
  pdf?: RenderPdfOptions;
}

export interface WrittenCertificate {
  path: string;
  format: CertificateFormat;
  bytes: number;
  pages?: number;
  rootHash: string;
  verdict: ReturnType<typeof verdictWords>;
}

/** Checks the bundle, then writes its certificate; nothing is written when the check fails. */
export async function writeCertificate(dir: string, opts: WriteCertificateOptions): Promise<WrittenCertificate> {
  const data = certificateData(dir, opts);
  const out = resolve(opts.out);
  const html = certificateHtml(data);
  const base = { path: out, rootHash: data.evidence.rootHash, verdict: verdictWords(data.result) };
  if (opts.format === 'html') {
    mkdirSync(dirname(out), { recursive: true });
    writeFileAtomicSync(out, html);
    return { ...base, format: 'html', bytes: Buffer.byteLength(html) };
  }
  const executablePath = opts.pdf?.executablePath ?? findChromium(opts.pdf);
  const pdf = await renderPdf(html, out, {
    footer: `Ownership Audit evidence certificate · root hash ${data.evidence.rootHash}`,
    ...opts.pdf,
    executablePath,
  });
  return { ...base, format: 'pdf', bytes: pdf.bytes, pages: pdf.pages };
}
