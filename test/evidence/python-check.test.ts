/**
 * The second implementation of `evidence check` (scripts/python/evidence_check.py, written
 * from docs/evidence-format.md with Python's standard library and numpy): on the bundles of
 * an independent and a derived suspect it gives every metric value, tau and the verdict that
 * `evidence check` and `verify` give, and it names a changed file with exit status 2. Its
 * threshold rules and canonical JSON are also compared with the TypeScript ones directly,
 * since the fixture's calibration uses the paper rule only.
 *
 * Needs /usr/bin/python3 with numpy (Debian: python3-numpy). Without it the file fails with
 * that instruction; outside CI (env CI unset) it is skipped with a message instead. CI
 * installs python3-numpy (.ci/run), so CI never skips it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrationContentHash } from '../../src-main/engine/calibration/content-hash';
import { computeThreshold, type ThresholdRuleName } from '../../src-main/engine/calibration/rules';
import { runCli } from '../cli/run-cli';
import { makeEvidenceWorld, type EvidenceWorld } from './fixture';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PYTHON = '/usr/bin/python3';
const SCRIPT = resolve('scripts/python/evidence_check.py');
const HAS_NUMPY = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const NO_NUMPY =
  'scripts/python/evidence_check.py needs /usr/bin/python3 with numpy: install python3-numpy (apt-get install -y python3-numpy)';
const SKIP = !HAS_NUMPY && !process.env.CI;
if (SKIP) console.warn(`test/evidence/python-check.test.ts SKIPPED (CI unset): ${NO_NUMPY}.`);

/** Relative agreement; values and taus this close to 0 (DeepJudge at identity, MR 0) are compared absolutely. */
const REL_TOL = 1e-5;
const ABS_TOL_NEAR_ZERO = 1e-6;

function diff(py: number, ts: number): { ok: boolean; rel: number } {
  const d = Math.abs(py - ts);
  if (Math.abs(ts) < ABS_TOL_NEAR_ZERO) return { ok: d <= ABS_TOL_NEAR_ZERO, rel: d };
  const rel = d / Math.max(1e-12, Math.abs(ts));
  return { ok: rel <= REL_TOL, rel };
}

function python(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pyCheck(dir: string): { status: number | null; out: string; json: Json } {
  const r = python([SCRIPT, dir, '--json']);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, json: last.startsWith('{') ? JSON.parse(last) : {} };
}

function flipByte(file: string, at = 10): void {
  const b = readFileSync(file);
  b[Math.min(at, b.length - 1)] ^= 0x01;
  writeFileSync(file, b);
}

/** Largest difference per metric id (relative, or absolute near 0), over every comparison made. */
const worst = new Map<string, number>();

describe.skipIf(SKIP)('evidence check in Python (second implementation)', () => {
  let w: EvidenceWorld;
  const bundles: Record<string, { dir: string; claimed: Json; checked: Json }> = {};

  beforeAll(() => {
    if (!HAS_NUMPY) throw new Error(`${NO_NUMPY}. CI installs it; set up this machine the same way.`);
    w = makeEvidenceWorld('oa-pycheck-');
    for (const [name, suspect] of [
      ['other', w.other],
      ['finetuned', w.finetuned],
    ]) {
      const dir = join(w.dir, `bundle-${name}`);
      const v = runCli([
        'verify',
        '--victim',
        w.victim,
        '--suspect',
        suspect,
        '--data',
        w.data,
        '--calibration',
        w.calibration,
        '--max-test',
        '60',
        '--evidence',
        dir,
        '--json',
      ]);
      expect(v.status, v.stderr).toBe(0);
      const c = runCli(['evidence', 'check', dir, '--json']);
      expect(c.status, c.stderr).toBe(0);
      bundles[name] = { dir, claimed: v.json, checked: c.json };
    }
  });
  afterAll(() => {
    w?.cleanup();
    if (worst.size)
      console.info(
        `python-check: largest Python/TypeScript difference per metric (relative; absolute below ${ABS_TOL_NEAR_ZERO}): ${[
          ...worst,
        ]
          .map(([id, d]) => `${id} ${d.toExponential(2)}`)
          .join(', ')}`,
      );
  });

  it.each(['other', 'finetuned'])('recomputes the %s bundle: every value, tau and the verdict', (name) => {
    const { dir, claimed, checked } = bundles[name];
    const py = pyCheck(dir);
    expect(py.status, py.out).toBe(0);
    expect(py.json.ok).toBe(true);
    expect(py.json.rootHash).toBe(claimed.evidence.rootHash);
    expect(py.json.rootHash).toBe(checked.evidence.rootHash);
    const ids = (py.json.metrics as Json[]).map((m) => m.id);
    expect(ids).toEqual((checked.metrics as Json[]).map((m) => m.id));
    expect(ids).toEqual((claimed.metrics as Json[]).map((m) => m.id));
    for (const m of py.json.metrics as Json[]) {
      for (const ts of [checked, claimed]) {
        const t = (ts.metrics as Json[]).find((x) => x.id === m.id) as Json;
        for (const field of ['value', 'tau'] as const) {
          if (t[field] === undefined || t[field] === null) {
            expect(m[field], `${name} ${m.id}.${field}`).toBeNull();
            continue;
          }
          const d = diff(m[field], t[field]);
          worst.set(m.id, Math.max(worst.get(m.id) ?? 0, d.rel));
          expect(d.ok, `${name} ${m.id}.${field}: Python ${m[field]}, TypeScript ${t[field]}`).toBe(true);
        }
        expect(m.flagged ?? undefined, `${name} ${m.id}.flagged`).toBe(t.flagged ?? undefined);
      }
    }
    for (const ts of [checked, claimed]) {
      const { derived, votes, of, rule, insufficientEvidence } = ts.verdict as Json;
      expect(py.json.verdict).toEqual({ derived, votes, of, rule, insufficientEvidence });
    }
  });

  it('the two suspects get different verdicts (the comparison covers both outcomes)', () => {
    expect(bundles.finetuned.checked.verdict.derived).toBe(true);
    expect(bundles.other.checked.verdict.derived).toBe(false);
  });

  it.each([
    'answers/suspect.json',
    'calibration/cal.json',
    'calibration/cal.json.fingerprints/zest.json',
    'test-labels.json',
  ])('a one-byte change in %s: exit 2, naming the file', (file) => {
    const copy = join(w.dir, `edited-${file.replace(/[/.]/g, '-')}`);
    cpSync(bundles.other.dir, copy, { recursive: true });
    flipByte(join(copy, file));
    const py = pyCheck(copy);
    expect(py.status, py.out).toBe(2);
    expect(py.json.ok).toBe(false);
    expect((py.json.problems as string[]).join('\n')).toContain(`${file}: its sha256 differs from the manifest`);
  });

  it('a missing and an extra file: exit 2, naming each', () => {
    const copy = join(w.dir, 'edited-files');
    cpSync(bundles.other.dir, copy, { recursive: true });
    writeFileSync(join(copy, 'answers', 'extra.json'), '{}');
    writeFileSync(join(copy, 'verify.json'), '');
    const py = pyCheck(copy);
    expect(py.status, py.out).toBe(2);
    const problems = (py.json.problems as string[]).join('\n');
    expect(problems).toContain('answers/extra.json: not listed in the manifest');
    expect(problems).toContain('verify.json: its sha256 differs');
  });
});

