/**
 * Issue 16, defects 2, 3 and 6: malformed models and data sets are refused before anything
 * is allocated. Each case writes its small malformed input into a temp home at test time and
 * runs the bundled CLI through the harness (typed error naming the file or field, no stack
 * trace, under 2 GB peak resident memory and 60 s).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCleanRefusal, runCase, tempHome } from './harness';

const { home, dispose } = tempHome('inputs');
let model = '';

function idxImages(count: number, h: number, w: number): Buffer {
  const buf = Buffer.alloc(16 + count * h * w);
  buf.writeUInt32BE(0x00000803, 0);
  buf.writeUInt32BE(count, 4);
  buf.writeUInt32BE(h, 8);
  buf.writeUInt32BE(w, 12);
  for (let i = 16; i < buf.length; i++) buf[i] = (i * 37) % 256;
  return buf;
}

function idxLabels(labels: number[]): Buffer {
  const buf = Buffer.alloc(8 + labels.length);
  buf.writeUInt32BE(0x00000801, 0);
  buf.writeUInt32BE(labels.length, 4);
  labels.forEach((l, i) => (buf[8 + i] = l));
  return buf;
}

/** A small IDX data set of side x side grayscale images with these labels (train and test alike). */
function writeIdxSet(name: string, side: number, labels: number[]): string {
  const dir = join(home, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxImages(labels.length, side, side));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxLabels(labels));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idxImages(labels.length, side, side));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxLabels(labels));
  return dir;
}

/** An image folder with two classes of `side` x `side` images (RGB or grayscale). */
async function writeImageFolder(name: string, side: number, channels: 1 | 3): Promise<string> {
  const dir = join(home, name);
  for (const split of ['train', 'test']) {
    for (const cls of ['a', 'b']) {
      mkdirSync(join(dir, split, cls), { recursive: true });
      const raw = Buffer.alloc(side * side * channels, cls === 'a' ? 40 : 200);
      let img = sharp(raw, { raw: { width: side, height: side, channels } });
      if (channels === 1) img = img.toColourspace('b-w');
      await img.png().toFile(join(dir, split, cls, '1.png'));
    }
  }
  return dir;
}

/** A model directory whose model.json is `json` and whose one shard holds `shardBytes` bytes. */
function writeModel(name: string, json: unknown, shardBytes = 0): string {
  const dir = join(home, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), typeof json === 'string' ? json : JSON.stringify(json));
  writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.alloc(shardBytes));
  return dir;
}

/** A Sequential Keras topology: an input of `inputShape`, Flatten, Dense(units). */
function denseTopology(inputShape: number[], units: number): Record<string, unknown> {
  return {
    class_name: 'Sequential',
    config: {
      name: 'seq',
      layers: [
        { class_name: 'Flatten', config: { name: 'flatten', batch_input_shape: [null, ...inputShape] } },
        {
          class_name: 'Dense',
          config: { name: 'dense', units, activation: 'softmax', use_bias: true, kernel_initializer: 'glorot_uniform' },
        },
      ],
    },
    keras_version: 'tfjs-layers 4.0.0',
    backend: 'tensor_flow.js',
  };
}

function manifest(weights: Array<{ name: string; shape: number[] }>) {
  return [{ paths: ['group1-shard1of1.bin'], weights: weights.map((w) => ({ ...w, dtype: 'float32' })) }];
}

const idx8 = () => join(home, 'idx8');

beforeAll(() => {
  writeIdxSet('idx8', 8, [0, 1, 0, 1, 0, 1, 0, 1]);
  const out = join(home, 'model8');
  const trained = runCase(
    [
      'train',
      '--data',
      idx8(),
      '--iterations',
      '1',
      '--batch',
      '4',
      '--blocks',
      '1',
      '--width',
      '2',
      '--hidden',
      '4',
      '--out',
      out,
    ],
    home,
  );
  expect(trained.status, trained.stderr + trained.stdout).toBe(0);
  model = out;
}, 60_000);
afterAll(() => dispose());

