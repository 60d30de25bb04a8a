/**
 * `bench engine` end to end on a tiny batch (the figures themselves are the bench's job,
 * not a test's): interleaved rounds, each on 1 and 2 threads, medians, a new dated results
 * file by default.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { machineThreads } from '../../src-main/engine/wasm-threads';
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
    '--threads',
    '1,2',
    '--no-pytorch',
    '--out',
    out,
    '--json',
  ]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/\[1\] cnn[\s\S]*\[2\] cnn/);
  const doc = JSON.parse(readFileSync(out, 'utf8')) as {
    pytorchNote: string;
    perRound: { engine: { threads: number; trainExPerSec: number }[] }[];
    models: { threads: number; trainExPerSec: number }[];
    targets: unknown[];
  };
  expect(doc).toMatchObject({ rounds: 2, engineThreads: [1, 2], batch: 4, pytorch: [], ratios: [] });
  expect(doc.pytorchNote).toMatch(/--no-pytorch/);
  expect(doc.perRound).toHaveLength(2);
  // Each round measured both counts (in alternating order); a 1-core machine caps 2 at 1.
  const two = Math.min(2, machineThreads());
  for (const round of doc.perRound) expect(round.engine.map((e) => e.threads).sort()).toEqual([1, two].sort());
  expect(doc.models.map((m) => m.threads)).toEqual(two === 2 ? [1, 2] : [1]);
  const one = doc.perRound.map((p) => p.engine.filter((e) => e.threads === 1).map((e) => e.trainExPerSec));
  if (two === 2) expect(doc.models[0].trainExPerSec).toBeCloseTo((one[0][0] + one[1][0]) / 2, 6);
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