describe.skipIf(SKIP)('the Python rules and canonical JSON match the TypeScript ones', () => {
  beforeAll(() => {
    if (!HAS_NUMPY) throw new Error(`${NO_NUMPY}. CI installs it; set up this machine the same way.`);
  });

  it('every threshold rule gives the same tau and degenerate flag', () => {
    const rules: { name: ThresholdRuleName; parameter?: number }[] = [
      { name: 'paper' },
      { name: 'normal' },
      { name: 'normal', parameter: 0.01 },
      { name: 'normal', parameter: 0.99 },
      { name: 'confidence' },
      { name: 'confidence', parameter: 0.9 },
      { name: 'quantile' },
      { name: 'quantile', parameter: 0.37 },
      { name: 'reference-ratio' },
      { name: 'reference-ratio', parameter: 0.8 },
    ];
    const samples = [
      [0.5, 0.7, 0.9],
      [1e-7, 3.2, 7.7, 1.1, 0.25],
      [2, 2, 2],
      [0.1, 0.3],
    ];
    const cases = rules.flatMap((rule) =>
      (['distance', 'similarity'] as const).flatMap((kind) => samples.map((values) => ({ kind, values, rule }))),
    );
    const r = python(
      [
        '-c',
        'import json,sys; sys.path.insert(0, sys.argv[1]); import evidence_check as E\n' +
          'print(json.dumps([E.compute_threshold(c["kind"], c["values"], c["rule"])[:2] for c in json.load(sys.stdin)]))',
        resolve('scripts/python'),
      ],
      JSON.stringify(cases),
    );
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as [number, boolean][];
    cases.forEach((c, i) => {
      const t = computeThreshold(c.kind, c.values, c.rule);
      expect(diff(got[i][0], t.tau).ok, `${c.rule.name} ${c.kind} ${c.values}: ${got[i][0]} vs ${t.tau}`).toBe(true);
      expect(got[i][1]).toBe(t.degenerate);
    });
  });

  it('canonical JSON hashes alike: JS number forms, integers, key order by UTF-16 units, escapes', () => {
    const doc = {
      formatVersion: 2,
      b: [1e-7, 0.000001, 1e21, 1e20, 10000, -0, 0.1, 123.456, 5e-324, 2 ** 53, 1.5e-10],
      a: { z: 'tab\there "quoted" \\ \u0001 é', '\uffff': 1, '\u{1f600}': 2, '10': 3, '9': 4 },
      contentHash: 'ignored',
      signature: { ignored: true },
    };
    const r = python(
      [
        '-c',
        'import json,sys; sys.path.insert(0, sys.argv[1]); import evidence_check as E\n' +
          'print(E.calibration_content_hash(json.loads(sys.stdin.read())))',
        resolve('scripts/python'),
      ],
      JSON.stringify(doc),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(calibrationContentHash(JSON.parse(JSON.stringify(doc))));
  });
});
