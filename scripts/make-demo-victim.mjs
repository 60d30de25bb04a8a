#!/usr/bin/env node
// Trains the committed demo victim (resources/models/demo-victim) from the embedded demo
// data with a fixed seed on the wasm backend: the same command gives the same weights.
// Usage: node scripts/make-demo-victim.mjs   (after npm install; about 4 minutes on 2 cores)
import { execFileSync } from 'node:child_process';

const out = execFileSync(
  process.execPath,
  [
    'dist/cli.cjs',
    '--backend',
    'wasm',
    'train',
    '--demo',
    '--seed',
    '1',
    '--out',
    'resources/models/demo-victim',
    '--checkpoint-every',
    '100000',
    '--json',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
);
const result = JSON.parse(out.trim().split('\n').pop());
console.log(
  `demo victim: test accuracy ${(100 * result.testAccuracy).toFixed(2)}% on the demo test split, ${result.trainSeconds.toFixed(0)} s`,
);
