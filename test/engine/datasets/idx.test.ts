import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { detectLayout, loadDataset } from '../../../src-main/engine/datasets';
import { expectAuditError, idxImages, idxLabels, makeTempDir, writeIdx, type IdxSplit } from './fixtures';

const tmp = makeTempDir();
afterAll(tmp.cleanup);
let n = 0;
const fresh = (): string => path.join(tmp.dir, `case${n++}`);

// Train: 4 images of 2x3; pixels 0 or 255 with a quarter of them 255 -> scaled mean 0.25,
// population std sqrt(0.25 * 0.75).
const TRAIN: IdxSplit = {
  h: 2,
  w: 3,
  labels: [0, 1, 2, 1],
  pixels: [255, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 255, 255, 0, 0, 0, 255],
};
const TEST: IdxSplit = { h: 2, w: 3, labels: [2, 0], pixels: [0, 51, 102, 153, 204, 255, 255, 255, 255, 0, 0, 0] };
const MEAN = 0.25;
const STD = Math.sqrt(0.25 * 0.75);
const norm = (p: number): number => (p / 255 - MEAN) / STD;

describe('IDX layout', () => {
  it('reads shapes, labels and normalised values', async () => {
    const dir = fresh();
    writeIdx(dir, TRAIN, TEST);
    const d = await loadDataset(dir);
    expect(d.layout).toBe('idx');
    expect(d.path).toBe(dir);
    expect(d.classNames).toEqual(['0', '1', '2']);
    for (const [set, split] of [
      [d.train, TRAIN],
      [d.test, TEST],
    ] as const) {
      expect([set.count, set.height, set.width, set.channels, set.numClasses]).toEqual([
        split.labels.length,
        2,
        3,
        1,
        3,
      ]);
      expect(Array.from(set.labels)).toEqual(split.labels);
      expect(set.images.length).toBe(split.pixels.length);
      split.pixels.forEach((p, i) => expect(set.images[i]).toBeCloseTo(norm(p), 5));
    }
    expect(d.normalization.mean[0]).toBeCloseTo(MEAN, 10);
    expect(d.normalization.std[0]).toBeCloseTo(STD, 10);
    expect(d.train.normalization).toEqual(d.normalization);
  });

  it('reads gzipped files, classes.txt and a single sub-folder identically', async () => {
    const plainDir = fresh();
    writeIdx(plainDir, TRAIN, TEST);
    const dir = fresh();
    const inner = path.join(dir, 'fashion');
    writeIdx(inner, TRAIN, TEST, true);
    writeFileSync(path.join(inner, 'classes.txt'), 'shirt\ntrouser\nbag\n\n');
    const detected = await detectLayout(dir);
    expect(detected.layout).toBe('idx');
    expect(detected.root).toBe(inner);
    const [a, b] = await Promise.all([loadDataset(plainDir), loadDataset(dir)]);
    expect(b.classNames).toEqual(['shirt', 'trouser', 'bag']);
    expect(b.path).toBe(dir);
    expect(Array.from(b.train.images)).toEqual(Array.from(a.train.images));
    expect(Array.from(b.test.labels)).toEqual(Array.from(a.test.labels));
  });

  it('keeps a class-balanced prefix in file order for maxTrain / maxTest', async () => {
    const dir = fresh();
    const labels = [0, 0, 0, 1, 1, 2, 0, 1, 2, 2];
    const train: IdxSplit = { h: 1, w: 1, labels, pixels: labels.map((_, i) => i * 10) };
    writeIdx(dir, train, { h: 1, w: 1, labels: [2, 2, 1, 0], pixels: [1, 2, 3, 4] });
    const d = await loadDataset(dir, { maxTrain: 5, maxTest: 3 });
    // Quotas for 5 of [4, 3, 3]: 2, 2, 1 (leftover places to the lowest classes).
    expect(Array.from(d.train.labels)).toEqual([0, 0, 1, 1, 2]);
    const raw = Array.from(d.train.images, (v) =>
      Math.round((v * d.normalization.std[0] + d.normalization.mean[0]) * 255),
    );
    expect(raw).toEqual([0, 10, 30, 40, 50]);
    expect(Array.from(d.test.labels)).toEqual([2, 1, 0]);
    // Statistics come from the kept images only.
    const scaled = [0, 10, 30, 40, 50].map((p) => p / 255);
    const mean = scaled.reduce((s, v) => s + v, 0) / 5;
    expect(d.normalization.mean[0]).toBeCloseTo(mean, 7);
  });

  it('resizes and converts to RGB when inputShape asks for it', async () => {
    const dir = fresh();
    writeIdx(
      dir,
      { h: 2, w: 2, labels: [0, 1], pixels: [0, 0, 0, 0, 255, 255, 255, 255] },
      { h: 2, w: 2, labels: [1], pixels: [255, 255, 255, 255] },
    );
    const d = await loadDataset(dir, { inputShape: [4, 3, 3] });
    expect([d.train.height, d.train.width, d.train.channels]).toEqual([4, 3, 3]);
    expect(d.train.images.length).toBe(2 * 4 * 3 * 3);
    expect(d.normalization.mean).toEqual([0.5, 0.5, 0.5]);
    expect(d.normalization.std.map((s) => Math.round(s * 1e6) / 1e6)).toEqual([0.5, 0.5, 0.5]);
    expect(Array.from(d.train.images.subarray(0, 36)).every((v) => Math.abs(v + 1) < 1e-6)).toBe(true);
    expect(Array.from(d.test.images).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
  });

  describe('bad input', () => {
    it('wrong magic number names the file', async () => {
      const dir = fresh();
      const files = writeIdx(dir, TRAIN, TEST);
      writeFileSync(files['train-images-idx3-ubyte'], idxImages(4, 2, 3, TRAIN.pixels, 0x00000801));
      await expectAuditError(loadDataset(dir), 'DATASET_CORRUPT', files['train-images-idx3-ubyte']);
      const dir2 = fresh();
      const files2 = writeIdx(dir2, TRAIN, TEST);
      writeFileSync(files2['t10k-labels-idx1-ubyte'], idxLabels(TEST.labels, 0x12345678));
      await expectAuditError(loadDataset(dir2), 'DATASET_CORRUPT', files2['t10k-labels-idx1-ubyte']);
    });

    it('corrupt header dimensions', async () => {
      const dir = fresh();
      const files = writeIdx(dir, TRAIN, TEST);
      writeFileSync(files['t10k-images-idx3-ubyte'], idxImages(2, 0, 3, []));
      await expectAuditError(loadDataset(dir), 'DATASET_CORRUPT', files['t10k-images-idx3-ubyte']);
    });

    it('truncated image file, truncated gzip and trailing bytes', async () => {
      const dir = fresh();
      const files = writeIdx(dir, TRAIN, TEST);
      writeFileSync(files['train-images-idx3-ubyte'], idxImages(4, 2, 3, TRAIN.pixels).subarray(0, 30));
      await expectAuditError(loadDataset(dir), 'DATASET_CORRUPT', files['train-images-idx3-ubyte']);

      const dirGz = fresh();
      const gz = writeIdx(dirGz, TRAIN, TEST, true);
      const whole = gzipSync(idxImages(4, 2, 3, TRAIN.pixels));
      writeFileSync(gz['train-images-idx3-ubyte'], whole.subarray(0, whole.length - 12));
      await expectAuditError(loadDataset(dirGz), 'DATASET_CORRUPT', gz['train-images-idx3-ubyte']);

      const dir3 = fresh();
      const files3 = writeIdx(dir3, TRAIN, TEST);
      writeFileSync(files3['t10k-labels-idx1-ubyte'], Buffer.concat([idxLabels(TEST.labels), Buffer.from([0])]));
      await expectAuditError(loadDataset(dir3), 'DATASET_CORRUPT', files3['t10k-labels-idx1-ubyte']);
    });

    it('label count differing from image count', async () => {
      const dir = fresh();
      const files = writeIdx(dir, TRAIN, TEST);
      writeFileSync(files['train-labels-idx1-ubyte'], idxLabels([0, 1, 2]));
      await expectAuditError(loadDataset(dir), 'DATASET_MISMATCH', files['train-labels-idx1-ubyte']);
    });

    it('test labels outside the training classes, or beyond classes.txt', async () => {
      const dir = fresh();
      const files = writeIdx(dir, TRAIN, { ...TEST, labels: [3, 0] });
      await expectAuditError(loadDataset(dir), 'DATASET_CORRUPT', files['t10k-labels-idx1-ubyte']);
      const dir2 = fresh();
      const files2 = writeIdx(dir2, TRAIN, TEST);
      writeFileSync(path.join(dir2, 'classes.txt'), 'a\nb\n');
      await expectAuditError(loadDataset(dir2), 'DATASET_CORRUPT', files2['train-labels-idx1-ubyte']);
    });

    it('train and test image sizes differing', async () => {
      const dir = fresh();
      const files = writeIdx(dir, TRAIN, { h: 3, w: 2, labels: TEST.labels, pixels: TEST.pixels });
      await expectAuditError(loadDataset(dir), 'DATASET_MISMATCH', files['t10k-images-idx3-ubyte']);
    });

    it('an incomplete set of IDX files', async () => {
      const dir = fresh();
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idxImages(4, 2, 3, TRAIN.pixels)));
      writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idxLabels(TRAIN.labels)));
      let message = '';
      await loadDataset(dir).catch((e: Error) => (message = e.message));
      expect(message).toContain('t10k-images-idx3-ubyte');
      await expectAuditError(loadDataset(dir), 'DATASET_FORMAT', dir);
    });
  });
});
