import { beforeAll, describe, expect, it } from 'vitest';
import { deserializeFingerprints, serializeFingerprints } from '../../../src-main/engine/defenses/fingerprint-file';
import { fidelityDefense as fid, measureFidelity } from '../../../src-main/engine/defenses/fidelity';
import { metricVotes, type Fingerprints } from '../../../src-main/engine/defenses/types';
import { evaluate } from '../../../src-main/engine/training/evaluate';
import { ctx, tensorsLeftBy, tiny, useCpu, zoo, type Zoo } from './fixtures';

let z: Zoo;
let fp: Fingerprints;

beforeAll(async () => {
  await useCpu();
  z = await zoo();
  fp = await fid.extract(ctx(), z.victim, z.test, { samples: 40 });
});

describe('fidelity', () => {
  it('is reported, never voting', () => {
    expect(fid.metrics.map((m) => m.id)).toEqual(['fidelity.accuracy', 'fidelity.agreement']);
    expect(fid.metrics.every((m) => !metricVotes(m))).toBe(true);
  });

  it('stores a seeded sample with true labels and the victim predictions', async () => {
    expect(fp.arrays.inputs.shape).toEqual([40, 8, 8, 1]);
    expect(fp.arrays.labels.shape).toEqual([40]);
    expect(fp.arrays.victimLabels.shape).toEqual([40]);
    const all = await fid.extract(ctx(), z.victim, z.test, { samples: 0 });
    expect(all.arrays.inputs.shape[0]).toBe(z.test.count);
  });

  it('victim against itself: its accuracy and full agreement', async () => {
    const r = await fid.score(ctx(), z.victim, z.victim, fp);
    expect(r['fidelity.agreement']).toBe(1);
    expect(r['fidelity.accuracy']).toBe(fp.info.victimAccuracy);
  });

  it('accuracy matches evaluate(), agreement compares with the victim', async () => {
    const untrained = tiny({ seed: 21, name: 'untrained' });
    const direct = measureFidelity(z.victim, untrained, z.test);
    expect(direct['fidelity.accuracy']).toBeCloseTo(evaluate(untrained.model, z.test).accuracy, 12);
    const victimAcc = evaluate(z.victim.model, z.test).accuracy;
    // The victim is (close to) perfect here, so agreement tracks accuracy.
    expect(victimAcc).toBeGreaterThan(0.9);
    expect(Math.abs(direct['fidelity.agreement'] - direct['fidelity.accuracy'])).toBeLessThanOrEqual(
      1 - victimAcc + 1e-9,
    );
    const all = await fid.extract(ctx(), z.victim, z.test, { samples: 0 });
    expect(await fid.score(ctx(), z.victim, untrained, all)).toEqual(direct);
  });

  it('round trip through the file format; refuses another class count', async () => {
    const back = deserializeFingerprints(serializeFingerprints(fp));
    expect(await fid.score(ctx(), z.victim, z.finetuned, back)).toEqual(
      await fid.score(ctx(), z.victim, z.finetuned, fp),
    );
    expect(fid.applicability(z.victim, tiny({ seed: 3, classes: 3, name: 'three' }), fp).applicable).toBe(false);
  });

  it('leaves no tensors behind', async () => {
    expect(await tensorsLeftBy(() => fid.score(ctx(), z.victim, z.independent, fp))).toBe(0);
  });
});
