/** RemovalNet's table of the victim's answers: each example asked once, answers as the victim gives them. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { VictimLogits } from '../../../src-main/engine/attacks/victim-logits';
import { batchTensors } from '../../../src-main/engine/training/batch';
import { substituteSet, tinyVictim } from './fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('answers every batch as the victim does, asking it only about examples not seen before', async () => {
  const victim = await tinyVictim();
  const set = substituteSet();
  const table = new VictimLogits(victim.model, victim.meta.numClasses, set.count);
  const direct = (idx: number[]) =>
    tf.tidy(() => {
      const { x } = batchTensors(set, idx);
      return Array.from((victim.model.predict(x) as tf.Tensor).dataSync());
    });
  const ask = (idx: number[]) => {
    const { x, y } = batchTensors(set, idx);
    const { logits, queried } = table.get(x, idx);
    const values = Array.from(logits.dataSync());
    tf.dispose([x, y, logits]);
    return { values, queried };
  };
  const before = tf.memory().numTensors;
  const first = ask([3, 1, 4, 15]);
  expect(first.queried).toBe(4);
  // Half known, half new, in another order: only the new two are asked, rows stay in order.
  const second = ask([9, 4, 26, 3]);
  expect(second.queried).toBe(2);
  const third = ask([26, 9, 1, 15, 3, 4]);
  expect(third.queried).toBe(0);
  expect(tf.memory().numTensors).toBe(before);
  // The same values as asking the victim about each batch directly (cpu: per-example results
  // do not depend on the other examples of the batch in inference mode).
  for (const [idx, got] of [
    [[3, 1, 4, 15], first.values],
    [[9, 4, 26, 3], second.values],
    [[26, 9, 1, 15, 3, 4], third.values],
  ] as const) {
    const want = direct([...idx]);
    expect(got).toHaveLength(want.length);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
  }
  victim.model.dispose();
});
