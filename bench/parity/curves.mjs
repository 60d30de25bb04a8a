#!/usr/bin/env node
// Learning curves side by side: the default `cnn` recipe (width 32, SGD lr 0.05 momentum
// 0.9, weight decay 5e-4, cosine, batch 128) trained by the engine (wasm backend, `train
// --eval-every`) and by PyTorch (torch_train.py, same data handling, architecture, init
// convention and recipe), one seed at a time with the two runs side by side on the two
// cores, test accuracy measured at the same iterations. Writes every curve and the
// per-point mean over seeds to --out.
// Usage: node bench/parity/curves.mjs --data DIR --name NAME [--epochs 1] [--points 4]
//        [--seeds 1,2,3] [--max-train N] [--max-test N] [--out FILE] [--only pytorch|ownership-audit]
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { lastJsonLine, runProcess } from './run-process.mjs';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    name: { type: 'string' },
    epochs: { type: 'string', default: '1' },
    points: { type: 'string', default: '4' },
    seeds: { type: 'string', default: '1,2,3' },
    'max-train': { type: 'string' },
    'max-test': { type: 'string' },
    out: { type: 'string' },
    // Rerun one side only; the other side's runs are kept from --out.
    only: { type: 'string' },
  },
});
if (!values.data || !values.name) {
  console.error('usage: node bench/parity/curves.mjs --data DIR --name NAME [--epochs 1] [--points 4] [--seeds 1,2,3]');
  process.exit(2);
}
const out = values.out ?? join('bench', 'results', `parity-curves-${values.name}.json`);
const work = resolve('tmp', 'parity-curves');
mkdirSync(work, { recursive: true });

const run = async (cmd, args) => lastJsonLine((await runProcess(cmd, args))[0]);

// The evaluation interval: `points` evenly spaced over the run (the last one at the end).
// The images of an IDX split: the count in its labels file's header (big-endian, bytes 4-7).
const countOf = (split) => gunzipSync(readFileSync(join(values.data, `${split}-labels-idx1-ubyte.gz`))).readUInt32BE(4);
const trainCount = Math.min(Number(values['max-train'] ?? Infinity), countOf('train'));
const testCount = Math.min(Number(values['max-test'] ?? Infinity), countOf('t10k'));
// Both sides get explicit sizes: torch_train.py has defaults of its own.
const limits = ['--max-train', String(trainCount), '--max-test', String(testCount)];
const total = Math.round(Number(values.epochs) * Math.floor(trainCount / 128));
const every = Math.max(1, Math.floor(total / Number(values.points)));

const seeds = values.seeds.split(',').map(Number);
const only = values.only;
const kept = only && existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')).runs.filter((r) => r.engine !== only) : [];
const runs = [];
for (const seed of seeds) {
  const dir = join(work, `engine-${values.name}-${seed}`);
  rmSync(dir, { recursive: true, force: true });
  const engineArgs = [
    resolve('dist/cli.cjs'),
    '--backend',
    'wasm',
    'train',
    '--arch',
    'cnn',
    '--data',
    values.data,
    ...limits,
    '--epochs',
    values.epochs,
    '--seed',
    String(seed),
    '--eval-every',
    String(every),
    '--out',
    dir,
    '--json',
  ];
  const torchArgs = [
    resolve('bench', 'parity', 'torch_train.py'),
    '--data',
    values.data,
    ...limits,
    '--epochs',
    values.epochs,
    '--seed',
    String(seed),
    '--eval-every',
    String(every),
  ];
  console.error(`seed ${seed}: engine and PyTorch side by side (${total} iterations, test accuracy every ${every})`);
  const [engine, torch] = await Promise.all([
    only === 'pytorch' ? undefined : run(process.execPath, engineArgs),
    only === 'ownership-audit' ? undefined : run('/usr/bin/python3', torchArgs),
  ]);
  rmSync(dir, { recursive: true, force: true });
  if (engine)
    runs.push({
      engine: 'ownership-audit',
      backend: engine.backend,
      seed,
      testAccuracy: engine.testAccuracy,
      trainSeconds: engine.trainSeconds,
      curve: engine.curve,
    });
  if (torch)
    runs.push({
      engine: 'pytorch',
      torchVersion: torch.torchVersion,
      seed,
      testAccuracy: torch.testAccuracy,
      trainSeconds: torch.trainSeconds,
      curve: torch.curve,
    });
  runs.push(...kept.filter((r) => r.seed === seed));
  const acc = (name) => runs.find((r) => r.engine === name && r.seed === seed)?.testAccuracy;
  console.error(
    `  engine ${(100 * acc('ownership-audit')).toFixed(2)}%   pytorch ${(100 * acc('pytorch')).toFixed(2)}%`,
  );
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const meanCurve = (engine) => {
  const mine = runs.filter((r) => r.engine === engine);
  return mine[0].curve.map((p, i) => ({
    iteration: p.iteration,
    epoch: p.epoch,
    testAccuracy: mean(mine.map((r) => r.curve[i].testAccuracy)),
  }));
};
const summary = {
  engineMean: mean(runs.filter((r) => r.engine === 'ownership-audit').map((r) => r.testAccuracy)),
  pytorchMean: mean(runs.filter((r) => r.engine === 'pytorch').map((r) => r.testAccuracy)),
};
summary.gapPoints = 100 * (summary.pytorchMean - summary.engineMean);
const doc = {
  measuredAt: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
  recipe: {
    arch: 'cnn',
    width: 32,
    hidden: 128,
    optimizer: 'sgd',
    learningRate: 0.05,
    momentum: 0.9,
    weightDecay: 5e-4,
    schedule: 'cosine',
    batch: 128,
    epochs: Number(values.epochs),
  },
  data: { name: values.name, path: values.data, trainCount, testCount },
  seeds,
  summary,
  meanCurves: { engine: meanCurve('ownership-audit'), pytorch: meanCurve('pytorch') },
  runs,
};
writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
console.log(
  `${values.name}: engine ${(100 * summary.engineMean).toFixed(2)}%  PyTorch ${(100 * summary.pytorchMean).toFixed(2)}%  gap ${summary.gapPoints.toFixed(2)} points (mean of ${seeds.length} seeds); wrote ${out}`,
);
