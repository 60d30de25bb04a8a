import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset, normalizeWith, type ImageSet } from '../../../src-main/engine/datasets';
import { isAuditError } from '../../../src-main/engine/errors';
import { expectAuditError, makeTempDir, writeIdx } from './fixtures';

const tmp = makeTempDir();
afterAll(tmp.cleanup);
let n = 0;
const fresh = (): string => path.join(tmp.dir, `case${n++}`);

describe('layout detection and general errors', () => {
  it('a missing directory is DATASET_NOT_FOUND', async () => {
    const dir = path.join(tmp.dir, 'does-not-exist');
    await expectAuditError(loadDataset(dir), 'DATASET_NOT_FOUND', dir);
  });

  it('an unknown layout is DATASET_FORMAT listing the expected layouts', async () => {
    const dir = fresh();
    mkdirSync(path.join(dir, 'a'), { recursive: true });
    mkdirSync(path.join(dir, 'b'));
    writeFileSync(path.join(dir, 'data.csv'), '1,2,3\n');
    await expectAuditError(loadDataset(dir), 'DATASET_FORMAT', dir);
    const error = await loadDataset(dir).catch((e: unknown) => e);
    expect(isAuditError(error) && error.hint).toMatch(
      /train-images-idx3-ubyte.*data_batch_1\.bin.*train\.bin.*train\/<class>/,
    );
    expect((error as Error).message).toContain('data.csv');
  });

  it('a file instead of a directory, and an empty directory', async () => {
    const dir = fresh();
    mkdirSync(dir);
    const file = path.join(dir, 'x.bin');
    writeFileSync(file, 'x');
    await expectAuditError(loadDataset(file), 'DATASET_FORMAT', file);
    const empty = fresh();
    mkdirSync(empty);
    await expectAuditError(loadDataset(empty), 'DATASET_FORMAT', empty);
  });

  it('invalid options are INVALID_ARGUMENT naming the directory', async () => {
    const dir = fresh();
    writeIdx(dir, { h: 1, w: 1, labels: [0], pixels: [0] }, { h: 1, w: 1, labels: [0], pixels: [0] });
    await expectAuditError(loadDataset(dir, { maxTrain: 0 }), 'INVALID_ARGUMENT', dir);
    await expectAuditError(loadDataset(dir, { inputShape: [28, 28, 2] }), 'INVALID_ARGUMENT', dir);
    await expectAuditError(
      loadDataset(dir, { normalization: { mean: [0, 0, 0], std: [1, 1, 1] } }),
      'INVALID_ARGUMENT',
      dir,
    );
  });
});

describe("normalisation with another data set's statistics", () => {
  it('normalizeWith and opts.normalization agree with a hand computation', async () => {
    const victimDir = fresh();
    // Victim train pixels 0, 255 -> mean 0.5, std 0.5.
    writeIdx(victimDir, { h: 1, w: 2, labels: [0], pixels: [0, 255] }, { h: 1, w: 2, labels: [0], pixels: [255, 255] });
    const otherDir = fresh();
    writeIdx(
      otherDir,
      { h: 1, w: 2, labels: [0, 1], pixels: [51, 102, 153, 204] },
      { h: 1, w: 2, labels: [1], pixels: [0, 51] },
    );
    const victim = await loadDataset(victimDir);
    expect(victim.normalization.mean[0]).toBeCloseTo(0.5, 10);
    expect(victim.normalization.std[0]).toBeCloseTo(0.5, 10);

    const other = await loadDataset(otherDir);
    const renormed = normalizeWith(other, victim.normalization);
    const direct = await loadDataset(otherDir, { normalization: victim.normalization });
    const expected = [51, 102, 153, 204].map((p) => (p / 255 - 0.5) / 0.5);
    expected.forEach((v, i) => {
      expect(renormed.train.images[i]).toBeCloseTo(v, 5);
      expect(direct.train.images[i]).toBeCloseTo(v, 5);
    });
    expect(renormed.test.images[1]).toBeCloseTo((0.2 - 0.5) / 0.5, 5);
    expect(renormed.normalization).toEqual(victim.normalization);
    expect(direct.normalization).toEqual(victim.normalization);
    // The input is left alone.
    expect(other.train.images[0]).toBeCloseTo((0.2 - other.normalization.mean[0]) / other.normalization.std[0], 5);

    // A hand-built set without normalisation is taken as [0, 1] pixels.
    const plain: ImageSet = {
      images: Float32Array.from([0, 1]),
      labels: Int32Array.from([0]),
      count: 1,
      height: 1,
      width: 2,
      channels: 1,
      numClasses: 1,
    };
    expect(Array.from(normalizeWith(plain, victim.normalization).images)).toEqual([-1, 1]);
  });
});

describe('symbolic links', () => {
  it('follows linked data files', async () => {
    const { symlinkSync } = await import('node:fs');
    const real = fresh();
    const files = writeIdx(
      real,
      { h: 1, w: 1, labels: [0, 1], pixels: [0, 255] },
      { h: 1, w: 1, labels: [1], pixels: [255] },
      true,
    );
    const linked = fresh();
    mkdirSync(linked);
    for (const file of Object.values(files)) symlinkSync(file, path.join(linked, path.basename(file)));
    const d = await loadDataset(linked);
    expect(d.layout).toBe('idx');
    expect(Array.from(d.train.labels)).toEqual([0, 1]);
  });
});
