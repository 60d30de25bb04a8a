/**
 * The evidence certificate (`report --evidence DIR`): a bundle written by `verify --evidence`
 * printed through the machine's Chromium and read back with poppler (pdfinfo for the page
 * count, pdftotext for the verdict, root hash and defence names, pdftoppm for a page image);
 * the HTML form; every string escaped; and an edited bundle refused with EVIDENCE_MISMATCH
 * before anything is written.
 *
 * Set CERTIFICATE_SAMPLE=<path prefix> (e.g. tmp/certificate) to keep the PDF as <prefix>.pdf
 * and its pages as <prefix>-<n>.png for a look.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDefense } from '../../src-main/engine/defenses/registry';
import { certificateData, certificateHtml } from '../../src-main/report/certificate';
import { runCli } from '../cli/run-cli';
import { makeEvidenceWorld, type EvidenceWorld } from '../evidence/fixture';

const CHROMIUM = '/usr/bin/chromium';
const PDFTOPPM = '/usr/bin/pdftoppm';
// pdfinfo and pdftotext come with pdftoppm (all poppler-utils).
const PDFINFO = join(dirname(PDFTOPPM), 'pdfinfo');
const PDFTOTEXT = join(dirname(PDFTOPPM), 'pdftotext');
const missing = [CHROMIUM, PDFTOPPM].filter((p) => !existsSync(p));
const skipReason = missing.length
  ? ` (skipped: ${missing.join(', ')} not installed; CI installs chromium and poppler-utils)`
  : '';

/** Whitespace removed, so text wrapped over lines still matches. */
const squash = (s: string): string => s.replace(/\s+/g, '');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let w: EvidenceWorld;
let bundle: string;
let claimed: Json;

beforeAll(() => {
  w = makeEvidenceWorld('oa-certificate-');
  bundle = join(w.dir, 'bundle');
  const r = runCli([
    'verify',
    '--victim',
    w.victim,
    '--suspect',
    w.finetuned,
    '--data',
    w.data,
    '--calibration',
    w.calibration,
    '--evidence',
    bundle,
    '--max-test',
    '60',
    '--json',
  ]);
  expect(r.status, r.stderr).toBe(0);
  claimed = r.json;
});
afterAll(() => w?.cleanup());

/** The headline the certificate states for verify's verdict. */
function headline(v: Json): string {
  if (v.insufficientEvidence) return 'Verdict: INSUFFICIENT EVIDENCE';
  return v.derived ? 'Verdict: DERIVED from the victim' : 'Verdict: NOT DERIVED from the victim';
}

const DEFENCE_NAMES = ['deepjudge', 'zest', 'modeldiff', 'ipguard'].map((id) => getDefense(id).name);

describe('evidence certificate', () => {
  it.skipIf(missing.length > 0)(
    `prints a bundle to a 1-2 page PDF with the verdict, root hash, every defence and the re-check command${skipReason}`,
    () => {
      const out = join(w.dir, 'cert.pdf');
      const r = runCli(['report', '--evidence', bundle, '--out', out, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const rootHash = claimed.evidence.rootHash as string;
      expect(r.json).toMatchObject({ path: out, format: 'pdf', rootHash });

      const pages = Number(/^Pages:\s+(\d+)/m.exec(execFileSync(PDFINFO, [out], { encoding: 'utf8' }))?.[1]);
      expect([1, 2]).toContain(pages);
      expect(r.json.pages).toBe(pages);

      const text = squash(execFileSync(PDFTOTEXT, [out, '-'], { encoding: 'utf8' }));
      const has = (s: string): void => expect(text).toContain(squash(s));
      has(headline(claimed.verdict));
      has(`${claimed.verdict.votes} of ${claimed.verdict.of} voting metrics`);
      has(rootHash);
      has(`ownership-audit evidence check DIR --root-hash ${rootHash}`);
      for (const name of DEFENCE_NAMES) has(name);
      has(claimed.victim.contentHash);
      has(claimed.suspect.contentHash);
      has(claimed.data.testSha256);
      for (const f of claimed.fingerprints as Json[]) has(f.sha256);
      has(claimed.calibrationIntegrity.contentHash);
      has('signature: unsigned');
      // The time in words, not as raw ISO.
      expect(text).not.toContain(claimed.createdAt);
      has('UTC');

      const pngDir = join(w.dir, 'pages');
      mkdirSync(pngDir, { recursive: true });
      execFileSync(PDFTOPPM, ['-r', '60', '-png', out, join(pngDir, 'page')]);
      expect(readdirSync(pngDir).filter((f) => f.endsWith('.png'))).toHaveLength(pages);

      const sample = process.env.CERTIFICATE_SAMPLE;
      if (sample) {
        const prefix = resolve(sample);
        mkdirSync(dirname(prefix), { recursive: true });
        copyFileSync(out, `${prefix}.pdf`);
        execFileSync(PDFTOPPM, ['-r', '60', '-png', out, prefix]);
      }
    },
  );

  it('writes the certificate as HTML without a browser, every string escaped', () => {
    const out = join(w.dir, 'cert.html');
    const r = runCli(['report', '--evidence', bundle, '--out', out, '--json'], {
      OWNERSHIP_AUDIT_CHROMIUM: join(w.dir, 'no-such-chromium'),
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ path: out, format: 'html', rootHash: claimed.evidence.rootHash });
    const html = readFileSync(out, 'utf8');
    expect(html).toContain(claimed.evidence.rootHash);
    for (const name of DEFENCE_NAMES) expect(html).toContain(name);

    // A lineage or a not-applicable reason is text, never markup.
    const data = certificateData(bundle);
    data.result.suspect.lineage = '<script>alert(1)</script>';
    data.result.metrics[0] = { ...data.result.metrics[0], value: null, applicable: false, reason: 'a <b> & "c"' };
    const page = certificateHtml(data);
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('not applicable: a &lt;b&gt; &amp; &quot;c&quot;');
  });

  it('refuses an edited bundle with EVIDENCE_MISMATCH and writes nothing', () => {
    const edited = join(w.dir, 'bundle-edited');
    cpSync(bundle, edited, { recursive: true });
    const answers = join(edited, 'answers', 'suspect.json');
    const b = readFileSync(answers);
    b[200] ^= 0x01;
    writeFileSync(answers, b);
    for (const name of ['edited.pdf', 'edited.html']) {
      const out = join(w.dir, name);
      const r = runCli(['report', '--evidence', edited, '--out', out, '--json']);
      expect(r.status).toBe(2);
      expect(r.json).toMatchObject({ error: { code: 'EVIDENCE_MISMATCH' } });
      expect((r.json as Json).error.message).toContain('answers/suspect.json');
      expect(existsSync(out)).toBe(false);
    }
  });

  it('CLI: a run id and --evidence together, or neither, are INVALID_ARGUMENT; a certificate is pdf or html', () => {
    const both = runCli(['report', 'r_x', '--evidence', bundle, '--format', 'html', '--json']);
    expect(both.status).toBe(2);
    expect(both.json).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    const neither = runCli(['report', '--format', 'html', '--json']);
    expect(neither.status).toBe(2);
    expect(neither.json).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    const csv = runCli(['report', '--evidence', bundle, '--out', join(w.dir, 'c.csv'), '--json']);
    expect(csv.status).toBe(2);
    expect(csv.json).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });
});
