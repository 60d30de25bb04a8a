#!/usr/bin/env node
// RemovalNet settings on the demo victim (S_LTD 10%, 1000 iterations, seed 1 unless named), each verified
// against one calibration (K=5, the paper rule): where the attack works (block) and how hard
// the feature term pulls (beta, channel shuffle). Writes bench/results/removalnet-variants.json.
//   node bench/removalnet-variants.mjs --calibration tmp/audit-demo/calibration.json [--work tmp/exp4] [--reuse]
// --reuse collects surrogates already in the work folder (same names) instead of retraining.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    calibration: { type: 'string' },
    work: { type: 'string', default: 'tmp/exp4' },
    reuse: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/removalnet-variants.json' },
  },
});
if (!values.calibration)
  throw new Error('--calibration FILE is required (ownership-audit calibrate --references 5 on the demo victim)');
const V = 'resources/models/demo-victim';
const D = 'resources/datasets/fashion-mnist-demo';
const variants = [
  {
    name: 'rn-b3-1',
    settings: "block3, the paper's latent search (victim's latent, small noise), beta 2, shuffle 0.1",
    args: ['--param', 'latentModel=victim', '--param', 'latentInit=noise', '--block', 'block3'],
  },
  {
    name: 'b3-sh05',
    settings: "block3, paper's latent search, beta 2, shuffle 0.5",
    args: [
      '--param',
      'latentModel=victim',
      '--param',
      'latentInit=noise',
      '--block',
      'block3',
      '--param',
      'shuffleRatio=0.5',
    ],
  },
  {
    name: 'b3-sh10',
    settings: "block3, paper's latent search, beta 2, shuffle 1.0",
    args: [
      '--param',
      'latentModel=victim',
      '--param',
      'latentInit=noise',
      '--block',
      'block3',
      '--param',
      'shuffleRatio=1.0',
    ],
  },
  {
    name: 'b3-sh05-b10',
    settings: "block3, paper's latent search, beta 10, shuffle 0.5",
    args: [
      '--param',
      'latentModel=victim',
      '--param',
      'latentInit=noise',
      '--block',
      'block3',
      '--param',
      'shuffleRatio=0.5',
      '--param',
      'beta=10',
    ],
  },
  {
    name: 'b3-sh05-b20',
    settings: "block3, paper's latent search, beta 20, shuffle 0.5",
    args: [
      '--param',
      'latentModel=victim',
      '--param',
      'latentInit=noise',
      '--block',
      'block3',
      '--param',
      'shuffleRatio=0.5',
      '--param',
      'beta=20',
    ],
  },
  {
    name: 'b3-code',
    settings: "block3, the authors' latent search (surrogate's latent, z + tan(U) start), beta 2, shuffle 0.1",
    args: ['--block', 'block3', '--param', 'latentModel=surrogate', '--param', 'latentInit=code'],
  },
  {
    name: 'b3-code-b1',
    settings: "block3, the authors' latent search, beta 1, shuffle 0.1",
    args: ['--block', 'block3', '--param', 'latentModel=surrogate', '--param', 'latentInit=code', '--param', 'beta=1'],
  },
  {
    name: 'b3-code-b1-s2',
    seed: 2,
    settings: 'as b3-code-b1, seed 2',
    args: ['--block', 'block3', '--param', 'latentModel=surrogate', '--param', 'latentInit=code', '--param', 'beta=1'],
  },
  {
    name: 'b3-code-b1-s3',
    seed: 3,
    settings: 'as b3-code-b1, seed 3',
    args: ['--block', 'block3', '--param', 'latentModel=surrogate', '--param', 'latentInit=code', '--param', 'beta=1'],
  },
];
const cli = (args) => {
  const r = spawnSync(process.execPath, ['dist/cli.cjs', ...args, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.slice(0, 2).join(' ')} failed: ${r.stdout}${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
};
const rows = [];
for (const v of variants) {
  const out = join(values.work, v.name);
  const attackFile = `${out}.json`;
  const verifyFile = `${out}.verify.json`;
  const attack =
    values.reuse && existsSync(attackFile)
      ? JSON.parse(readFileSync(attackFile, 'utf8'))
      : cli([
          'attack',
          '--name',
          'removalnet',
          '--victim',
          V,
          '--substitute',
          D,
          '--fraction',
          '0.1',
          '--iterations',
          '1000',
          '--seed',
          String(v.seed ?? 1),
          '--out',
          out,
          ...v.args,
        ]);
  const verify =
    values.reuse && existsSync(verifyFile)
      ? JSON.parse(readFileSync(verifyFile, 'utf8'))
      : cli(['verify', '--victim', V, '--suspect', out, '--data', D, '--calibration', values.calibration]);
  rows.push({
    variant: v.name,
    settings: v.settings,
    seed: v.seed ?? 1,
    command: `ownership-audit attack --name removalnet --fraction 0.1 --iterations 1000 --seed ${v.seed ?? 1} ${v.args.join(' ')}`,
    seconds: attack.compute.seconds,
    accuracy: attack.fidelity.accuracy,
    drop: attack.fidelity.victimAccuracy - attack.fidelity.accuracy,
    metrics: Object.fromEntries(
      verify.metrics
        .filter((m) => !m.id.startsWith('fidelity.'))
        .map((m) => [m.id, { value: m.value, tau: m.tau, flagged: m.flagged }]),
    ),
    verdict: verify.verdict,
  });
  console.log(
    `${v.name.padEnd(12)} acc ${(100 * attack.fidelity.accuracy).toFixed(2)}  ${rows.at(-1).metrics['deepjudge.lod'].value.toFixed(2)} LOD  derived ${verify.verdict.derived} (${verify.verdict.votes}/${verify.verdict.of})`,
  );
}
writeFileSync(
  values.out,
  `${JSON.stringify({ machine: { cpu: cpus()[0]?.model, cores: cpus().length }, victim: V, substitute: 'S_LTD 10% of the demo training split', calibration: values.calibration, measuredAt: new Date().toISOString(), reusedEarlierSurrogates: values.reuse, rows }, null, 2)}\n`,
);
