import { beforeAll, describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../src-main/engine/context';
import {
  ALL_METRICS,
  DEFENSES,
  FIDELITY,
  SCORERS,
  VOTING_METRICS,
  getDefense,
  getMetric,
} from '../../../src-main/engine/defenses/registry';
import { paramDefaults, resolveParams } from '../../../src-shared/params';
import type { ImageSet } from '../../../src-main/engine/datasets/types';
import { CLASSES, ctx, useCpu, zoo } from './fixtures';

beforeAll(useCpu);

/** Each scorer at a size the pure-JS backend runs in well under a second. */
const SMALL: Record<string, Record<string, unknown>> = {
  deepjudge: { seeds: 4, fuzzSteps: 2 },
  modeldiff: { seeds: 4, pgdSteps: 1 },
  ipguard: { fingerprints: 4, steps: 2 },
  fidelity: { samples: 8 },
  zest: { references: 2, masks: 8 },
  mistakes: { samples: 8 },
};

/**
 * The test split a scorer extracts from. The victim is perfect on the bands, so the mistakes
 * baseline would have no mistakes to share: it gets the split with every third label shifted
 * (the victim then "misclassifies" those inputs).
 */
function probeData(id: string, test: ImageSet): ImageSet {
  if (id !== 'mistakes') return test;
  const labels = Int32Array.from(test.labels, (l, i) => (i % 3 === 0 ? (l + 1) % CLASSES : l));
  return { ...test, labels };
}

describe('defence registry', () => {
  it('lists the metrics with the ids the store, CLI and report use', () => {
    const ids = ALL_METRICS.map((m) => m.id);
    for (const id of [
      'deepjudge.lod',
      'deepjudge.lad',
      'modeldiff.ddv',
      'ipguard.mr',
      'fidelity.accuracy',
      'fidelity.agreement',
    ])
      expect(ids).toContain(id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(VOTING_METRICS.map((m) => m.id)).not.toContain('fidelity.accuracy');
    expect(DEFENSES.map((d) => d.id)).not.toContain('fidelity');
    expect(SCORERS).toContain(FIDELITY);
  });

  it('finds defences and metrics by id, and names the known ones otherwise', () => {
    expect(getDefense('ipguard').id).toBe('ipguard');
    expect(getDefense('fidelity')).toBe(FIDELITY);
    expect(getMetric('deepjudge.lad')).toMatchObject({
      metric: { kind: 'distance', identity: 0 },
      defense: { id: 'deepjudge' },
    });
    expect(getMetric('modeldiff.ddv').metric).toMatchObject({ kind: 'similarity', identity: 1 });
    expect(() => getDefense('watermark')).toThrow(/Unknown defence "watermark"/);
    try {
      getDefense('watermark');
    } catch (e) {
      expect(e).toMatchObject({
        code: 'INVALID_ARGUMENT',
        hint: expect.stringMatching(/deepjudge.*modeldiff.*ipguard.*fidelity/),
      });
    }
    expect(() => getMetric('x.y')).toThrow(/Unknown metric/);
  });

  it('every defence declares its paper, access, metric prefixes and valid parameter defaults', () => {
    for (const d of SCORERS) {
      expect(d.paper.length).toBeGreaterThan(10);
      expect(['white-box', 'black-box']).toContain(d.access);
      for (const m of d.metrics) expect(m.id.startsWith(`${d.id}.`)).toBe(true);
      expect(resolveParams(d.params, paramDefaults(d.params)).ok).toBe(true);
    }
  });

  it('every scorer gives its identity value for the victim against itself and reports progress', async () => {
    const z = await zoo();
    for (const d of SCORERS) {
      const events: ProgressEvent[] = [];
      const c = ctx(3, { progress: (e) => events.push(e) });
      const small = SMALL[d.id];
      if (!small) throw new Error(`give ${d.id} test-sized parameters in SMALL (its defaults are sized for real runs)`);
      const fp = await d.extract(
        c,
        z.victim,
        probeData(d.id, z.test),
        small as Record<string, number | string | boolean>,
      );
      expect(fp.queries).toBeGreaterThan(0);
      const scores = await d.score(c, z.victim, z.victim, fp);
      expect(Object.keys(scores).sort()).toEqual(d.metrics.map((m) => m.id).sort());
      for (const m of d.metrics) {
        if (m.votes === false) continue; // fidelity.accuracy is the victim's accuracy, not an identity
        expect(scores[m.id]).toBeCloseTo(m.identity, 9);
      }
      expect(events.some((e) => e.stage === `${d.id}.extract`)).toBe(true);
      expect(events.some((e) => e.stage === `${d.id}.score`)).toBe(true);
    }
  });
});
