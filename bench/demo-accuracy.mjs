#!/usr/bin/env node
// Accuracy benchmark of the demo recipe: trains the default `cnn` on the FULL Fashion-MNIST
// training split (../shared/datasets/fashion-mnist) with three seeds, two at a time (the
// wasm backend is single-threaded), and records test accuracy and training time per seed.
// Target: median test accuracy >= 89% with at most 5 minutes of training per model.
// Usage: node bench/demo-accuracy.mjs [--epochs 2] [--seeds 1,2,3] [--parallel 2]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    width: { type: 'string', default: '16' },
    seeds: { type: 'string', default: '1,2,3' },
    parallel: { type: 'string', default: '2' },
    lr: { type: 'string', default: '0.05' },
    data: { type: 'string', default: resolve('..', 'shared', 'datasets', 'fashion-mnist') },
    out: { type: 'string', default: join('bench', 'results', 'demo-cnn-accuracy.json') },
  },
});
if (!existsSync(values.data)) {
  console.error(`Full Fashion-MNIST not found at ${values.data}; pass --data DIR.`);
  process.exit(2);
}
const seeds = values.seeds.split(',').map(Number);
const work = resolve('tmp', 'demo-accuracy');
mkdirSync(work, { recursive: true });

function trainOne(seed) {
  return new Promise((resolvePromise, reject) => {
    const args = [
      'dist/cli.cjs',
      'train',
      '--arch',
      'cnn',
      '--data',
      values.data,
      '--width',
      values.width,
      '--epochs',
      values.epochs,
      '--lr',
      values.lr,
      '--seed',
      String(seed),
      '--out',
      join(work, `seed${seed}`),
      '--json',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0
        ? resolvePromise(JSON.parse(out.trim().split('\n').pop()))
        : reject(new Error(`seed ${seed} exited ${code}`)),
    );
  });
}

const results = [];
const queue = [...seeds];
await Promise.all(
  Array.from({ length: Number(values.parallel) }, async () => {
    while (queue.length) {
      const seed = queue.shift();
      const r = await trainOne(seed);
      results.push({
        seed,
        testAccuracy: r.testAccuracy,
        trainSeconds: r.trainSeconds,
        trainExamplesPerSec: r.trainExamplesPerSec,
        iterations: r.iterations,
        backend: r.backend,
      });
      console.error(`seed ${seed}: ${(100 * r.testAccuracy).toFixed(2)}% in ${r.trainSeconds.toFixed(0)} s`);
    }
  }),
);
results.sort((a, b) => a.seed - b.seed);
const accs = results.map((r) => r.testAccuracy).sort((a, b) => a - b);
const summary = {
  recipe: {
    arch: 'cnn',
    width: Number(values.width),
    epochs: Number(values.epochs),
    lr: Number(values.lr),
    optimizer: 'sgd momentum 0.9, wd 5e-4',
    schedule: 'cosine',
    batch: 128,
    data: 'Fashion-MNIST full (60k train / 10k test)',
  },
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, parallelRuns: Number(values.parallel) },
  measuredAt: new Date().toISOString(),
  runs: results,
  medianTestAccuracy: accs[Math.floor(accs.length / 2)],
  maxTrainSeconds: Math.max(...results.map((r) => r.trainSeconds)),
  targets: { medianTestAccuracy: 0.89, maxTrainSeconds: 300 },
};
summary.meetsTargets = summary.medianTestAccuracy >= 0.89 && summary.maxTrainSeconds <= 300;
writeFileSync(values.out, `${JSON.stringify(summary, null, 2)}\n`);
rmSync(work, { recursive: true, force: true });
console.log(JSON.stringify(summary));
