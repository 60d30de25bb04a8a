/**
 * Malformed and tampered calibrations through the CLI (issue 16 defect 5): `verify` refuses
 * them with a typed error naming the metric, field or signature before it loads any model,
 * within the time and memory ceilings, and the store is left as it was. The documents are
 * written at test time (test/engine/calibration/calibration-doc.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signDoc, v1Doc, v2Doc, writeDoc } from '../engine/calibration/calibration-doc';
import { expectCleanRefusal, runCase, storeSnapshot, tempHome } from './harness';

const { home, dispose } = tempHome('calibration');
afterAll(dispose);

/** `verify` against a calibration; the models need not exist: the calibration is checked first. */
function verifyWith(doc: unknown, extra: string[] = []): ReturnType<typeof runCase> {
  const dir = join(home, `case-${Math.random().toString(16).slice(2)}`);
  const file = join(dir, 'cal.json');
  writeDoc(file, doc);
  const before = storeSnapshot(home);
  const run = runCase(
    [
      'verify',
      '--victim',
      join(home, 'victim'),
      '--suspect',
      join(home, 'suspect'),
      '--data',
      join(home, 'data'),
      '--calibration',
      file,
      ...extra,
    ],
    home,
  );
  expect(storeSnapshot(home)).toBe(before);
  return run;
}

type Doc = ReturnType<typeof v1Doc>;
const metricsOf = (d: Doc) => d.metrics as { id: string; tau: unknown }[];

describe('tampered and malformed calibrations (issue 16 defect 5)', () => {
  it('an edited tau is refused naming the metric, not turned into a verdict', () => {
    const doc = v1Doc(home);
    metricsOf(doc)[0].tau = 9.99;
    expectCleanRefusal(verifyWith(doc), 'CALIBRATION_MISMATCH', /deepjudge\.lod/);
  });

  it('a tau of "abc" and an empty defence list are refused naming the field', () => {
    const doc = v1Doc(home);
    metricsOf(doc)[0].tau = 'abc';
    expectCleanRefusal(verifyWith(doc), 'CALIBRATION_MISMATCH', /metrics\[0\]\.tau/);
    expectCleanRefusal(verifyWith({ ...v1Doc(home), defenses: [] }), 'CALIBRATION_MISMATCH', /defenses/);
  });

  it("a bad signature is refused, checked against the home's key or a --trust-key file", () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    mkdirSync(join(home, 'keys'), { recursive: true });
    writeFileSync(
      join(home, 'keys', 'calibration-ed25519.pem'),
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      { mode: 0o600 },
    );
    const { doc, publicPem } = signDoc(v2Doc(), privateKey);
    const signature = doc.signature as { value: string };
    const forged = {
      ...doc,
      signature: { ...signature, value: `${signature.value[0] === 'A' ? 'B' : 'A'}${signature.value.slice(1)}` },
    };
    expectCleanRefusal(verifyWith(forged), 'CALIBRATION_TAMPERED', /signature/);
    const trust = join(home, 'trusted.pem');
    writeFileSync(trust, publicPem);
    expectCleanRefusal(verifyWith(forged, ['--trust-key', trust]), 'CALIBRATION_TAMPERED', /signature/);
    // Signed, but by another key than the one the user trusts.
    const other = signDoc(v2Doc());
    expectCleanRefusal(verifyWith(other.doc, ['--trust-key', trust]), 'CALIBRATION_TAMPERED', /signed/);
  });
});
