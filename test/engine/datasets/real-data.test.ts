import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDataset, type Dataset } from '../../../src-main/engine/datasets';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FASHION = path.resolve(repo, '../shared/datasets/fashion-mnist');
const DEMO = path.join(repo, 'resources', 'datasets', 'fashion-mnist-demo');
const hasFashion = existsSync(FASHION);

const perClass = (labels: Int32Array): number[] => {
  const c = new Array<number>(10).fill(0);
  labels.forEach((l) => c[l]++);
  return c;
};

describe('real data', () => {
  let demo: Dataset;

  it('reads the embedded demo subset (20,000 + 5,000 class-balanced Fashion-MNIST images)', async () => {
    demo = await loadDataset(DEMO);
    expect(demo.layout).toBe('idx');
    expect(demo.classNames[0]).toBe('T-shirt/top');
    expect(demo.classNames).toHaveLength(10);
    expect([demo.train.count, demo.train.height, demo.train.width, demo.train.channels]).toEqual([20000, 28, 28, 1]);
    expect(perClass(demo.train.labels)).toEqual(new Array(10).fill(2000));
    expect(perClass(demo.test.labels)).toEqual(new Array(10).fill(500));
    expect(demo.normalization.mean[0]).toBeGreaterThan(0.25);
    expect(demo.normalization.mean[0]).toBeLessThan(0.32);
  });

  it.skipIf(!hasFashion)(
    `reads Fashion-MNIST from ../shared/datasets/fashion-mnist${hasFashion ? '' : ' (SKIPPED: folder not found; only present on dev machines and CI)'}`,
    async () => {
      demo ??= await loadDataset(DEMO);
      const full = await loadDataset(FASHION);
      expect(full.layout).toBe('idx');
      expect([full.train.count, full.test.count, full.train.height, full.train.width, full.train.channels]).toEqual([
        60000, 10000, 28, 28, 1,
      ]);
      expect(perClass(full.train.labels)).toEqual(new Array(10).fill(6000));
      // Published Fashion-MNIST statistics: mean 0.2860, std 0.3530.
      expect(full.normalization.mean[0]).toBeCloseTo(0.286, 3);
      expect(full.normalization.std[0]).toBeCloseTo(0.353, 3);

      // The demo subset is exactly the class-balanced prefix that maxTrain / maxTest select.
      const prefix = await loadDataset(FASHION, { maxTrain: 20000, maxTest: 5000 });
      expect(Array.from(prefix.train.labels)).toEqual(Array.from(demo.train.labels));
      expect(prefix.normalization).toEqual(demo.normalization);
      expect(Buffer.compare(Buffer.from(prefix.train.images.buffer), Buffer.from(demo.train.images.buffer))).toBe(0);
      expect(Buffer.compare(Buffer.from(prefix.test.images.buffer), Buffer.from(demo.test.images.buffer))).toBe(0);
    },
  );
});
