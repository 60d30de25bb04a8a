/** Image folders' size rule (issue 16): the cap, the majority size, the model's size and channels. */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src-main/engine/datasets';
import { MAX_IMAGE_SIDE } from '../../../src-main/engine/datasets/image-folder';
import { expectAuditError, makeTempDir, writeImage } from './fixtures';

const { dir: root, cleanup } = makeTempDir('oa-size-rule-');
afterAll(cleanup);

async function folder(name: string, images: Array<[string, string, number, number]>): Promise<string> {
  const dir = path.join(root, name);
  for (const [split, rel, w, h] of images) {
    await writeImage(path.join(dir, split, rel), w, h, 1, new Uint8Array(w * h).fill(90));
  }
  return dir;
}

describe('image-folder size rule', () => {
  it('sizes the set by its most common image size, not the first image', async () => {
    const dir = await folder('majority', [
      ['train', 'a/0.png', 20, 10],
      ['train', 'a/1.png', 8, 8],
      ['train', 'b/1.png', 8, 8],
      ['test', 'a/1.png', 8, 8],
      ['test', 'b/1.png', 8, 8],
    ]);
    const data = await loadDataset(dir);
    expect([data.train.height, data.train.width, data.train.channels]).toEqual([8, 8, 1]);
    expect(data.train.count).toBe(3);
  });

  it('refuses an image above the cap, naming it, with or without a model size', async () => {
    const big = MAX_IMAGE_SIDE + 1;
    const dir = await folder('cap', [
      ['train', 'a/1.png', 8, 8],
      ['train', 'b/1.png', 8, 8],
      ['test', 'a/1.png', 8, 8],
      ['test', 'b/big.png', big, 4],
    ]);
    const file = path.join(dir, 'test', 'b', 'big.png');
    await expectAuditError(loadDataset(dir), 'DATASET_FORMAT', file);
    await expectAuditError(loadDataset(dir, { inputShape: [8, 8, 1] }), 'DATASET_FORMAT', file);
  });

  it('resizes to the model it must fit, and refuses other channels or classes', async () => {
    const dir = await folder('fit', [
      ['train', 'a/1.png', 12, 12],
      ['train', 'b/1.png', 12, 12],
      ['test', 'a/1.png', 12, 12],
      ['test', 'b/1.png', 12, 12],
    ]);
    const data = await loadDataset(dir, { fit: { inputShape: [8, 8, 1], numClasses: 2 } });
    expect([data.test.height, data.test.width]).toEqual([8, 8]);
    await expect(loadDataset(dir, { fit: { inputShape: [8, 8, 3], numClasses: 2 } })).rejects.toMatchObject({
      code: 'DATASET_MISMATCH',
      message: expect.stringMatching(/1 channel, the model takes 3/),
    });
    await expect(loadDataset(dir, { fit: { inputShape: [8, 8, 1], numClasses: 10 } })).rejects.toMatchObject({
      code: 'DATASET_MISMATCH',
      message: expect.stringMatching(/2 classes, the model 10/),
    });
  });
});
