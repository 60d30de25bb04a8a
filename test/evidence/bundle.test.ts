/**
 * Evidence bundles (issue 19): written by `verify --evidence`, checked by `evidence check`
 * from the answers alone; relocatable (a calibration folder copied elsewhere, a bundle
 * zipped, moved and unzipped); any edited byte named with its file; an edited threshold
 * named even when every hash is made to match again.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrationContentHash } from '../../src-main/engine/calibration/content-hash';
import { VerifyJsonSchema } from '../../src-main/engine/calibration/verify-schema';
import { checkEvidence } from '../../src-main/engine/evidence/check';
import { fileSha256 } from '../../src-main/engine/evidence/hashes';
import { listFiles } from '../../src-main/engine/evidence/manifest';
import { runCli } from '../cli/run-cli';
import { makeEvidenceWorld, type EvidenceWorld } from './fixture';

let w: EvidenceWorld;
beforeAll(() => {
  w = makeEvidenceWorld('oa-evidence-');
});
afterAll(() => w?.cleanup());

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function verify(args: string[]): Json {
  const r = cli(['verify', '--victim', w.victim, '--data', w.data, '--max-test', '60', ...args, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return r.json;
}

function check(dir: string, extra: string[] = []): { status: number | null; stderr: string; json: Json } {
  return runCli(['evidence', 'check', dir, ...extra, '--json']);
}

function cli(args: string[]): { status: number | null; stderr: string; json: Json } {
  return runCli(args);
}

function flipByte(file: string, at = 10): void {
  const b = readFileSync(file);
  b[Math.min(at, b.length - 1)] ^= 0x01;
  writeFileSync(file, b);
}

function metricValues(r: Json): Record<string, number | null> {
  return Object.fromEntries((r.metrics as Json[]).map((m) => [m.id, m.value]));
}

describe('evidence bundles', () => {
  it('a bundle checks from its answers alone and gives verify its own figures and verdict', () => {
    const bundle = join(w.dir, 'bundle-ft');
    const claimed = verify(['--suspect', w.finetuned, '--calibration', w.calibration, '--evidence', bundle]);
    expect(VerifyJsonSchema.parse(claimed).schemaVersion).toBe(2);
    expect(claimed.evidence.rootHash).toMatch(/^[0-9a-f]{64}$/);
    expect(claimed.evidence.rootHash).toBe(fileSha256(join(bundle, 'manifest.json')));

    // The models are gone: the check reads nothing but the bundle.
    const checked = check(bundle, ['--root-hash', claimed.evidence.rootHash]);
    expect(checked.status, checked.stderr).toBe(0);
    VerifyJsonSchema.parse(checked.json);
    expect(metricValues(checked.json)).toEqual(metricValues(claimed));
    expect(checked.json.verdict).toEqual(claimed.verdict);
    expect(checked.json.defenses).toEqual(claimed.defenses);
    // Beside each defence's verdict: how many of the 3 references it would accuse (leave-one-out).
    for (const d of claimed.defenses as Json[]) expect(d.falseClaims.of + d.falseClaims.notJudged, d.id).toBe(3);
    expect(checked.json.evidence.checks.map((c: Json) => c.name)).toEqual([
      'root hash',
      'files',
      'calibration',
      'thresholds',
      'victim answers',
      'applicability',
      'test-labels.json',
      'verify.json',
    ]);
    expect(checked.json.evidence.checks.every((c: Json) => c.ok)).toBe(true);
    // Taus re-derived from the references' answers equal the calibration's.
    const cal = JSON.parse(readFileSync(w.calibration, 'utf8')) as Json;
    for (const m of cal.metrics as Json[]) {
      const got = (checked.json.metrics as Json[]).find((x) => x.id === m.id)!;
      expect(got.tau).toBeCloseTo(m.tau, 6);
    }

    const wrongRoot = check(bundle, ['--root-hash', '0'.repeat(64)]);
    expect(wrongRoot.status).toBe(2);
    expect(wrongRoot.json.error.message).toMatch(/root hash.*manifest\.json hashes to/);
  });

  it('a calibration copied to another folder, and a bundle zipped, moved and unzipped, check identically', () => {
    const moved = join(w.dir, 'elsewhere', 'calibration-copy');
    cpSync(dirname(w.calibration), moved, { recursive: true });
    const fromCopy = verify(['--suspect', w.other, '--calibration', join(moved, 'cal.json')]);
    const fromOriginal = verify(['--suspect', w.other, '--calibration', w.calibration]);
    expect(metricValues(fromCopy)).toEqual(metricValues(fromOriginal));
    expect(fromCopy.verdict).toEqual(fromOriginal.verdict);

    const bundle = join(w.dir, 'bundle-other');
    const claimed = verify(['--suspect', w.other, '--calibration', join(moved, 'cal.json'), '--evidence', bundle]);
    const zip = join(w.dir, 'bundle.zip');
    const py = (args: string[]) => spawnSync('python3', ['-m', 'zipfile', ...args], { cwd: w.dir, encoding: 'utf8' });
    expect(py(['-c', zip, 'bundle-other']).status).toBe(0);
    rmSync(bundle, { recursive: true });
    rmSync(moved, { recursive: true });
    const unzipped = join(w.dir, 'received');
    expect(py(['-e', zip, unzipped]).status).toBe(0);
    const checked = check(join(unzipped, 'bundle-other'), ['--root-hash', claimed.evidence.rootHash]);
    expect(checked.status, checked.stderr).toBe(0);
    expect(metricValues(checked.json)).toEqual(metricValues(claimed));
    expect(checked.json.verdict).toEqual(claimed.verdict);
  });

  it('a one-byte change in any file is reported with that file, and a file added is named too', () => {
    const bundle = join(w.dir, 'bundle-tamper');
    verify(['--suspect', w.other, '--calibration', w.calibration, '--evidence', bundle]);
    const files = listFiles(bundle);
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const f of files) {
      const copy = join(w.dir, 'tampered');
      rmSync(copy, { recursive: true, force: true });
      cpSync(bundle, copy, { recursive: true });
      flipByte(join(copy, f), 40);
      const e = (() => {
        try {
          checkEvidence(copy);
        } catch (err) {
          return err as Json;
        }
        return undefined;
      })();
      expect(e, f).toBeDefined();
      expect(e!.code, f).toBe('EVIDENCE_MISMATCH');
      expect(e!.message, f).toContain(f);
    }
    const extra = join(w.dir, 'extra');
    cpSync(bundle, extra, { recursive: true });
    writeFileSync(join(extra, 'answers', 'note.txt'), 'added');
    expect(() => checkEvidence(extra)).toThrow(/answers\/note\.txt: not listed in the manifest/);
  });

  it('an edited threshold is named even when the calibration and the manifest are re-hashed to match', () => {
    const bundle = join(w.dir, 'bundle-forged');
    verify(['--suspect', w.other, '--calibration', w.calibration, '--evidence', bundle]);
    const calFile = join(bundle, 'calibration', 'cal.json');
    const doc = JSON.parse(readFileSync(calFile, 'utf8')) as Json;
    const ddv = (doc.metrics as Json[]).find((m) => m.id === 'modeldiff.ddv')!;
    // A forger lowers one reference value and the tau with it (the paper rule: max), so the
    // calibration is self-consistent and its hash is recomputed.
    const i = (ddv.values as number[]).indexOf(ddv.tau);
    ddv.values[i] = ddv.tau - 0.2;
    ddv.tau = Math.max(...(ddv.values as number[]));
    delete doc.contentHash;
    doc.contentHash = calibrationContentHash(doc);
    writeFileSync(calFile, JSON.stringify(doc, null, 2));
    const manifestFile = join(bundle, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Json;
    for (const f of manifest.files as Json[]) {
      f.sha256 = fileSha256(join(bundle, f.path));
      f.bytes = readFileSync(join(bundle, f.path)).length;
    }
    writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
    expect(() => checkEvidence(bundle)).toThrow(/thresholds: modeldiff\.ddv: reference \d recomputes to .* states/);
  });

  it('refuses to write into a folder that holds files, and needs a calibration', () => {
    const used = join(w.dir, 'bundle-ft');
    const r = cli([
      'verify',
      '--victim',
      w.victim,
      '--data',
      w.data,
      '--suspect',
      w.other,
      '--calibration',
      w.calibration,
      '--evidence',
      used,
      '--json',
    ]);
    expect(r.status).toBe(2);
    expect(r.json.error.message).toMatch(/not empty/);
    const noCal = cli([
      'verify',
      '--victim',
      w.victim,
      '--data',
      w.data,
      '--suspect',
      w.other,
      '--evidence',
      join(w.dir, 'x'),
      '--json',
    ]);
    expect(noCal.status).toBe(2);
    expect(noCal.json.error.message).toMatch(/needs a calibration/);
  });
});
