/**
 * Every registered attack against the Attack contract, on a tiny trained victim: a usable
 * model, progress, fidelity curve, cancellation, divergence guard, no leaked tensors, and a
 * victim left bit-identical.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveParams } from '../../../src-shared/params';
import type { ProgressEvent } from '../../../src-main/engine/context';
import type { LoadedModel } from '../../../src-main/engine/models/io';
import { ATTACKS, getAttack } from '../../../src-main/engine/attacks/registry';
import type { AttackRequest } from '../../../src-main/engine/attacks/types';
import { heldOutSet, substituteSet, tinyVictim, useCpu, weightBytes } from './fixtures';

let victim: LoadedModel;
let victimBytes: Buffer[];
beforeAll(async () => {
  await useCpu();
  victim = await tinyVictim();
  victimBytes = weightBytes(victim.model);
});

const request = (over: Partial<AttackRequest> = {}): AttackRequest => ({
  victim,
  substitute: substituteSet(),
  heldOut: heldOutSet(),
  params: {},
  iterations: 4,
  batchSize: 16,
  evalEvery: 2,
  progressEvery: 1,
  ...over,
});

describe('attack registry', () => {
  it('lists the six attacks with valid parameter specs and finds them by id', () => {
    expect(ATTACKS.map((a) => a.id)).toEqual(['removalnet', 'finetune', 'prune', 'distill', 'negative', 'knockoff']);
    for (const a of ATTACKS) {
      expect(getAttack(a.id)).toBe(a);
      expect(a.title.length).toBeGreaterThan(0);
      expect(a.paper.length).toBeGreaterThan(0);
      expect(new Set(a.params.map((p) => p.key)).size).toBe(a.params.length);
      const resolved = resolveParams(a.params, {});
      expect(resolved.ok).toBe(true);
    }
    expect(() => getAttack('nope')).toThrow(/Unknown attack/);
  });
});

describe.each(ATTACKS.map((a) => [a.id, a] as const))('%s conforms to the Attack contract', (_id, attack) => {
  it('returns a usable surrogate, reports progress and fidelity, leaks nothing and leaves the victim untouched', async () => {
    const before = tf.memory().numTensors;
    const events: ProgressEvent[] = [];
    const counts = new Map<number, number>();
    const result = await attack.run(
      {
        seed: 3,
        progress: (e) => {
          events.push(e);
          counts.set(e.iteration, tf.memory().numTensors);
        },
      },
      request(),
    );
    const x = tf.zeros([5, 8, 8, 1]);
    const out = result.model.predict(x) as tf.Tensor;
    expect(out.shape).toEqual([5, 3]);
    expect(Array.from(out.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, out]);

    expect(events.every((e) => e.stage === attack.id && e.total === 4)).toBe(true);
    expect(events.filter((e) => e.iteration >= 1).map((e) => e.iteration)).toEqual([1, 2, 3, 4]);
    const last = events[events.length - 1];
    expect(last.values).toHaveProperty('loss');
    expect(last.values).toHaveProperty('fidelity');
    expect(last.values?.examplesPerSec).toBeGreaterThan(0);
    expect(last.etaSeconds).toBe(0);
    expect(result.curve?.map((p) => p.iteration)).toEqual([0, 2, 4]);
    expect(result.compute.iterations).toBe(4);
    expect(result.compute.forwardPasses).toBeGreaterThanOrEqual(4 * 16);
    expect(result.compute.backwardPasses).toBeGreaterThanOrEqual(4 * 16);
    expect(result.lineageStep).toMatch(new RegExp(`^${attack.id}`));
    expect(result.modelMeta.lineage).toContain(result.lineageStep);

    // Flat across iterations: from the first update on (optimiser slots exist), no growth.
    const steady = [1, 2, 3, 4].map((i) => counts.get(i));
    expect(new Set(steady).size).toBe(1);
    result.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(weightBytes(victim.model)).toEqual(victimBytes);
  });

  it('stops with CANCELLED when aborted mid-run and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const run = attack.run(
      { seed: 3, signal: controller.signal, progress: (e) => e.iteration === 2 && controller.abort() },
      request({ iterations: 6 }),
    );
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(tf.memory().numTensors).toBe(before);
    expect(weightBytes(victim.model)).toEqual(victimBytes);
  });

  it('is deterministic for a seed and refuses unknown or out-of-range parameters', async () => {
    const once = async () => {
      const r = await attack.run({ seed: 8 }, request({ heldOut: undefined, iterations: 2 }));
      const w = weightBytes(r.model);
      r.model.dispose();
      return w;
    };
    expect(await once()).toEqual(await once());
    await expect(attack.run({ seed: 8 }, request({ params: { bogus: 1 } }))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const numeric = attack.params.find((p) => p.type === 'number' && p.min !== undefined);
    if (numeric && numeric.type === 'number') {
      await expect(
        attack.run({ seed: 8 }, request({ params: { [numeric.key]: numeric.min! - 1 } })),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('stops with TRAINING_DIVERGED when the loss stops being finite', async () => {
    const before = tf.memory().numTensors;
    const bad = substituteSet();
    bad.images.fill(Number.NaN);
    await expect(
      attack.run({ seed: 3 }, request({ substitute: bad, heldOut: undefined, iterations: 2 })),
    ).rejects.toMatchObject({ code: 'TRAINING_DIVERGED' });
    expect(tf.memory().numTensors).toBe(before);
  });
});
