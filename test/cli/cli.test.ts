import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, writeIdx } from '../engine/datasets/fixtures';
import { bandsIdx } from './bands';
import { runCli } from './run-cli';

const tmp = makeTempDir('oa-cli-');
afterAll(() => tmp.cleanup());

const dataDir = join(tmp.dir, 'bands');
writeIdx(dataDir, bandsIdx(240, 1), bandsIdx(60, 2), true);

describe('ownership-audit CLI', () => {
  it('info --json reports the active backend and the ones that load', () => {
    const r = runCli(['info', '--json']);
    expect(r.status).toBe(0);
    const available = r.json.available as string[];
    expect(available).toEqual(expect.arrayContaining(['wasm', 'cpu']));
    expect(available).toContain(r.json.backend);
    // Without native TensorFlow the automatic choice is the first available one.
    expect(r.json.backend).toBe(available[0]);
    // On wasm a job left alone may use every core (at most 8); elsewhere the backend decides.
    if (r.json.backend === 'wasm') expect(r.json.jobThreads).toBe(Math.min(8, availableParallelism()));
    else expect(r.json.jobThreads).toBeNull();
  });

  it('takes the backend from the environment, and the flag over the environment', () => {
    expect(runCli(['info', '--json'], { OWNERSHIP_AUDIT_BACKEND: 'cpu' }).json.backend).toBe('cpu');
    expect(runCli(['--backend', 'wasm', 'info', '--json'], { OWNERSHIP_AUDIT_BACKEND: 'cpu' }).json.backend).toBe(
      'wasm',
    );
  });

  it('refuses an unknown backend and one that does not load, with a hint', () => {
    const bogus = runCli(['--backend', 'tpu', 'info', '--json']);
    expect(bogus.status).toBe(2);
    expect(bogus.json.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const available = runCli(['info', '--json']).json.available as string[];
    if (!available.includes('tensorflow')) {
      const native = runCli(['--backend', 'tensorflow', 'info', '--json']);
      expect(native.status).toBe(2);
      expect(native.json.error).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
      expect(String((native.json.error as { hint: string }).hint)).toMatch(/Available here: .*wasm/);
    }
  });

  it('trains on the default backend, saves the model, and evaluate reproduces its test accuracy', () => {
    const out = join(tmp.dir, 'victim');
    const trained = runCli([
      'train',
      '--arch',
      'cnn',
      '--data',
      dataDir,
      '--blocks',
      '2',
      '--width',
      '8',
      '--hidden',
      '16',
      '--iterations',
      '40',
      '--batch',
      '32',
      '--seed',
      '3',
      '--out',
      out,
      '--json',
    ]);
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.json.model).toBe(out);
    expect(trained.json.testAccuracy).toBeGreaterThan(0.9);
    expect(trained.json.lineage).toBe('train(cnn,bands)');
    expect(trained.stderr).toMatch(/iter 40\/40 +loss/);
    expect(existsSync(join(out, 'model.json'))).toBe(true);
    expect(existsSync(`${out}.checkpoint`)).toBe(false);

    const evaluated = runCli(['evaluate', '--model', out, '--data', dataDir, '--json']);
    expect(evaluated.status, evaluated.stderr).toBe(0);
    expect(evaluated.json.accuracy).toBe(trained.json.testAccuracy);
    expect(evaluated.json.count).toBe(60);
  });

  it('trains on a partition and records it in the lineage', () => {
    const out = join(tmp.dir, 'half');
    const r = runCli([
      'train',
      '--data',
      dataDir,
      '--partition',
      '1/2',
      '--blocks',
      '2',
      '--width',
      '4',
      '--hidden',
      '8',
      '--iterations',
      '3',
      '--batch',
      '16',
      '--out',
      out,
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.lineage).toBe('train(cnn,bands[1/2])');
    expect(r.json.curve).toBeUndefined();
  });

  it('--eval-every records test accuracy along training, the last point being the final accuracy', () => {
    const out = join(tmp.dir, 'curve');
    const r = runCli([
      'train',
      '--data',
      dataDir,
      '--blocks',
      '2',
      '--width',
      '4',
      '--hidden',
      '8',
      '--iterations',
      '5',
      '--batch',
      '16',
      '--eval-every',
      '2',
      '--out',
      out,
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const curve = r.json.curve as { iteration: number; epoch: number; testAccuracy: number }[];
    expect(curve.map((p) => p.iteration)).toEqual([2, 4, 5]);
    expect(curve.every((p) => p.epoch > 0 && p.testAccuracy >= 0 && p.testAccuracy <= 1)).toBe(true);
    expect(curve[curve.length - 1].testAccuracy).toBe(r.json.testAccuracy);
  });

  it('gives typed errors for missing arguments and bad input', () => {
    const noData = runCli(['train', '--out', join(tmp.dir, 'x'), '--json']);
    expect(noData.status).toBe(2);
    expect(noData.json.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const missing = runCli(['train', '--data', join(tmp.dir, 'nope'), '--out', join(tmp.dir, 'y'), '--json']);
    expect(missing.status).toBe(2);
    expect(missing.json.error).toMatchObject({ code: 'DATASET_NOT_FOUND' });
    const arch = runCli(['train', '--arch', 'alexnet', '--data', dataDir, '--out', join(tmp.dir, 'z'), '--json']);
    expect(arch.json.error).toMatchObject({ code: 'UNKNOWN_ARCH' });
    const badFlag = runCli(['train', '--epochs', 'many', '--data', dataDir, '--out', join(tmp.dir, 'w')]);
    expect(badFlag.status).toBe(1);
    expect(badFlag.stderr).toMatch(/expected a positive number/);
    const noModel = runCli(['evaluate', '--model', join(tmp.dir, 'none'), '--data', dataDir, '--json']);
    expect(noModel.json.error).toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});

describe('the embedded demo', () => {
  it('evaluate --demo reproduces the accuracy recorded in the demo victim metadata', async () => {
    const { readFileSync } = await import('node:fs');
    const meta = JSON.parse(readFileSync('resources/models/demo-victim/ownership-audit.json', 'utf8')) as {
      testAccuracy: number;
      lineage: string;
      backend: string;
    };
    expect(meta.testAccuracy).toBeGreaterThan(0.85);
    const r = runCli(['--backend', meta.backend, 'evaluate', '--demo', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.count).toBe(5000);
    expect(r.json.accuracy).toBeCloseTo(meta.testAccuracy, 4);
    expect(r.json.lineage).toBe('train(cnn,fashion-mnist-demo)');
  });
});
