/**
 * The shared-mistakes baseline (mistakes.agreement) through the CLI, as a user would run it:
 * opt-in with `calibrate --defenses ...,mistakes`, it gets a tau from the references, a flag
 * and its own per-defence verdict in `verify --json`, but the combined verdict counts only
 * the six published metrics; a default calibration leaves it out. The evidence bundle of a
 * calibration with it checks in both implementations (TypeScript, and Python when numpy is
 * there).
 *
 * The bands of test/cli/bands.ts are too easy for the victim to make mistakes, so half the
 * test images here show two bright bands (labelled by the first): which one a model picks is
 * its own quirk, the kind of mistake a copy inherits and an independent model need not share.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bandsIdx } from '../cli/bands';
import { runCli } from '../cli/run-cli';
import { makeTempDir, writeIdx, type IdxSplit } from '../engine/datasets/fixtures';
import { SMALL_DEFENSES } from './fixture';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ARCH = ['--blocks', '2', '--width', '8', '--hidden', '16', '--batch', '32'];
const WITH_MISTAKES = 'deepjudge,zest,modeldiff,ipguard,mistakes';
const PYTHON = '/usr/bin/python3';
const HAS_NUMPY = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/**
 * 3-class 12x12 test images; every second one has a second band (label: the first), and both
 * bands are lit on a random 7 of the 12 columns, so which wins depends on how a model weighs
 * the columns: a quirk of its own weights.
 */
function ambiguousBands(count: number, seed: number): IdxSplit {
  const h = 12;
  const w = 12;
  const pixels: number[] = [];
  const labels: number[] = [];
  let s = seed;
  const next = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31);
  const someColumns = (): Set<number> => {
    const cols = [...Array(w).keys()];
    for (let i = w - 1; i > 0; i--) {
      const j = next() % (i + 1);
      [cols[i], cols[j]] = [cols[j], cols[i]];
    }
    return new Set(cols.slice(0, 7));
  };
  for (let n = 0; n < count; n++) {
    const k = n % 3;
    const second = n % 2 === 1 ? (k + 1 + (Math.floor(n / 2) % 2)) % 3 : -1;
    const all = new Set([...Array(w).keys()]);
    const lit = second < 0 ? [all, all] : [someColumns(), someColumns()];
    labels.push(k);
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        const noise = (next() % 60) - 30;
        const band = Math.floor(r / 4);
        const on = (band === k && lit[0].has(c)) || (band === second && lit[1].has(c));
        pixels.push(Math.max(0, Math.min(255, (on ? 200 : 40) + noise)));
      }
  }
  return { pixels, labels, h, w };
}

function ok(args: string[]): Json {
  const r = runCli([...args, '--json']);
  expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.json;
}

