import { describe, expect, it } from 'vitest';
import { runAttack, substituteSet } from '../../src-main/engine/attacks/run-attack';
import type { ImageSet } from '../../src-main/engine/datasets';
import { isAuditError } from '../../src-main/engine/errors';
import { trainingPart } from '../../src-main/engine/training/train-model';
import { PARTITION_SEED } from '../../src-main/runner/plan';

/** 1x1x1 images whose value is their index (so each image names itself), 3 imbalanced classes. */
function makeSet(count = 101): ImageSet {
  return {
    images: Float32Array.from({ length: count }, (_, i) => i),
    labels: Int32Array.from({ length: count }, (_, i) => (i % 7 < 4 ? 0 : i % 7 < 6 ? 1 : 2)),
    count,
    height: 1,
    width: 1,
    channels: 1,
    numClasses: 3,
  };
}

const ids = (s: ImageSet) => Array.from(s.images);

describe('victim and attacker partitions (S_LSD)', () => {
  it('the victim part and the attacker part of one partitionSeed are disjoint and cover the set', () => {
    const set = makeSet();
    // The training seed of the victim (5) and the attack seed (7) differ; the partition seed is shared.
    const victim = ids(trainingPart(set, { partition: '0/2', partitionSeed: PARTITION_SEED, seed: 5 }));
    const attacker = ids(substituteSet(set, { partition: '1/2', partitionSeed: PARTITION_SEED }, 7));
    expect(victim.filter((x) => attacker.includes(x))).toEqual([]);
    expect([...victim, ...attacker].sort((a, b) => a - b)).toEqual(ids(set));
    expect(Math.abs(victim.length - attacker.length)).toBeLessThanOrEqual(1);
  });

  it('the attacker defaults to partition seed 0, and a different seed gives a different split', () => {
    const set = makeSet();
    expect(ids(substituteSet(set, { partition: '1/2' }, 3))).toEqual(
      ids(substituteSet(set, { partition: '1/2', partitionSeed: 0 }, 99)),
    );
    expect(ids(substituteSet(set, { partition: '1/2', partitionSeed: 1 }, 3))).not.toEqual(
      ids(substituteSet(set, { partition: '1/2', partitionSeed: 0 }, 3)),
    );
  });

  it('a victim without partitionSeed keeps the old behaviour: its training seed splits', () => {
    const set = makeSet();
    expect(ids(trainingPart(set, { partition: '0/2', seed: 5 }))).toEqual(
      ids(trainingPart(set, { partition: '0/2', partitionSeed: 5, seed: 1 })),
    );
    expect(ids(trainingPart(set, { seed: 5 }))).toEqual(ids(set));
  });

  it('S_LTD with a partition draws the fraction from the victim part only', () => {
    const set = makeSet(400);
    const victim = ids(trainingPart(set, { partition: '0/2', partitionSeed: 0, seed: 1 }));
    const ltd = ids(substituteSet(set, { partition: '0/2', partitionSeed: 0, fraction: 0.25 }, 11));
    expect(ltd.length).toBe(Math.round(0.25 * victim.length));
    expect(ltd.every((x) => victim.includes(x))).toBe(true);
    // Without a partition: the fraction of the whole split, as before.
    expect(ids(substituteSet(set, { fraction: 0.25 }, 11))).toHaveLength(100);
  });

  it('runAttack refuses a bad partition before loading anything', async () => {
    const err = await runAttack(
      { seed: 1 },
      {
        attack: 'finetune',
        victimDir: '/nonexistent/victim',
        substituteDir: '/nonexistent/data',
        partition: '2/2',
        iterations: 1,
        outDir: '/nonexistent/out',
      },
    ).catch((e: unknown) => e);
    expect(isAuditError(err) && err.code).toBe('INVALID_ARGUMENT');
    expect(String((err as Error).message)).toContain('Invalid partition "2/2"');
  });
});
