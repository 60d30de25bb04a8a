/**
 * Issue 16, the runner's and the CLI's up-front checks: `run` refuses a spec whose paths,
 * blocks or reused calibration are missing before it creates a run or starts a worker; a
 * spec file with a UTF-8 BOM is read; under --json every error (commander's option errors
 * included) is the JSON error with exit 2. Each case leaves the store as it was.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smokeSpec } from '../../src-main/runner/presets';
import type { AuditSpec } from '../../src-shared/audit/spec';
import { expectCleanRefusal, runCase, storeSnapshot, tempHome } from './harness';

const DEMO = {
  demoModel: resolve('resources/models/demo-victim'),
  demoData: resolve('resources/datasets/fashion-mnist-demo'),
};
let t: ReturnType<typeof tempHome>;

/** Writes a smoke spec changed by `edit` into the temp home; returns its path. */
function specFile(name: string, edit: (s: AuditSpec) => AuditSpec, prefix = ''): string {
  const dir = join(t.home, 'specs');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, prefix + JSON.stringify(edit(smokeSpec(DEMO))));
  return file;
}

beforeAll(() => {
  t = tempHome('runner');
  // A store with one calibration-less history, so "intact" compares something real.
  runCase(['runs', 'list'], t.home);
});
afterAll(() => t.dispose());

describe('run checks the whole spec before it starts anything', () => {
  it('a reused calibration that is not stored: SPEC_INVALID naming calibration.reuse, no run created', () => {
    const before = storeSnapshot(t.home);
    const run = runCase(['run', specFile('reuse', (s) => ({ ...s, calibration: { reuse: 'c-missing' } }))], t.home);
    expectCleanRefusal(run, 'SPEC_INVALID', /calibration\.reuse/);
    expect(storeSnapshot(t.home)).toBe(before);
  });

  it('a victim model folder that is not there: SPEC_INVALID naming victim.model, no run created', () => {
    const before = storeSnapshot(t.home);
    const run = runCase(
      ['run', specFile('victim', (s) => ({ ...s, victim: { model: join(t.home, 'no-such-model') } }))],
      t.home,
    );
    expectCleanRefusal(run, 'SPEC_INVALID', /victim\.model/);
    expect(storeSnapshot(t.home)).toBe(before);
  });

  it('a data folder that is not there: SPEC_INVALID naming data.train, no run created', () => {
    const before = storeSnapshot(t.home);
    const run = runCase(
      ['run', specFile('data', (s) => ({ ...s, data: { ...s.data, train: join(t.home, 'no-such-data') } }))],
      t.home,
    );
    expectCleanRefusal(run, 'SPEC_INVALID', /data\.train/);
    expect(storeSnapshot(t.home)).toBe(before);
  });

  it("an attack block the victim lacks: SPEC_INVALID naming the attack's block, no run created", () => {
    const before = storeSnapshot(t.home);
    const run = runCase(
      [
        'run',
        specFile('block', (s) => ({
          ...s,
          attacks: s.attacks.map((a, i) => (i === 1 ? { ...a, block: 'block9' } : a)),
        })),
      ],
      t.home,
    );
    expectCleanRefusal(run, 'SPEC_INVALID', /attacks\[1\]\.block.*block9/);
    expect(storeSnapshot(t.home)).toBe(before);
  });

  it('a spec file with a UTF-8 BOM is read (here it then fails on its calibration.reuse)', () => {
    const run = runCase(
      ['run', specFile('bom', (s) => ({ ...s, calibration: { reuse: 'c-missing' } }), '\uFEFF')],
      t.home,
    );
    expectCleanRefusal(run, 'SPEC_INVALID', /calibration\.reuse/);
  });

  it('a spec that is not JSON says why (the parser reason)', () => {
    const file = join(t.home, 'specs', 'broken.json');
    writeFileSync(file, '{ "version": 1,');
    const run = runCase(['run', file], t.home);
    expectCleanRefusal(run, 'SPEC_INVALID', /cannot be read as JSON: .*position \d+/);
  });
});

describe('a model --out that is a file is refused before training', () => {
  // Before the fix, the save found it after training (attack ~20 s, train ~100 s on 2 cores).
  const outFile = () => {
    const file = join(t.home, 'out.txt');
    writeFileSync(file, 'not a model folder');
    return file;
  };

  it('attack --out FILE: INVALID_ARGUMENT naming --out, no backend started', () => {
    const out = outFile();
    const run = runCase(
      ['attack', '--name', 'finetune', '--victim', DEMO.demoModel, '--substitute', DEMO.demoData].concat([
        '--fraction',
        '0.02',
        '--iterations',
        '2',
        '--out',
        out,
      ]),
      t.home,
    );
    expectCleanRefusal(run, 'INVALID_ARGUMENT', /--out/);
    expect(run.stderr).not.toMatch(/backend /);
  });

  it('train --out FILE: INVALID_ARGUMENT naming --out, no backend started', () => {
    const out = outFile();
    const run = runCase(['train', '--data', DEMO.demoData, '--epochs', '1', '--out', out], t.home);
    expectCleanRefusal(run, 'INVALID_ARGUMENT', /--out/);
    expect(run.stderr).not.toMatch(/backend /);
  });
});

describe('under --json every error is the JSON error', () => {
  it('an unknown option', () => {
    expectCleanRefusal(
      runCase(['run', '--preset', 'smoke', '--no-such-flag'], t.home),
      'INVALID_ARGUMENT',
      /no-such-flag/,
    );
  });

  it('a missing command argument', () => {
    expectCleanRefusal(runCase(['runs', 'show'], t.home), 'INVALID_ARGUMENT', /runId/);
    // `report` takes a run id or --evidence DIR: neither is refused naming both.
    expectCleanRefusal(runCase(['report'], t.home), 'INVALID_ARGUMENT', /run id, or --evidence/);
  });

  it('an option value commander rejects', () => {
    expectCleanRefusal(
      runCase(['run', '--preset', 'smoke', '--workers', 'abc'], t.home),
      'INVALID_ARGUMENT',
      /--workers/,
    );
  });

  it('an unknown command', () => {
    expectCleanRefusal(runCase(['no-such-command'], t.home), 'INVALID_ARGUMENT', /no-such-command/);
  });
});
