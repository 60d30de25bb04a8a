/**
 * Reference models are reused across calibrations through the artifact store: the second
 * calibration of the same victim, data and recipe copies them instead of training, and gets
 * the same references and thresholds.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvidenceWorld, SMALL_DEFENSES, type EvidenceWorld } from '../evidence/fixture';
import { runCli } from './run-cli';

let w: EvidenceWorld;
beforeAll(() => {
  w = makeEvidenceWorld('oa-artifacts-cli-');
});
afterAll(() => w?.cleanup());

interface Calibrated {
  references: { contentHash: string }[];
  metrics: { id: string; values: number[]; tau: number }[];
}

function calibrate(out: string, artifacts: string): { json: Calibrated; stderr: string } {
  const r = runCli([
    'calibrate',
    '--victim',
    w.victim,
    '--data',
    w.data,
    '--references',
    '2',
    '--out',
    out,
    '--artifacts',
    artifacts,
    '--workers',
    '1',
    ...SMALL_DEFENSES,
    '--json',
  ]);
  expect(r.status, r.stderr).toBe(0);
  return { json: r.json as unknown as Calibrated, stderr: r.stderr };
}

describe('calibrate --artifacts', () => {
  it('copies references trained by an earlier calibration instead of training them again', () => {
    const artifacts = join(w.dir, 'artifacts');
    const first = calibrate(join(w.dir, 'a', 'cal.json'), artifacts);
    expect(first.stderr).not.toMatch(/copied from the artifact store/);
    expect(first.stderr).toMatch(/training reference 1\/2/);
    const second = calibrate(join(w.dir, 'b', 'cal.json'), artifacts);
    expect(second.stderr.match(/copied from the artifact store/g)).toHaveLength(2);
    expect(second.stderr).not.toMatch(/training reference/);
    expect(second.json.references.map((r) => r.contentHash)).toEqual(first.json.references.map((r) => r.contentHash));
    expect(second.json.metrics).toEqual(first.json.metrics);
  });
});
