/** The model.json bounds (bounds.ts) and the topology-against-manifest probe (probe.ts), directly. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  checkJsonDepth,
  checkManifestBounds,
  checkTopologyBounds,
  jsonDepth,
  MAX_JSON_DEPTH,
  MAX_PARAMETERS,
} from '../../src-main/engine/models/bounds';
import { checkTopologyAgainstManifest } from '../../src-main/engine/models/probe';

const MJ = '/x/model.json';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

const weight = (name: string, shape: number[]): tf.io.WeightsManifestEntry => ({ name, shape, dtype: 'float32' });

function topology(inputShape: number[], units: number): Record<string, unknown> {
  return {
    class_name: 'Sequential',
    config: {
      name: 's',
      layers: [
        { class_name: 'Flatten', config: { name: 'flatten', batch_input_shape: [null, ...inputShape] } },
        { class_name: 'Dense', config: { name: 'dense', units, kernel_initializer: 'glorot_uniform' } },
      ],
    },
  };
}

describe('model.json bounds', () => {
  it('measures nesting without recursion, skipping brackets inside strings', () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[["}]}')).toBe(3);
    expect(jsonDepth('"\\"[["')).toBe(0);
    const deep = '['.repeat(300_000) + ']'.repeat(300_000);
    expect(jsonDepth(deep)).toBe(MAX_JSON_DEPTH + 1);
    expect(codeOf(() => checkJsonDepth(deep, MJ))).toBe('MODEL_FORMAT');
    expect(codeOf(() => checkJsonDepth('{"a":[[1]]}', MJ))).toBeUndefined();
  });

  it('refuses weight shapes that are not positive safe integers or exceed the parameter bound', () => {
    const group = (w: tf.io.WeightsManifestEntry[]) => [{ paths: ['a.bin'], weights: w }];
    expect(codeOf(() => checkManifestBounds(group([weight('k', [3, 3, 1, 8])]), MJ))).toBeUndefined();
    expect(codeOf(() => checkManifestBounds(group([weight('k', [0, 3])]), MJ))).toBe('MODEL_WEIGHTS');
    expect(codeOf(() => checkManifestBounds(group([weight('k', [2 ** 60, 2 ** 60])]), MJ))).toBe('MODEL_WEIGHTS');
    expect(codeOf(() => checkManifestBounds(group([weight('k', [MAX_PARAMETERS + 1])]), MJ))).toBe('MODEL_WEIGHTS');
    expect(codeOf(() => checkManifestBounds(group([weight('k', [200000, 200000])]), MJ))).toBe('MODEL_WEIGHTS');
  });

  it('refuses input shapes beyond 4096x4096x4 or with a non-positive size', () => {
    expect(codeOf(() => checkTopologyBounds(topology([28, 28, 1], 10), MJ))).toBeUndefined();
    expect(codeOf(() => checkTopologyBounds(topology([4097, 8, 1], 10), MJ))).toBe('MODEL_SHAPE');
    expect(codeOf(() => checkTopologyBounds(topology([8, 8, 5], 10), MJ))).toBe('MODEL_SHAPE');
    expect(codeOf(() => checkTopologyBounds(topology([0, 8, 1], 10), MJ))).toBe('MODEL_SHAPE');
    expect(codeOf(() => checkTopologyBounds(topology([2 ** 25], 10), MJ))).toBe('MODEL_SHAPE');
  });
});

describe('topology against manifest, before building', () => {
  it('accepts a matching manifest and names the weight that differs', async () => {
    const ok = [weight('dense/kernel', [12, 3]), weight('dense/bias', [3])];
    await expect(checkTopologyAgainstManifest(topology([2, 2, 3], 3), ok, MJ)).resolves.toBeUndefined();
    const wrong = [weight('dense/kernel', [12, 4]), weight('dense/bias', [3])];
    await expect(checkTopologyAgainstManifest(topology([2, 2, 3], 3), wrong, MJ)).rejects.toMatchObject({
      code: 'MODEL_SHAPE',
      message: expect.stringMatching(/dense\/kernel.*\[12,4\].*\[12,3\]/),
    });
  });

  it('refuses a kernel larger than the whole manifest without allocating it', async () => {
    const specs = [weight('dense/kernel', [16384, 2]), weight('dense/bias', [2])];
    const before = tf.memory().numBytes;
    await expect(checkTopologyAgainstManifest(topology([64, 64, 4], 131072), specs, MJ)).rejects.toMatchObject({
      code: 'MODEL_SHAPE',
      message: expect.stringMatching(/'dense\/kernel' of shape \[16384,131072\]/),
    });
    expect(tf.memory().numBytes).toBe(before);
  });
});
