import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, writeIdx } from '../engine/datasets/fixtures';
import { bandsIdx } from './bands';
import { runCli } from './run-cli';

const tmp = makeTempDir('oa-attack-');
afterAll(() => tmp.cleanup());
const data = join(tmp.dir, 'bands');
writeIdx(data, bandsIdx(240, 1), bandsIdx(60, 2), true);
const victim = join(tmp.dir, 'victim');

describe('ownership-audit attack', () => {
  it('fine-tunes a copy of the victim on an S_LTD share and reports fidelity and compute', () => {
    expect(
      runCli([
        'train',
        '--data',
        data,
        '--blocks',
        '2',
        '--width',
        '8',
        '--hidden',
        '16',
        '--batch',
        '32',
        '--iterations',
        '40',
        '--seed',
        '1',
        '--out',
        victim,
        '--json',
      ]).status,
    ).toBe(0);
    const out = join(tmp.dir, 'ft');
    const r = runCli([
      'attack',
      '--name',
      'finetune',
      '--victim',
      victim,
      '--substitute',
      data,
      '--fraction',
      '0.5',
      '--param',
      'ratio=0.5',
      '--iterations',
      '5',
      '--batch',
      '16',
      '--seed',
      '2',
      '--out',
      out,
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.model).toBe(out);
    expect(existsSync(join(out, 'model.json'))).toBe(true);
    const fidelity = r.json.fidelity as { accuracy: number; agreement: number };
    expect(fidelity.accuracy).toBeGreaterThan(0.5);
    expect(fidelity.agreement).toBeGreaterThan(0.5);
    const compute = r.json.compute as { iterations: number; passes: number; seconds: number };
    expect(compute.iterations).toBe(5);
    expect(compute.passes).toBeGreaterThan(0);
    expect(String(r.json.lineage)).toMatch(/^train\(cnn,bands\)-finetune/);
  });

  it('runs RemovalNet on the whole substitute split (S_LSD) and refuses bad parameters', () => {
    const r = runCli([
      'attack',
      '--name',
      'removalnet',
      '--victim',
      victim,
      '--substitute',
      data,
      '--param',
      'latentSteps=2',
      '--iterations',
      '3',
      '--batch',
      '16',
      '--out',
      join(tmp.dir, 'rn'),
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.scenario).toBe('lsd');
    expect(String(r.json.lineage)).toMatch(/removalnet/);
    const bad = runCli([
      'attack',
      '--name',
      'removalnet',
      '--victim',
      victim,
      '--substitute',
      data,
      '--param',
      'nonsense=1',
      '--iterations',
      '3',
      '--out',
      join(tmp.dir, 'x'),
      '--json',
    ]);
    expect(bad.status).toBe(2);
    expect(bad.json.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const unknown = runCli([
      'attack',
      '--name',
      'steal',
      '--victim',
      victim,
      '--substitute',
      data,
      '--iterations',
      '3',
      '--out',
      join(tmp.dir, 'y'),
      '--json',
    ]);
    expect(unknown.json.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
