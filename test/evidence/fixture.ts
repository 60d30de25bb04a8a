/**
 * A small audited world for the evidence tests: a 3-class 12x12 data set, a victim, an
 * independent model, a fine-tuned copy of the victim, and a 3-reference calibration of all
 * four defences, made with the CLI as a user would (about 15 s on 2 cores).
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { bandsIdx } from '../cli/bands';
import { runCli } from '../cli/run-cli';
import { makeTempDir, writeIdx } from '../engine/datasets/fixtures';

export interface EvidenceWorld {
  dir: string;
  data: string;
  victim: string;
  /** Trained from another seed: not derived. */
  other: string;
  /** The victim fine-tuned briefly: derived. */
  finetuned: string;
  calibration: string;
  cleanup: () => void;
}

const ARCH = ['--blocks', '2', '--width', '8', '--hidden', '16', '--batch', '32'];
export const SMALL_DEFENSES = [
  '--param',
  'deepjudge.seeds=12',
  '--param',
  'deepjudge.fuzzSteps=5',
  '--param',
  'modeldiff.seeds=12',
  '--param',
  'ipguard.fingerprints=12',
  '--param',
  'ipguard.steps=20',
  '--param',
  'zest.references=2',
  '--param',
  'zest.masks=16',
];

function ok(args: string[]): Record<string, unknown> {
  const r = runCli([...args, '--json']);
  expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.json;
}

export function makeEvidenceWorld(prefix: string): EvidenceWorld {
  const tmp = makeTempDir(prefix);
  const data = join(tmp.dir, 'bands');
  writeIdx(data, bandsIdx(240, 1), bandsIdx(60, 2), true);
  const w: EvidenceWorld = {
    dir: tmp.dir,
    data,
    victim: join(tmp.dir, 'victim'),
    other: join(tmp.dir, 'other'),
    finetuned: join(tmp.dir, 'finetuned'),
    calibration: join(tmp.dir, 'cal', 'cal.json'),
    cleanup: tmp.cleanup,
  };
  ok(['train', '--data', data, ...ARCH, '--iterations', '40', '--seed', '1', '--out', w.victim]);
  ok(['train', '--data', data, ...ARCH, '--iterations', '40', '--seed', '777', '--out', w.other]);
  ok([
    'attack',
    '--name',
    'finetune',
    '--victim',
    w.victim,
    '--substitute',
    data,
    '--iterations',
    '5',
    '--batch',
    '32',
    '--seed',
    '3',
    '--out',
    w.finetuned,
  ]);
  ok([
    'calibrate',
    '--victim',
    w.victim,
    '--data',
    data,
    '--references',
    '3',
    '--out',
    w.calibration,
    ...SMALL_DEFENSES,
  ]);
  return w;
}
