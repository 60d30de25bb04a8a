#!/usr/bin/env node
// Does the engine learn like PyTorch with "the same recipe"? Trains the default `cnn`
// (width 32, SGD lr 0.05 momentum 0.9, weight decay 5e-4, cosine, batch 128) on a
// class-balanced prefix of Fashion-MNIST with the engine's CLI (wasm backend) and with
// PyTorch (bench/parity/torch_train.py, same data handling and architecture), one seed each,
// and records test accuracy and the train loss/accuracy windows of every run.
//
// --cli takes one or more bundled CLIs as label=path, e.g. to compare the engine before and
// after a change: --cli before=/tmp/before/dist/cli.cjs,after=dist/cli.cjs
// Usage: node bench/parity/learning.mjs [--epochs 2] [--max-train 8000] [--max-test 2000]
//        [--seed 7] [--cli after=dist/cli.cjs] [--torch-init torch,he-all] [--out FILE]
// Runs one process at a time (the machine has two cores).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { lastJsonLine, runProcess } from './run-process.mjs';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '2' },
    'max-train': { type: 'string', default: '8000' },
    'max-test': { type: 'string', default: '2000' },
    seed: { type: 'string', default: '7' },
    cli: { type: 'string', default: 'after=dist/cli.cjs' },
    'torch-init': { type: 'string', default: 'torch' },
    data: { type: 'string', default: resolve('..', 'shared', 'datasets', 'fashion-mnist') },
    out: { type: 'string', default: join('bench', 'results', 'parity-learning.json') },
  },
});
if (!existsSync(values.data)) {
  console.error(`Fashion-MNIST not found at ${values.data}; pass --data DIR.`);
  process.exit(2);
}
const work = resolve('tmp', 'parity-learning');
mkdirSync(work, { recursive: true });

const run = (cmd, args) => runProcess(cmd, args, { echo: true });

const runs = [];
for (const spec of values.cli.split(',')) {
  const [label, cli] = spec.includes('=') ? spec.split('=') : ['engine', spec];
  const outDir = join(work, `engine-${label}`);
  rmSync(outDir, { recursive: true, force: true });
  const args = [
    resolve(cli),
    '--backend',
    'wasm',
    'train',
    '--arch',
    'cnn',
    '--data',
    values.data,
    '--max-train',
    values['max-train'],
    '--max-test',
    values['max-test'],
    '--epochs',
    values.epochs,
    '--seed',
    values.seed,
    '--out',
    outDir,
    '--json',
  ];
  console.error(`engine (${label}): node ${args.join(' ')}`);
  const [out, err] = await run(process.execPath, args);
  const result = lastJsonLine(out);
  const windows = [...err.matchAll(/iter (\d+)\/\d+\s+loss ([\d.]+)\s+acc ([\d.]+)%/g)].map((m) => ({
    iteration: Number(m[1]),
    loss: Number(m[2]),
    accuracy: Number(m[3]) / 100,
  }));
  runs.push({
    engine: `ownership-audit (${label})`,
    backend: result.backend,
    seed: result.seed,
    iterations: result.iterations,
    testAccuracy: result.testAccuracy,
    trainSeconds: result.trainSeconds,
    windows,
  });
  rmSync(outDir, { recursive: true, force: true });
}
for (const init of values['torch-init'].split(',').filter(Boolean)) {
  const args = [
    resolve('bench', 'parity', 'torch_train.py'),
    '--data',
    values.data,
    '--max-train',
    values['max-train'],
    '--max-test',
    values['max-test'],
    '--epochs',
    values.epochs,
    '--seed',
    values.seed,
    '--init',
    init,
  ];
  console.error(`pytorch (${init}): /usr/bin/python3 ${args.join(' ')}`);
  const [out] = await run('/usr/bin/python3', args);
  runs.push(lastJsonLine(out));
}

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
  data: { path: values.data, maxTrain: Number(values['max-train']), maxTest: Number(values['max-test']) },
  runs,
};
mkdirSync(resolve(values.out, '..'), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(doc, null, 2)}\n`);
for (const r of runs) {
  const w = (i) => r.windows.find((x) => x.iteration === i);
  const fmt = (x) => (x ? `loss ${x.loss.toFixed(3)} acc ${(100 * x.accuracy).toFixed(1)}%` : '-');
  console.log(
    `${(r.engine + (r.init ? ` (${r.init} init)` : '')).padEnd(32)} test ${(100 * r.testAccuracy).toFixed(2)}%   iter 10: ${fmt(w(10))}   iter 60: ${fmt(w(60))}   ${r.trainSeconds.toFixed(0)} s`,
  );
}
console.log(`wrote ${values.out}`);
