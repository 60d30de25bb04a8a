import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, writeIdx } from '../engine/datasets/fixtures';
import { bandsIdx } from './bands';
import { runCli } from './run-cli';

const tmp = makeTempDir('oa-verify-');
afterAll(() => tmp.cleanup());
const data = join(tmp.dir, 'bands');
writeIdx(data, bandsIdx(240, 1), bandsIdx(60, 2), true);

const arch = ['--blocks', '2', '--width', '8', '--hidden', '16', '--batch', '32'];
const small = [
  '--param',
  'deepjudge.seeds=12',
  '--param',
  'deepjudge.fuzzSteps=5',
  '--param',
  'modeldiff.seeds=12',
  '--param',
  'ipguard.fingerprints=12',
  '--param',
  'ipguard.steps=20',
  '--param',
  'zest.references=2',
  '--param',
  'zest.masks=16',
];

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
    expect(r.json.verdict).toBeUndefined();
    expect((r.json.metrics as { id: string }[]).map((m) => m.id)).toEqual([
      'modeldiff.ddv',
      'fidelity.accuracy',
      'fidelity.agreement',
    ]);
  });
});
