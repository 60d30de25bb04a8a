/**
 * Issue 16 defect 5: a calibration is tamper-evident as a whole. An edited tau flipped a
 * verdict with exit 0, "abc"/null taus and empty lists were accepted; now the document is
 * validated, taus are re-derived from the stored reference values, a content hash catches
 * any edit of a formatVersion 2 file, and its paths resolve against the file's folder.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCalibration } from '../../../src-main/engine/calibration/calibration-file';
import { AuditError } from '../../../src-main/engine/errors';
import { v1Doc, v2Doc, writeDoc } from './calibration-doc';

const root = mkdtempSync(join(tmpdir(), 'oa-calfile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `c${n++}`, 'cal.json');

/** The AuditError readCalibration throws, or a failure when it throws none. */
function refusal(file: string): AuditError {
  try {
    readCalibration(file);
  } catch (e) {
    if (e instanceof AuditError) return e;
    throw e;
  }
  throw new Error(`${file} was accepted`);
}

type Doc = ReturnType<typeof v1Doc>;
const metricsOf = (d: Doc) => d.metrics as { id: string; tau: unknown; values: unknown }[];

describe('calibration documents (issue 16 defect 5)', () => {
  it('an edited tau is refused naming the metric (it flipped a verdict with exit 0)', () => {
    const file = fresh();
    const doc = v1Doc(root);
    writeDoc(file, doc);
    expect(readCalibration(file).metrics).toHaveLength(3);
    metricsOf(doc)[0].tau = 9.99;
    writeDoc(file, doc);
    const e = refusal(file);
    expect(e.code).toBe('CALIBRATION_MISMATCH');
    expect(e.message).toMatch(/deepjudge\.lod/);
    expect(e.hint).not.toBe('');
  });

  it('a tau of "abc" or null, or a non-finite reference value, is refused naming the field', () => {
    for (const tau of ['abc', null]) {
      const file = fresh();
      const doc = v1Doc(root);
      metricsOf(doc)[1].tau = tau;
      writeDoc(file, doc);
      const e = refusal(file);
      expect(e.code).toBe('CALIBRATION_MISMATCH');
      expect(e.message).toMatch(/metrics\[1\]\.tau/);
    }
    const file = fresh();
    const doc = v1Doc(root);
    metricsOf(doc)[2].values = [0.1, null, 0.2];
    writeDoc(file, doc);
    expect(refusal(file).message).toMatch(/metrics\[2\]\.values\[1\]/);
  });

  it('empty defence or metric lists, one reference, and values not one per reference are refused', () => {
    const cases: [(d: Doc) => void, RegExp][] = [
      [(d) => (d.defenses = []), /defenses/],
      [(d) => (d.metrics = []), /metrics/],
      [(d) => (d.references = (d.references as Doc[]).slice(0, 1)), /references/],
      [(d) => (metricsOf(d)[0].values = [4.24, 4.73]), /metrics\[0\]\.values/],
    ];
    for (const [edit, names] of cases) {
      const file = fresh();
      const doc = v1Doc(root);
      edit(doc);
      writeDoc(file, doc);
      const e = refusal(file);
      expect(e.code).toBe('CALIBRATION_MISMATCH');
      expect(e.message).toMatch(names);
    }
  });

  it('formatVersion 2: the document loads, and a one-byte edit anywhere is refused', () => {
    const file = fresh();
    writeDoc(file, v2Doc());
    expect(readCalibration(file)).toMatchObject({ contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const text = readFileSync(file, 'utf8');
    const edited = (c: string): string => {
      if (/[0-9]/.test(c)) return String((Number(c) + 1) % 10);
      if (/[a-y]/i.test(c)) return String.fromCharCode(c.charCodeAt(0) + 1);
      return c === 'x' ? 'y' : 'x';
    };
    let refused = 0;
    for (let i = 0; i < text.length; i++) {
      if (/\s/.test(text[i])) continue; // insignificant whitespace: the document is the same
      writeFileSync(file, text.slice(0, i) + edited(text[i]) + text.slice(i + 1));
      const e = refusal(file);
      expect(['CALIBRATION_TAMPERED', 'CALIBRATION_MISMATCH'], `edit at ${i}`).toContain(e.code);
      refused++;
    }
    expect(refused).toBeGreaterThan(1000);
    // A value edit that keeps the JSON valid is named as tampering, with a hint.
    const doc = v2Doc();
    (doc.references as { seed: number }[])[1].seed = 10_005;
    writeDoc(file, doc);
    const e = refusal(file);
    expect(e.code).toBe('CALIBRATION_TAMPERED');
    expect(e.hint).toMatch(/calibrate/);
  });

  it('formatVersion 2: a calibration folder moved elsewhere resolves its paths against its new place', () => {
    const from = join(root, 'before', 'calibration');
    mkdirSync(from, { recursive: true });
    writeDoc(join(from, 'cal.json'), v2Doc());
    const to = join(root, 'after', 'moved');
    mkdirSync(join(root, 'after'), { recursive: true });
    renameSync(from, to);
    const c = readCalibration(join(to, 'cal.json'));
    expect(c.defenses.map((d) => d.fingerprintsFile)).toEqual([
      join(to, 'cal.json.fingerprints', 'deepjudge.json'),
      join(to, 'cal.json.fingerprints', 'ipguard.json'),
    ]);
    expect(c.references[2].path).toBe(join(to, 'cal.json.references', 'reference-2'));
    expect(c.victim.path).toBe(join(root, 'after', 'victim'));
    expect(c.data.path).toBe(join(root, 'after', 'data'));
  });
});