describe('the mistakes baseline through the CLI', () => {
  const tmp = makeTempDir('oa-mistakes-');
  const data = join(tmp.dir, 'bands');
  const victim = join(tmp.dir, 'victim');
  const other = join(tmp.dir, 'other');
  const finetuned = join(tmp.dir, 'finetuned');
  const cal = join(tmp.dir, 'cal', 'cal.json');
  const verified: Record<string, Json> = {};

  beforeAll(() => {
    writeIdx(data, bandsIdx(240, 1), ambiguousBands(60, 2), true);
    ok(['train', '--data', data, ...ARCH, '--iterations', '40', '--seed', '1', '--out', victim]);
    ok(['train', '--data', data, ...ARCH, '--iterations', '40', '--seed', '777', '--out', other]);
    ok([
      'attack',
      '--name',
      'finetune',
      '--victim',
      victim,
      '--substitute',
      data,
      '--iterations',
      '5',
      '--batch',
      '32',
      '--seed',
      '3',
      '--out',
      finetuned,
    ]);
    ok([
      'calibrate',
      '--victim',
      victim,
      '--data',
      data,
      '--references',
      '3',
      '--defenses',
      WITH_MISTAKES,
      '--out',
      cal,
      ...SMALL_DEFENSES,
    ]);
    for (const [name, suspect] of [
      ['victim', victim],
      ['finetuned', finetuned],
      ['other', other],
    ]) {
      const evidence = name === 'victim' ? [] : ['--evidence', join(tmp.dir, `bundle-${name}`)];
      verified[name] = ok([
        'verify',
        '--victim',
        victim,
        '--suspect',
        suspect,
        '--data',
        data,
        '--calibration',
        cal,
        ...evidence,
      ]);
    }
  });
  afterAll(() => tmp.cleanup());

  it('calibrates mistakes.agreement from the references like the other metrics', () => {
    const doc = JSON.parse(readFileSync(cal, 'utf8')) as Json;
    expect((doc.defenses as Json[]).map((d) => d.id)).toEqual(WITH_MISTAKES.split(','));
    const m = (doc.metrics as Json[]).find((x) => x.id === 'mistakes.agreement') as Json;
    expect(m).toMatchObject({ kind: 'similarity', rule: { name: 'paper' } });
    expect(m.values).toHaveLength(3);
    expect(typeof m.tau).toBe('number');
    console.info(`mistakes.agreement references: ${m.values.join(', ')}; tau ${m.tau}`);
  });

  it.each(['victim', 'finetuned', 'other'])(
    '%s: mistakes.agreement has a tau and a flag, its own verdict, and no say in the combined one',
    (name) => {
      const r = verified[name];
      const metrics = r.metrics as Json[];
      const m = metrics.find((x) => x.id === 'mistakes.agreement') as Json;
      expect(m).toMatchObject({ kind: 'similarity', votes: true, combined: false, applicable: true });
      expect(typeof m.tau).toBe('number');
      expect(m.flagged).toBe(m.value > m.tau);
      // Every other metric is as before: no `combined` field.
      expect(metrics.filter((x) => 'combined' in x).map((x) => x.id)).toEqual(['mistakes.agreement']);
      const six = metrics.filter(
        (x) => x.votes && x.combined !== false && x.applicable && !x.degenerate && x.tau !== undefined,
      );
      expect(six.length).toBeLessThanOrEqual(6);
      expect(r.verdict.of).toBe(six.length);
      expect(r.verdict.votes).toBe(six.filter((x) => x.flagged).length);
      const own = (r.defenses as Json[]).find((d) => d.id === 'mistakes');
      expect(own).toMatchObject({
        id: 'mistakes',
        status: m.flagged ? 'recognised' : 'not-recognised',
        votes: m.flagged ? 1 : 0,
        of: 1,
      });
      // Beside it, how many of the 3 references it would accuse by leave-one-out.
      expect(own?.falseClaims.of + own?.falseClaims.notJudged).toBe(3);
      console.info(
        `mistakes.agreement ${name}: ${m.value} (tau ${m.tau}, ${m.flagged ? 'flagged' : 'not flagged'}); combined verdict ${r.verdict.votes}/${r.verdict.of}`,
      );
    },
  );

  it('the victim and its fine-tuned copy repeat its mistakes, the independent model does not', () => {
    const value = (name: string): number =>
      (verified[name].metrics as Json[]).find((x) => x.id === 'mistakes.agreement')?.value as number;
    const status = (name: string): string =>
      (verified[name].defenses as Json[]).find((d) => d.id === 'mistakes')?.status as string;
    expect(value('victim')).toBe(1);
    expect(value('finetuned')).toBeGreaterThan(value('other'));
    // Seeded training on the wasm backend: the same figures on every run (finetuned 1, other 0.23, tau 0.92).
    expect([status('finetuned'), status('other')]).toEqual(['recognised', 'not-recognised']);
  });

  it.each(['finetuned', 'other'])('the %s bundle checks, in TypeScript and in Python', (name) => {
    const dir = join(tmp.dir, `bundle-${name}`);
    const c = ok(['evidence', 'check', dir]);
    const mine = (c.metrics as Json[]).find((x) => x.id === 'mistakes.agreement');
    const stated = (verified[name].metrics as Json[]).find((x) => x.id === 'mistakes.agreement');
    expect(mine).toMatchObject({ value: stated?.value, tau: stated?.tau, combined: false });
    expect(c.verdict).toEqual(verified[name].verdict);
    if (!HAS_NUMPY) return void console.warn('mistakes-cli: Python check skipped (no numpy)');
    const py = spawnSync(PYTHON, [resolve('scripts/python/evidence_check.py'), dir, '--json'], { encoding: 'utf8' });
    expect(py.status, `${py.stdout}\n${py.stderr}`).toBe(0);
    const out = JSON.parse(py.stdout.trim().split('\n').pop() as string) as Json;
    const pm = (out.metrics as Json[]).find((x) => x.id === 'mistakes.agreement');
    expect(pm).toMatchObject({ combined: false, flagged: stated?.flagged });
    expect(pm?.value).toBeCloseTo(stated?.value as number, 9);
    expect(pm?.tau).toBeCloseTo(stated?.tau as number, 9);
    expect(out.verdict).toMatchObject({
      derived: verified[name].verdict.derived,
      votes: verified[name].verdict.votes,
      of: verified[name].verdict.of,
      insufficientEvidence: verified[name].verdict.insufficientEvidence,
    });
  });

  it('a default calibration leaves it out', () => {
    const plain = join(tmp.dir, 'cal-default', 'cal.json');
    ok(['calibrate', '--victim', victim, '--data', data, '--references', '2', '--out', plain, ...SMALL_DEFENSES]);
    const r = ok(['verify', '--victim', victim, '--suspect', other, '--data', data, '--calibration', plain]);
    expect((r.metrics as Json[]).map((m) => m.id)).not.toContain('mistakes.agreement');
    expect((r.defenses as Json[]).map((d) => d.id)).toEqual(['deepjudge', 'zest', 'modeldiff', 'ipguard']);
  });
});
