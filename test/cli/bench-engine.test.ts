/**
 * `bench engine` end to end on a tiny batch (the figures themselves are the bench's job,
 * not a test's): interleaved rounds, medians, a new dated results file by default.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runCli } from './run-cli';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

it('bench engine runs the rounds, takes medians and writes its results where asked', () => {
  dir = mkdtempSync(join(tmpdir(), 'oa-bench-'));
  const out = join(dir, 'engine.json');
  const r = runCli([
    'bench',
    'engine',
    '--models',
    'cnn',
    '--batch',
    '4',
    '--reps',
    '1',
    '--rounds',
    '2',
    '--no-pytorch',
    '--out',
    out,
    '--json',
  ]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/\[1\] cnn[\s\S]*\[2\] cnn/);
  const doc = JSON.parse(readFileSync(out, 'utf8')) as {
    pytorchNote: string;
    perRound: { engine: { trainExPerSec: number }[] }[];
    models: { trainExPerSec: number }[];
    targets: unknown[];
  };
  expect(doc).toMatchObject({ rounds: 2, engineThreads: 1, batch: 4, pytorch: [], ratios: [] });
  expect(doc.pytorchNote).toMatch(/--no-pytorch/);
  expect(doc.perRound).toHaveLength(2);
  const rounds = doc.perRound.map((p) => p.engine[0].trainExPerSec);
  expect(doc.models[0].trainExPerSec).toBeCloseTo((rounds[0] + rounds[1]) / 2, 6);
  expect(doc.targets[0]).toMatchObject({ arch: 'cnn', required: 0.8 });
});

it('never writes over the committed results by default: a new dated file', () => {
  const before = new Set(readdirSync('bench/results'));
  const r = runCli([
    'bench',
    'engine',
    '--models',
    'cnn',
    '--batch',
    '2',
    '--reps',
    '1',
    '--rounds',
    '1',
    '--no-pytorch',
    '--json',
  ]);
  expect(r.status, r.stderr).toBe(0);
  const added = readdirSync('bench/results').filter((f) => !before.has(f));
  try {
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^engine-\d{8}-\d{4}\.json$/);
  } finally {
    for (const f of added) rmSync(join('bench/results', f));
  }
  expect(existsSync('bench/results/engine.json')).toBe(true);
});
