import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src-main/engine/datasets';
import { expectAuditError, makeTempDir, writeImage } from './fixtures';

const tmp = makeTempDir();
afterAll(tmp.cleanup);
let n = 0;
const fresh = (): string => path.join(tmp.dir, `case${n++}`);

/** 3 wide x 2 high RGB pixels, distinct per image seed. */
const rgb = (seed: number): number[] => Array.from({ length: 3 * 2 * 3 }, (_, i) => (seed * 40 + i * 11) % 256);

/** train/{cat,dog}, test/{cat,dog}; PNG except one JPEG. Files sorted by name inside a class. */
async function writeFolders(dir: string): Promise<void> {
  await Promise.all([
    writeImage(path.join(dir, 'train', 'dog', 'b.png'), 3, 2, 3, rgb(2)),
    writeImage(path.join(dir, 'train', 'dog', 'a.png'), 3, 2, 3, rgb(1)),
    writeImage(path.join(dir, 'train', 'cat', 'x.png'), 3, 2, 3, rgb(0)),
    writeImage(path.join(dir, 'test', 'cat', 'c.jpg'), 3, 2, 3, Array(18).fill(200)),
    writeImage(path.join(dir, 'test', 'dog', 'd.png'), 3, 2, 3, rgb(3)),
  ]);
  writeFileSync(path.join(dir, 'train', 'dog', 'notes.txt'), 'ignored');
}

const toRaw = (v: number, c: number, norm: { mean: number[]; std: number[] }): number =>
  Math.round((v * norm.std[c] + norm.mean[c]) * 255) + 0;

describe('image folders', () => {
  const base = fresh();
  beforeAll(() => writeFolders(base));

  it('reads sorted classes, exact PNG pixels and the default size', async () => {
    const d = await loadDataset(base);
    expect(d.layout).toBe('image-folder');
    expect(d.classNames).toEqual(['cat', 'dog']);
    expect([d.train.count, d.train.height, d.train.width, d.train.channels, d.train.numClasses]).toEqual([
      3, 2, 3, 3, 2,
    ]);
    expect(Array.from(d.train.labels)).toEqual([0, 1, 1]);
    expect(Array.from(d.test.labels)).toEqual([0, 1]);
    const raw = Array.from(d.train.images, (v, i) => toRaw(v, i % 3, d.normalization));
    expect(raw).toEqual([...rgb(0), ...rgb(1), ...rgb(2)]);
    // The JPEG decodes close to its flat grey.
    const jpg = Array.from(d.test.images.subarray(0, 18), (v, i) => toRaw(v, i % 3, d.normalization));
    expect(jpg.every((v) => Math.abs(v - 200) <= 3)).toBe(true);
    // Per-channel statistics match a direct computation over the train pixels.
    const all = [...rgb(0), ...rgb(1), ...rgb(2)].map((p) => p / 255);
    for (let c = 0; c < 3; c++) {
      const ch = all.filter((_, i) => i % 3 === c);
      const mean = ch.reduce((s, v) => s + v, 0) / ch.length;
      const std = Math.sqrt(ch.reduce((s, v) => s + (v - mean) ** 2, 0) / ch.length);
      expect(d.normalization.mean[c]).toBeCloseTo(mean, 6);
      expect(d.normalization.std[c]).toBeCloseTo(std, 6);
    }
  });

  it('resizes to inputShape and converts to grayscale', async () => {
    const d = await loadDataset(base, { inputShape: [4, 5, 1] });
    expect([d.train.height, d.train.width, d.train.channels]).toEqual([4, 5, 1]);
    expect(d.train.images.length).toBe(3 * 4 * 5);
    expect(d.normalization.mean).toHaveLength(1);
  });

  it('defaults to one channel for grayscale images', async () => {
    const dir = fresh();
    await Promise.all([
      writeImage(path.join(dir, 'train', 'a', '1.png'), 2, 2, 1, [0, 85, 170, 255]),
      writeImage(path.join(dir, 'train', 'b', '1.png'), 2, 2, 1, [255, 255, 0, 0]),
      writeImage(path.join(dir, 'test', 'a', '1.png'), 2, 2, 1, [0, 0, 0, 0]),
      writeImage(path.join(dir, 'test', 'b', '1.png'), 2, 2, 1, [1, 2, 3, 4]),
    ]);
    const d = await loadDataset(dir);
    expect([d.train.height, d.train.width, d.train.channels]).toEqual([2, 2, 1]);
    expect(Array.from(d.train.images, (v) => toRaw(v, 0, d.normalization))).toEqual([0, 85, 170, 255, 255, 255, 0, 0]);
  });

  it('decodes only the class-balanced prefix kept by maxTrain', async () => {
    const dir = fresh();
    await writeFolders(dir);
    // A broken file that sorts after the kept one in its class is never decoded.
    writeFileSync(path.join(dir, 'train', 'dog', 'z.png'), 'not a png');
    const d = await loadDataset(dir, { maxTrain: 2, maxTest: 2 });
    expect(Array.from(d.train.labels)).toEqual([0, 1]);
    expect(Array.from(d.train.images, (v, i) => toRaw(v, i % 3, d.normalization))).toEqual([...rgb(0), ...rgb(1)]);
  });

  describe('bad input', () => {
    it('an empty class folder', async () => {
      const dir = fresh();
      await writeFolders(dir);
      const empty = path.join(dir, 'test', 'bird');
      mkdirSync(empty);
      mkdirSync(path.join(dir, 'train', 'bird'));
      await expectAuditError(loadDataset(dir), 'DATASET_FORMAT', path.join(dir, 'train', 'bird'));
    });

    it('an undecodable image', async () => {
      const dir = fresh();
      await writeFolders(dir);
      const bad = path.join(dir, 'test', 'dog', 'e.jpg');
      writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01, 0x02]));
      await expectAuditError(loadDataset(dir), 'DATASET_CORRUPT', bad);
    });

    it('test classes that differ from train', async () => {
      const dir = fresh();
      await writeFolders(dir);
      await writeImage(path.join(dir, 'test', 'emu', '1.png'), 3, 2, 3, rgb(4));
      await expectAuditError(loadDataset(dir), 'DATASET_MISMATCH', path.join(dir, 'test'));
    });

    it('a missing test folder and images without class folders', async () => {
      const dir = fresh();
      await writeImage(path.join(dir, 'train', 'a', '1.png'), 2, 2, 1, [0, 0, 0, 0]);
      await expectAuditError(loadDataset(dir), 'DATASET_FORMAT', dir);
      const dir2 = fresh();
      await writeImage(path.join(dir2, 'train', '1.png'), 2, 2, 1, [0, 0, 0, 0]);
      await writeImage(path.join(dir2, 'test', 'a', '1.png'), 2, 2, 1, [0, 0, 0, 0]);
      await expectAuditError(loadDataset(dir2), 'DATASET_FORMAT', path.join(dir2, 'train'));
    });
  });
});