describe('model.json is validated before anything is built or read (defect 2)', () => {
  it('a 7 KB model.json whose topology makes an 8 GB kernel is refused before building', () => {
    // Flatten of 64x64x4 = 16384 inputs into 131072 units: 2^31 parameters; the manifest says 16384x2.
    const dir = writeModel(
      'huge-kernel',
      {
        modelTopology: denseTopology([64, 64, 4], 131072),
        weightsManifest: manifest([
          { name: 'dense/kernel', shape: [16384, 2] },
          { name: 'dense/bias', shape: [2] },
        ]),
        format: 'layers-model',
      },
      (16384 * 2 + 2) * 4,
    );
    const run = runCase(['evaluate', '--model', dir, '--data', idx8()], home);
    expectCleanRefusal(run, 'MODEL_SHAPE', /model\.json.*|dense/);
    expect(run.json.error).toMatchObject({ message: expect.stringMatching(/dense\/kernel/) });
  });

  it('a weight shape claiming 160 GB is refused with the weight named, no RangeError', () => {
    const dir = writeModel('huge-claim', {
      modelTopology: denseTopology([200000], 200000),
      weightsManifest: manifest([
        { name: 'dense/kernel', shape: [200000, 200000] },
        { name: 'dense/bias', shape: [200000] },
      ]),
      format: 'layers-model',
    });
    const run = runCase(['evaluate', '--model', dir, '--data', idx8()], home);
    expectCleanRefusal(run, 'MODEL_WEIGHTS', /dense\/kernel/);
  });

  it('a 200k-deep nested model.json is refused without overflowing the stack', () => {
    const depth = 200_000;
    const deep = `{"modelTopology":${'['.repeat(depth)}${']'.repeat(depth)},"weightsManifest":[]}`;
    const dir = writeModel('deep', deep);
    const run = runCase(['evaluate', '--model', dir, '--data', idx8()], home);
    expectCleanRefusal(run, 'MODEL_FORMAT', /nest/);
  });

  it('an input larger than 4096x4096x4 is refused as the input shape', () => {
    const dir = writeModel('huge-input', {
      modelTopology: denseTopology([8192, 8192, 3], 2),
      weightsManifest: manifest([
        { name: 'dense/kernel', shape: [8192 * 8192 * 3, 2] },
        { name: 'dense/bias', shape: [2] },
      ]),
      format: 'layers-model',
    });
    const run = runCase(['evaluate', '--model', dir, '--data', idx8()], home);
    expectCleanRefusal(run, 'MODEL_SHAPE', /input/);
  });
});

describe('image folders: a size cap and a decompression-bomb guard (defect 3)', () => {
  it('an 8000x8000 image in an image folder is refused naming the file', async () => {
    const dir = await writeImageFolder('big-image', 8, 1);
    await sharp({ create: { width: 8000, height: 8000, channels: 3, background: { r: 9, g: 9, b: 9 } } })
      .png({ compressionLevel: 9 })
      .toFile(join(dir, 'train', 'a', '0-big.png'));
    const run = runCase(['evaluate', '--model', model, '--data', dir], home);
    expectCleanRefusal(run, 'DATASET_FORMAT', /0-big\.png/);
  });

  it('a PNG whose header claims 100000x100000 pixels is refused before decoding', async () => {
    const dir = await writeImageFolder('bomb', 8, 1);
    const png = await sharp(Buffer.alloc(64, 7), { raw: { width: 8, height: 8, channels: 1 } })
      .png()
      .toBuffer();
    // IHDR width and height sit at bytes 16..23, its CRC at 29..32: a well-formed header that lies.
    png.writeUInt32BE(100000, 16);
    png.writeUInt32BE(100000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    writeFileSync(join(dir, 'train', 'b', '0-bomb.png'), png);
    const run = runCase(['evaluate', '--model', model, '--data', dir], home);
    expectCleanRefusal(run, 'DATASET_FORMAT', /0-bomb\.png/);
  });
});

describe('a data set must fit the model; labels, classes and iterations are bounded (defect 6)', () => {
  it('a 3-channel image folder on a 1-channel model is refused saying how they differ', async () => {
    const dir = await writeImageFolder('rgb12', 12, 3);
    const run = runCase(['evaluate', '--model', model, '--data', dir], home);
    expectCleanRefusal(run, 'DATASET_MISMATCH', /3 channels.*1/);
  });

  it('a 16x16 IDX set on an 8x8 model is refused saying how they differ', () => {
    const dir = writeIdxSet('idx16', 16, [0, 1, 0, 1]);
    const run = runCase(['evaluate', '--model', model, '--data', dir], home);
    expectCleanRefusal(run, 'DATASET_MISMATCH', /16x16.*8x8/);
  });

  it('one stray label 200 is refused instead of training a 201-class model', () => {
    const dir = writeIdxSet('stray', 8, [0, 1, 0, 1, 0, 1, 0, 200]);
    const run = runCase(['train', '--data', dir, '--iterations', '1', '--out', join(home, 'stray-model')], home);
    expectCleanRefusal(run, 'DATASET_CORRUPT', /train-labels-idx1-ubyte/);
    expect(String((run.json.error as { message?: string }).message)).toMatch(/200/);
  });

  it('a data set with one class is refused with a typed error', () => {
    const dir = writeIdxSet('one-class', 8, [0, 0, 0, 0]);
    const run = runCase(['train', '--data', dir, '--iterations', '1', '--out', join(home, 'one-model')], home);
    expectCleanRefusal(run, 'DATASET_FORMAT', /one class/);
  });

  it('1e12 training iterations are refused', () => {
    const run = runCase(['train', '--data', idx8(), '--iterations', '1e12', '--out', join(home, 'long')], home);
    expectCleanRefusal(run, 'INVALID_ARGUMENT', /iterations/i);
  });

  it('1e12 attack iterations are refused', () => {
    const run = runCase(
      [
        'attack',
        '--name',
        'finetune',
        '--victim',
        model,
        '--substitute',
        idx8(),
        '--iterations',
        '1e12',
        '--out',
        join(home, 'surrogate'),
      ],
      home,
    );
    expectCleanRefusal(run, 'INVALID_ARGUMENT', /iterations/i);
  });
});
