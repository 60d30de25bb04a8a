import { cpSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, writeIdx } from '../engine/datasets/fixtures';
import { SMALL_DEFENSES } from '../evidence/fixture';
import { bandsIdx } from './bands';
import { VerifyJsonSchema } from '../../src-main/engine/calibration/verify-schema';
import { runCli } from './run-cli';

const tmp = makeTempDir('oa-verify-');
afterAll(() => tmp.cleanup());
const data = join(tmp.dir, 'bands');
writeIdx(data, bandsIdx(240, 1), bandsIdx(60, 2), true);

const arch = ['--blocks', '2', '--width', '8', '--hidden', '16', '--batch', '32'];
const small = SMALL_DEFENSES;

describe('calibrate and verify', () => {
  const victim = join(tmp.dir, 'victim');
  const other = join(tmp.dir, 'other');
  const calibration = join(tmp.dir, 'cal.json');

  it('calibrates thresholds from reference models and judges the victim derived from itself but not an independent model', () => {
    expect(
      runCli(['train', '--data', data, ...arch, '--iterations', '40', '--seed', '1', '--out', victim, '--json']).status,
    ).toBe(0);
    expect(
      runCli(['train', '--data', data, ...arch, '--iterations', '40', '--seed', '777', '--out', other, '--json'])
        .status,
    ).toBe(0);

    const cal = runCli([
      'calibrate',
      '--victim',
      victim,
      '--data',
      data,
      '--references',
      '3',
      '--out',
      calibration,
      ...small,
      '--json',
    ]);
    expect(cal.status, cal.stderr).toBe(0);
    const metrics = cal.json.metrics as { id: string; values: number[]; tau: number; degenerate: boolean }[];
    expect(metrics.map((m) => m.id).sort()).toEqual([
      'deepjudge.lad',
      'deepjudge.lod',
      'ipguard.mr',
      'modeldiff.ddv',
      'zest.cosine',
      'zest.l2',
    ]);
    for (const m of metrics) expect(m.values).toHaveLength(3);
    const lod = metrics.find((m) => m.id === 'deepjudge.lod')!;
    expect(lod.tau).toBe(Math.min(...lod.values));

    const self = runCli([
      'verify',
      '--victim',
      victim,
      '--suspect',
      victim,
      '--data',
      data,
      '--calibration',
      calibration,
      '--json',
    ]);
    expect(self.status, self.stderr).toBe(0);
    const selfMetrics = self.json.metrics as { id: string; value: number; flagged?: boolean; tau?: number }[];
    expect(selfMetrics.find((m) => m.id === 'deepjudge.lod')!.value).toBeCloseTo(0, 6);
    expect(selfMetrics.find((m) => m.id === 'fidelity.agreement')!.value).toBe(1);
    expect(self.json.verdict).toMatchObject({ derived: true });

    const indep = runCli([
      'verify',
      '--victim',
      victim,
      '--suspect',
      other,
      '--data',
      data,
      '--calibration',
      calibration,
      '--json',
    ]);
    expect(indep.status, indep.stderr).toBe(0);
    expect(indep.json.verdict).toMatchObject({ derived: false });
  });

  // Issue 16 defect 5: a signed calibration says who signed it, an unsigned one says so, and a
  // calibration folder moved elsewhere still verifies (its paths are relative to the file).
  it('calibrate --sign is reported signed by the home key, and still verifies after its folder moved', () => {
    const home = join(tmp.dir, 'home');
    const signed = join(tmp.dir, 'signed', 'cal.json');
    // The first calibration's reference models are reused (same seeds): no training here.
    cpSync(`${calibration}.references`, `${signed}.references`, { recursive: true });
    const cal = runCli(
      [
        'calibrate',
        '--victim',
        victim,
        '--data',
        data,
        '--references',
        '2',
        '--out',
        signed,
        '--sign',
        '--workers',
        '1',
        '--defenses',
        'modeldiff',
        '--param',
        'modeldiff.seeds=12',
        '--json',
      ],
      { OWNERSHIP_AUDIT_HOME: home },
    );
    expect(cal.status, cal.stderr).toBe(0);
    const fingerprint = (cal.json.signature as { publicKeyFingerprint: string }).publicKeyFingerprint;
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(home, 'keys', 'calibration-ed25519.pem')).mode & 0o777).toBe(0o600);

    const moved = join(tmp.dir, 'elsewhere', 'calibration');
    mkdirSync(dirname(moved), { recursive: true });
    renameSync(dirname(signed), moved);
    const args = ['verify', '--victim', victim, '--suspect', victim, '--data', data, '--json'];
    const r = runCli([...args, '--calibration', join(moved, 'cal.json')], { OWNERSHIP_AUDIT_HOME: home });
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.verdict).toMatchObject({ derived: true });
    expect(r.json.calibrationIntegrity).toMatchObject({
      formatVersion: 2,
      signature: 'signed',
      signedBy: fingerprint,
      summary: `signed by ${fingerprint}`,
    });

    const unsigned = runCli([...args, '--calibration', calibration], { OWNERSHIP_AUDIT_HOME: home });
    expect(unsigned.status, unsigned.stderr).toBe(0);
    expect(unsigned.json.calibrationIntegrity).toMatchObject({ signature: 'unsigned', summary: 'unsigned' });
  });

  it('refuses a calibration made for another victim and one whose fingerprints changed', () => {
    const wrongVictim = runCli([
      'verify',
      '--victim',
      other,
      '--suspect',
      victim,
      '--data',
      data,
      '--calibration',
      calibration,
      '--json',
    ]);
    expect(wrongVictim.status).toBe(2);
    expect(wrongVictim.json.error).toMatchObject({ code: 'CALIBRATION_MISMATCH' });

    const fpFile = `${calibration}.fingerprints/ipguard.json`;
    const fp = JSON.parse(readFileSync(fpFile, 'utf8')) as { info: Record<string, unknown> };
    fp.info.tampered = true;
    writeFileSync(fpFile, JSON.stringify(fp));
    const tampered = runCli([
      'verify',
      '--victim',
      victim,
      '--suspect',
      other,
      '--data',
      data,
      '--calibration',
      calibration,
      '--json',
    ]);
    expect(tampered.status).toBe(2);
    expect(tampered.json.error).toMatchObject({ code: 'CALIBRATION_MISMATCH' });
  });

  it('without a calibration prints values and gives no verdict', () => {
    const r = runCli([
      'verify',
      '--victim',
      victim,
      '--suspect',
      other,
      '--data',
      data,
      '--defenses',
      'modeldiff',
      '--param',
      'modeldiff.seeds=12',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    VerifyJsonSchema.parse(r.json);
    expect(r.json.verdict).toBeUndefined();
    expect((r.json.metrics as { id: string }[]).map((m) => m.id)).toEqual([
      'modeldiff.ddv',
      'fidelity.accuracy',
      'fidelity.agreement',
    ]);
  });
});
