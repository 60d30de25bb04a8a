#!/usr/bin/env node
// The acceptance experiment of the verification and attack issues, on the demo victim:
//   1. calibrate K reference models (victim recipe, seeds 10000+i, +-10% lr/iterations);
//   2. a further independently trained model (attack "negative", seed outside the range);
//   3. FT(0.5) and RemovalNet on S_LTD = 10% of the demo training split, over 3 seeds;
//   4. verify every suspect against the calibration; write bench/results/audit-demo.json.
// Jobs run `--parallel` at a time (one wasm thread each). Usage:
//   node bench/audit-demo.mjs [--references 5] [--seeds 1,2,3] [--ft-iterations 1000] [--rn-iterations 1000]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    references: { type: 'string', default: '5' },
    seeds: { type: 'string', default: '1,2,3' },
    'ft-iterations': { type: 'string', default: '1000' },
    'rn-iterations': { type: 'string', default: '1000' },
    parallel: { type: 'string', default: '2' },
    work: { type: 'string', default: resolve('tmp', 'audit-demo') },
    out: { type: 'string', default: join('bench', 'results', 'audit-demo.json') },
  },
});
const victim = resolve('resources/models/demo-victim');
const data = resolve('resources/datasets/fashion-mnist-demo');
const work = values.work;
mkdirSync(work, { recursive: true });
const seeds = values.seeds.split(',').map(Number);
const started = Date.now();

function cli(args) {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['dist/cli.cjs', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0) res(JSON.parse(last));
      else rej(new Error(`${args.slice(0, 2).join(' ')} exited ${code}: ${last}\n${err.slice(-2000)}`));
    });
  });
}

async function pool(jobs, width) {
  const results = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        const t = Date.now();
        results[i] = await jobs[i].run();
        console.error(`done ${jobs[i].name} in ${((Date.now() - t) / 1000).toFixed(0)} s`);
      }
    }),
  );
  return results;
}

const parallel = Number(values.parallel);
const calibration = join(work, 'calibration.json');
const attackJobs = [
  {
    name: 'negative',
    run: () =>
      cli([
        'attack',
        '--name',
        'negative',
        '--victim',
        victim,
        '--substitute',
        data,
        '--param',
        'seed=777',
        '--iterations',
        '1248',
        '--seed',
        '777',
        '--out',
        join(work, 'negative'),
      ]),
  },
  ...seeds.flatMap((s) => [
    {
      name: `ft-${s}`,
      run: () =>
        cli([
          'attack',
          '--name',
          'finetune',
          '--victim',
          victim,
          '--substitute',
          data,
          '--fraction',
          '0.1',
          '--param',
          'ratio=0.5',
          '--iterations',
          values['ft-iterations'],
          '--seed',
          String(s),
          '--out',
          join(work, `ft-${s}`),
        ]),
    },
    {
      name: `removalnet-${s}`,
      run: () =>
        cli([
          'attack',
          '--name',
          'removalnet',
          '--victim',
          victim,
          '--substitute',
          data,
          '--fraction',
          '0.1',
          '--iterations',
          values['rn-iterations'],
          '--seed',
          String(s),
          '--out',
          join(work, `removalnet-${s}`),
        ]),
    },
  ]),
];

// Calibration first (it trains its references in `parallel` worker processes), then the attacks.
const t0 = Date.now();
const cal = await cli([
  'calibrate',
  '--victim',
  victim,
  '--data',
  data,
  '--references',
  values.references,
  '--workers',
  String(parallel),
  '--out',
  calibration,
]);
const calibrationSeconds = (Date.now() - t0) / 1000;
console.error(`calibrated in ${calibrationSeconds.toFixed(0)} s`);
const attacks = await pool(attackJobs, parallel);

const suspects = [];
for (let i = 0; i < attackJobs.length; i++) {
  const a = attacks[i];
  const v = await cli([
    'verify',
    '--victim',
    victim,
    '--suspect',
    a.model,
    '--data',
    data,
    '--calibration',
    calibration,
  ]);
  suspects.push({
    name: attackJobs[i].name,
    attack: a.attack,
    fidelity: a.fidelity,
    compute: a.compute,
    metrics: v.metrics,
    verdict: v.verdict,
  });
}

function row(prefix) {
  const group = suspects.filter((s) => s.name === prefix || s.name.startsWith(`${prefix}-`));
  const ids = cal.metrics.map((m) => m.id);
  const stats = Object.fromEntries(
    ids.map((id) => {
      const vals = group.map((s) => s.metrics.find((m) => m.id === id).value);
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      const std = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, vals.length - 1));
      const flagged = group.filter((s) => s.metrics.find((m) => m.id === id).flagged).length;
      return [id, { mean, std, tau: cal.metrics.find((m) => m.id === id).tau, flagged }];
    }),
  );
  const acc = group.map((s) => s.fidelity.accuracy);
  const derived = group.filter((s) => s.verdict.derived).length;
  return {
    attack: prefix,
    suspects: group.length,
    accuracy: acc.reduce((a, b) => a + b, 0) / acc.length,
    drop: group[0].fidelity.victimAccuracy - acc.reduce((a, b) => a + b, 0) / acc.length,
    seconds: group.reduce((a, s) => a + s.compute.seconds, 0) / group.length,
    metrics: stats,
    ownership: `${derived * 2 > group.length ? 'Yes' : 'No'} (${derived}/${group.length})`,
  };
}

const result = {
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, parallelJobs: parallel },
  measuredAt: new Date().toISOString(),
  wallSeconds: (Date.now() - started) / 1000,
  calibration: { seconds: calibrationSeconds, references: cal.references, metrics: cal.metrics },
  rows: ['ft', 'removalnet', 'negative'].map(row),
  suspects,
};
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
for (const r of result.rows) {
  console.log(
    `${r.attack.padEnd(11)} acc ${(100 * r.accuracy).toFixed(2)} (drop ${(100 * r.drop).toFixed(2)})  ${Object.entries(
      r.metrics,
    )
      .map(([id, m]) => `${id} ${m.mean.toPrecision(3)}`)
      .join('  ')}  ${r.ownership}`,
  );
}
console.log(
  `tau: ${cal.metrics.map((m) => `${m.id} ${m.tau.toPrecision(3)}${m.degenerate ? '(degenerate)' : ''}`).join('  ')}`,
);
