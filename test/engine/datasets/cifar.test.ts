import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectLayout, loadDataset } from '../../../src-main/engine/datasets';
import { cifarRecords, expectAuditError, makeTempDir } from './fixtures';

const tmp = makeTempDir();
afterAll(tmp.cleanup);
let n = 0;
const fresh = (): string => path.join(tmp.dir, `case${n++}`);

/** Distinct value for image n, channel c, pixel p (CHW on disk). */
const value = (n: number, c: number, p: number): number => (n * 37 + c * 85 + p * 3) % 256;
const CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function writeCifar10(dir: string): void {
  mkdirSync(dir, { recursive: true });
  // Batches 1 and 2 (2 + 1 records), test batch 2 records; batch 2 is offset to be distinct.
  writeFileSync(path.join(dir, 'data_batch_1.bin'), cifarRecords([[3], [9]], value));
  writeFileSync(
    path.join(dir, 'data_batch_2.bin'),
    cifarRecords([[0]], (_, c, p) => value(2, c, p)),
  );
  writeFileSync(
    path.join(dir, 'test_batch.bin'),
    cifarRecords([[5], [1]], (k, c, p) => value(k + 10, c, p)),
  );
  writeFileSync(path.join(dir, 'batches.meta.txt'), `${CIFAR10_NAMES.join('\n')}\n\n`);
}

/** Undo normalisation and return the uint8 value at (n, y, x, c). */
function rawAt(
  set: { images: Float32Array; normalization?: { mean: number[]; std: number[] } },
  i: number,
  c: number,
): number {
  const norm = set.normalization!;
  return Math.round((set.images[i] * norm.std[c] + norm.mean[c]) * 255);
}

describe('CIFAR-10 binary', () => {
  it('reads batches in order, converts CHW to NHWC and uses the meta names', async () => {
    const dir = fresh();
    writeCifar10(path.join(dir, 'cifar-10-batches-bin'));
    const detected = await detectLayout(dir);
    expect(detected.layout).toBe('cifar10-binary');
    const d = await loadDataset(dir);
    expect(d.layout).toBe('cifar10-binary');
    expect(d.classNames).toEqual(CIFAR10_NAMES);
    expect([d.train.count, d.train.height, d.train.width, d.train.channels, d.train.numClasses]).toEqual([
      3, 32, 32, 3, 10,
    ]);
    expect(Array.from(d.train.labels)).toEqual([3, 9, 0]);
    expect(Array.from(d.test.labels)).toEqual([5, 1]);
    for (const [img, y, x, c] of [
      [0, 0, 0, 0],
      [1, 5, 7, 2],
      [2, 31, 31, 1],
    ]) {
      const p = y * 32 + x;
      expect(rawAt(d.train, ((img * 32 + y) * 32 + x) * 3 + c, c)).toBe(value(img, c, p));
    }
    expect(rawAt(d.test, ((1 * 32 + 4) * 32 + 9) * 3 + 0, 0)).toBe(value(11, 0, 4 * 32 + 9));
  });

  it('computes per-channel statistics on the train split (hand-computed)', async () => {
    const dir = fresh();
    mkdirSync(dir);
    // Image 0: R=0, G=255, B=51; image 1: R=255, G=255, B=153.
    const consts = [
      [0, 255, 51],
      [255, 255, 153],
    ];
    writeFileSync(
      path.join(dir, 'data_batch_1.bin'),
      cifarRecords([[0], [1]], (k, c) => consts[k][c]),
    );
    writeFileSync(
      path.join(dir, 'test_batch.bin'),
      cifarRecords([[0]], () => 102),
    );
    const d = await loadDataset(dir);
    expect(d.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const { mean, std } = d.normalization;
    expect(mean[0]).toBeCloseTo(0.5, 6);
    expect(mean[1]).toBeCloseTo(1, 6);
    expect(mean[2]).toBeCloseTo(0.4, 6);
    expect(std[0]).toBeCloseTo(0.5, 6);
    expect(std[1]).toBe(1); // constant channel: std stored as 1
    expect(std[2]).toBeCloseTo(0.2, 6);
    // Test pixel 102/255 = 0.4 in every channel.
    expect(d.test.images[0]).toBeCloseTo((0.4 - 0.5) / 0.5, 5);
    expect(d.test.images[1]).toBeCloseTo(0.4 - 1, 5);
    expect(d.test.images[2]).toBeCloseTo(0, 5);
  });

  it('rejects a file that is not a whole number of records', async () => {
    const dir = fresh();
    writeCifar10(dir);
    const bad = path.join(dir, 'data_batch_2.bin');
    writeFileSync(bad, cifarRecords([[0]], value).subarray(0, 3000));
    await expectAuditError(loadDataset(dir), 'DATASET_CORRUPT', bad);
  });

  it('rejects a label outside 0..9 and a missing test batch', async () => {
    const dir = fresh();
    writeCifar10(dir);
    const bad = path.join(dir, 'test_batch.bin');
    writeFileSync(bad, cifarRecords([[10]], value));
    await expectAuditError(loadDataset(dir), 'DATASET_CORRUPT', bad);

    const dir2 = fresh();
    mkdirSync(dir2);
    writeFileSync(path.join(dir2, 'data_batch_1.bin'), cifarRecords([[0]], value));
    await expectAuditError(loadDataset(dir2), 'DATASET_FORMAT', dir2);
  });
});

describe('CIFAR-100 binary', () => {
  it('uses the fine label and fine_label_names.txt', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'train.bin'),
      cifarRecords(
        [
          [4, 99],
          [19, 7],
        ],
        value,
      ),
    );
    writeFileSync(path.join(dir, 'test.bin'), cifarRecords([[0, 42]], value));
    const names = Array.from({ length: 100 }, (_, i) => `fine${i}`);
    writeFileSync(path.join(dir, 'fine_label_names.txt'), names.join('\n'));
    const d = await loadDataset(dir);
    expect(d.layout).toBe('cifar100-binary');
    expect(d.classNames).toEqual(names);
    expect(d.train.numClasses).toBe(100);
    expect(Array.from(d.train.labels)).toEqual([99, 7]);
    expect(Array.from(d.test.labels)).toEqual([42]);
    expect(rawAt(d.train, ((1 * 32 + 3) * 32 + 2) * 3 + 1, 1)).toBe(value(1, 1, 3 * 32 + 2));
  });

  it('rejects a wrong size (CIFAR-10 records in train.bin) and a bad name file', async () => {
    const dir = fresh();
    mkdirSync(dir);
    const bad = path.join(dir, 'train.bin');
    writeFileSync(bad, cifarRecords([[1], [2]], value));
    writeFileSync(path.join(dir, 'test.bin'), cifarRecords([[0, 42]], value));
    await expectAuditError(loadDataset(dir), 'DATASET_CORRUPT', bad);

    const dir2 = fresh();
    mkdirSync(dir2);
    writeFileSync(path.join(dir2, 'train.bin'), cifarRecords([[0, 1]], value));
    writeFileSync(path.join(dir2, 'test.bin'), cifarRecords([[0, 1]], value));
    const names = path.join(dir2, 'fine_label_names.txt');
    writeFileSync(names, 'only\nthree\nnames\n');
    await expectAuditError(loadDataset(dir2), 'DATASET_CORRUPT', names);
  });
});
