/**
 * A small audited world for the evidence tests: a 3-class 12x12 data set, a victim, an
 * independent model, a fine-tuned copy of the victim, and a 3-reference calibration of all
 * four defences, made with the CLI as a user would (about 15 s on 2 cores).
 *
 * The world is built once and shared by every test file that asks for it (they run in
 * parallel forks): it lives in the temp folder under a name derived from the bundled CLI's
 * bytes, so a rebuilt CLI gets a fresh world, and the first fork to arrive builds it under
 * a lock while the others wait. Tests treat it as read-only and write into `dir`, a temp
 * folder of their own.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { bandsIdx } from '../cli/bands';
import { CLI, runCli } from '../cli/run-cli';
import { makeTempDir, writeIdx } from '../engine/datasets/fixtures';
import { processAlive } from '../../src-main/engine/process-alive';
import { STEP_CEILING_MS } from '../helpers/ceilings';

export interface EvidenceWorld {
  /** A fresh temp folder of the caller's own, for its outputs. */
  dir: string;
  data: string;
  victim: string;
  /** Trained from another seed: not derived. */
  other: string;
  /** The victim fine-tuned briefly: derived. */
  finetuned: string;
  /** `<world>/cal/cal.json`, with its .fingerprints and .references beside it. */
  calibration: string;
  /** Removes `dir` (the shared world stays for the other files). */
  cleanup: () => void;
}

/** Bump when what the world holds changes. */
const WORLD_VERSION = 1;
const PREFIX = 'oa-evidence-world-';

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

function build(root: string): void {
  const data = join(root, 'bands');
  writeIdx(data, bandsIdx(240, 1), bandsIdx(60, 2), true);
  ok(['train', '--data', data, ...ARCH, '--iterations', '40', '--seed', '1', '--out', join(root, 'victim')]);
  ok(['train', '--data', data, ...ARCH, '--iterations', '40', '--seed', '777', '--out', join(root, 'other')]);
  ok([
    'attack',
    '--name',
    'finetune',
    '--victim',
    join(root, 'victim'),
    '--substitute',
    data,
    '--iterations',
    '5',
    '--batch',
    '32',
    '--seed',
    '3',
    '--out',
    join(root, 'finetuned'),
  ]);
  ok([
    'calibrate',
    '--victim',
    join(root, 'victim'),
    '--data',
    data,
    '--references',
    '3',
    '--out',
    join(root, 'cal', 'cal.json'),
    ...SMALL_DEFENSES,
  ]);
}

/** Blocks this fork: the world is needed by a synchronous beforeAll. */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Worlds of older CLI builds, a day old or more, are removed. */
function pruneOld(keep: string): void {
  for (const name of readdirSync(tmpdir())) {
    const p = join(tmpdir(), name);
    if (!name.startsWith(PREFIX) || p === keep) continue;
    try {
      if (Date.now() - statSync(p).mtimeMs > 86_400_000) rmSync(p, { recursive: true, force: true });
    } catch {
      // another process removed it first
    }
  }
}

function sharedWorldRoot(): string {
  const key = createHash('sha256').update(readFileSync(CLI)).update(String(WORLD_VERSION)).digest('hex').slice(0, 16);
  const root = join(tmpdir(), `${PREFIX}${key}`);
  const ready = join(root, 'READY');
  const lock = `${root}.lock`;
  const deadline = Date.now() + STEP_CEILING_MS;
  while (!existsSync(ready)) {
    try {
      mkdirSync(lock); // atomic: exactly one fork builds
    } catch {
      // Someone else builds; take over when it died.
      let owner = 0;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8').trim() || 0);
      } catch {
        // the builder has not written its pid yet
      }
      if (owner && !processAlive(owner)) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`waited too long for the shared evidence world (${root})`);
      else sleep(250);
      continue;
    }
    try {
      writeFileSync(join(lock, 'pid'), String(process.pid));
      const staging = `${root}.building-${process.pid}`;
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
      build(staging);
      rmSync(root, { recursive: true, force: true });
      renameSync(staging, root);
      writeFileSync(ready, new Date().toISOString());
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  pruneOld(root);
  return root;
}

export function makeEvidenceWorld(prefix: string): EvidenceWorld {
  const root = sharedWorldRoot();
  const own = makeTempDir(prefix);
  return {
    dir: own.dir,
    data: join(root, 'bands'),
    victim: join(root, 'victim'),
    other: join(root, 'other'),
    finetuned: join(root, 'finetuned'),
    calibration: join(root, 'cal', 'cal.json'),
    cleanup: own.cleanup,
  };
}
