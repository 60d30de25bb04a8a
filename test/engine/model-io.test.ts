import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditError, isAuditError, type AuditErrorCode } from '../../src-main/engine/errors';
import { loadModel, saveModel, type ModelMetaInput } from '../../src-main/engine/models/io';
import { appendLineage, MODEL_META_FILE, modelMetaProblems, type ModelMeta } from '../../src-shared/domain/model';

let root: string;
let goodDir: string; // saved with the default (single) shard
let multiDir: string; // same model, 512-byte shards
let goodMeta: ModelMeta;
let x: tf.Tensor;
let expected: number[];

const META: ModelMetaInput = {
  arch: 'cnn',
  archConfig: { width: 4 },
  blocks: ['block1', 'block2'],
  defaultAttackBlock: 'block1',
  defaultDeepJudgeBlock: 'block2',
  lineage: 'train(cnn,synthetic)',
  testAccuracy: 0.75,
  dataset: 'synthetic',
  seed: 1,
  createdAt: '2025-01-01T00:00:00.000Z',
  normalization: { mean: [0.25], std: [0.5] },
  training: { iterations: 10, batchSize: 4, optimizer: 'sgd' },
};

/** Small conv classifier, 8x8x1 -> 3 classes, with non-trivial batch-norm statistics. */
function tinyModel(seed = 1): tf.Sequential {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed * 10 + s });
  const m = tf.sequential({ name: 'tiny' });
  m.add(
    tf.layers.conv2d({
      name: 'block1',
      inputShape: [8, 8, 1],
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(1),
    }),
  );
  m.add(tf.layers.batchNormalization({ name: 'bn1' }));
  m.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  m.add(
    tf.layers.conv2d({
      name: 'block2',
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(2),
    }),
  );
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ name: 'head', units: 3, kernelInitializer: init(3), biasInitializer: 'ones' }));
  const bn = m.getLayer('bn1');
  const w = bn.getWeights().map((t, i) => tf.randomUniform(t.shape, 0.5, 1.5, 'float32', seed * 100 + i));
  bn.setWeights(w);
  tf.dispose(w);
  return m;
}

function predict(model: tf.LayersModel): number[] {
  return tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
}

async function tempDir(name: string): Promise<string> {
  return fsp.mkdtemp(path.join(root, `${name}-`));
}

async function copyOf(src: string, name: string): Promise<string> {
  const dir = path.join(await tempDir(name), 'model');
  await fsp.cp(src, dir, { recursive: true });
  return dir;
}

async function readJson(p: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fsp.readFile(p, 'utf8')) as Record<string, unknown>;
}

async function editJson(p: string, edit: (j: Record<string, unknown>) => void): Promise<void> {
  const j = await readJson(p);
  edit(j);
  await fsp.writeFile(p, JSON.stringify(j));
}

type Spec = tf.io.WeightsManifestEntry;
const manifestOf = (j: Record<string, unknown>) => j.weightsManifest as tf.io.WeightsManifestConfig;

/** Byte offset of a weight in the (single-group) weight data. */
function offsetOf(specs: Spec[], name: string): number {
  let off = 0;
  for (const s of specs) {
    if (s.name === name) return off;
    off += s.shape.reduce((a, b) => a * b, 1) * 4;
  }
  throw new Error(`no weight ${name}`);
}

/**
 * Writes a model the way tensorflowjs_converter does for a Keras model: no sidecar, the
 * topology under model_config, one shard. `transform` may rewrite specs and bytes.
 */
async function writeConverted(
  dir: string,
  model: tf.LayersModel,
  transform?: (specs: Spec[], data: Float32Array) => { specs: Spec[]; data: Uint8Array },
): Promise<void> {
  let art: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => ((art = a), { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) })),
  );
  const a = art as tf.io.ModelArtifacts;
  const raw = new Float32Array(a.weightData as ArrayBuffer);
  const out = transform
    ? transform(a.weightSpecs ?? [], raw)
    : { specs: a.weightSpecs ?? [], data: new Uint8Array(raw.buffer) };
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(
    path.join(dir, 'model.json'),
    JSON.stringify({
      format: 'layers-model',
      generatedBy: 'keras v2.15.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: a.modelTopology },
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: out.specs }],
    }),
  );
  await fsp.writeFile(path.join(dir, 'group1-shard1of1.bin'), out.data);
}

async function auditError(p: Promise<unknown>, code: AuditErrorCode, fileInMessage: string): Promise<AuditError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isAuditError(e), `expected an AuditError, got ${String(e)}`).toBe(true);
  const ae = e as AuditError;
  expect(ae.code, ae.message).toBe(code);
  expect(ae.message).toContain(fileInMessage);
  expect(ae.hint.length).toBeGreaterThan(10);
  return ae;
}

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'oa-model-io-'));
  x = tf.randomNormal([4, 8, 8, 1], 0, 1, 'float32', 7);
  const model = tinyModel();
  expected = predict(model);
  goodDir = path.join(root, 'good');
  multiDir = path.join(root, 'multi');
  goodMeta = await saveModel(model, goodDir, META);
  await saveModel(model, multiDir, META, { shardSizeBytes: 512 });
  model.dispose();
});

afterAll(async () => {
  x?.dispose();
  if (root) await fsp.rm(root, { recursive: true, force: true });
});

describe('ModelMeta helpers', () => {
  it('appends lineage steps', () => {
    expect(appendLineage('train(cnn,fashion-mnist)', 'finetune(0.5)')).toBe('train(cnn,fashion-mnist)-finetune(0.5)');
    expect(appendLineage('', 'import(x)')).toBe('import(x)');
    expect(appendLineage('a', '  ')).toBe('a');
  });

  it('flags structural problems in a sidecar', () => {
    expect(modelMetaProblems(goodMeta)).toEqual([]);
    expect(modelMetaProblems({ ...goodMeta, defaultAttackBlock: 'nope' })).toEqual([expect.stringContaining("'nope'")]);
    expect(modelMetaProblems({ ...goodMeta, formatVersion: 2 }).join()).toContain('newer');
    expect(modelMetaProblems([])).toHaveLength(1);
    expect(modelMetaProblems({ ...goodMeta, normalization: { mean: [0], std: [0] } }).join()).toContain('std');
  });
});

describe('saveModel / loadModel', () => {
  it('round-trips a conv classifier with batch norm: predictions exactly, meta, files', async () => {
    expect(goodMeta).toMatchObject({
      formatVersion: 1,
      arch: 'cnn',
      inputShape: [8, 8, 1],
      numClasses: 3,
      blocks: ['block1', 'block2'],
      lineage: 'train(cnn,synthetic)',
      backend: 'cpu',
      createdAt: META.createdAt,
      normalization: { mean: [0.25], std: [0.5] },
      training: { iterations: 10, batchSize: 4, optimizer: 'sgd' },
    });
    expect(goodMeta.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect((await fsp.readdir(goodDir)).sort()).toEqual(['group1-shard1of1.bin', 'model.json', MODEL_META_FILE]);
    expect(await readJson(path.join(goodDir, MODEL_META_FILE))).toEqual(goodMeta);

    const { model, meta } = await loadModel(goodDir);
    expect(meta).toEqual(goodMeta);
    expect(model.layers.map((l) => l.name)).toEqual(['block1', 'bn1', 'pool1', 'block2', 'flat', 'head']);
    expect(predict(model)).toEqual(expected);
    model.dispose();
  });

  it('loads from the model.json path directly', async () => {
    const { model, meta } = await loadModel(path.join(goodDir, 'model.json'));
    expect(meta.contentHash).toBe(goodMeta.contentHash);
    expect(predict(model)).toEqual(expected);
    model.dispose();
  });

  it('loads multi-shard weights; the hash does not depend on sharding', async () => {
    const shards = (await fsp.readdir(multiDir)).filter((f) => f.endsWith('.bin')).sort();
    expect(shards.length).toBeGreaterThan(2);
    expect(shards[0]).toBe(`group1-shard1of${shards.length}.bin`);
    const { model, meta } = await loadModel(multiDir);
    expect(meta.contentHash).toBe(goodMeta.contentHash);
    expect(predict(model)).toEqual(expected);
    model.dispose();
  });

  it('keeps contentHash stable across save, load, save', async () => {
    const { model, meta } = await loadModel(goodDir);
    const again = await saveModel(model, path.join(await tempDir('resave'), 'm'), {
      ...meta,
      lineage: appendLineage(meta.lineage, 'copy'),
    });
    expect(again.contentHash).toBe(goodMeta.contentHash);
    model.dispose();
    const other = tinyModel(2);
    const different = await saveModel(other, path.join(await tempDir('other'), 'm'), META);
    expect(different.contentHash).not.toBe(goodMeta.contentHash);
    other.dispose();
  });

  it('applies blocks and splitLayer overrides to a sidecar model', async () => {
    const { model, meta } = await loadModel(goodDir, { splitLayer: 'pool1' });
    expect(meta.blocks).toEqual(['block1', 'pool1', 'block2']);
    expect(meta.defaultAttackBlock).toBe('pool1');
    model.dispose();
    await auditError(loadModel(goodDir, { blocks: ['block1', 'nope'] }), 'UNKNOWN_BLOCK', 'model.json');
  });

  it('refuses to save a model that is not a classifier or names a missing block', async () => {
    const reg = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 1, name: 'out' })],
    });
    await auditError(
      saveModel(reg, path.join(root, 'never'), {
        ...META,
        blocks: ['out'],
        defaultAttackBlock: 'out',
        defaultDeepJudgeBlock: 'out',
      }),
      'MODEL_NOT_CLASSIFIER',
      'never',
    );
    reg.dispose();
    const m = tinyModel();
    const e = await auditError(
      saveModel(m, path.join(root, 'never'), { ...META, blocks: ['block9'] }),
      'UNKNOWN_BLOCK',
      'never',
    );
    expect(e.hint).toContain('block1');
    m.dispose();
    await expect(fsp.stat(path.join(root, 'never'))).rejects.toThrow();
  });
});

describe('import without sidecar', () => {
  it('loads a converter-style model as imported, split by layer name', async () => {
    const dir = path.join(await tempDir('imp'), 'keras-cnn');
    const m = tinyModel();
    await writeConverted(dir, m);
    m.dispose();
    const { model, meta } = await loadModel(dir, { splitLayer: 'block2' });
    expect(meta).toMatchObject({
      formatVersion: 1,
      arch: 'imported',
      archConfig: {},
      inputShape: [8, 8, 1],
      numClasses: 3,
      blocks: ['block2'],
      defaultAttackBlock: 'block2',
      defaultDeepJudgeBlock: 'block2',
      lineage: 'import(keras-cnn)',
      contentHash: goodMeta.contentHash,
    });
    expect(modelMetaProblems(meta)).toEqual([]);
    expect(predict(model)).toEqual(expected);
    model.dispose();

    const guessed = await loadModel(dir);
    expect(guessed.meta.blocks).toEqual(['flat']);
    expect(guessed.meta.notes).toContain('flat');
    guessed.model.dispose();

    const e = await auditError(loadModel(dir, { splitLayer: 'block7' }), 'UNKNOWN_BLOCK', 'model.json');
    expect(e.message).toContain('block7');
    expect(e.hint).toContain('block1, bn1, pool1, block2, flat, head');
  });

  it('loads a Keras 2 functional model.json as tensorflowjs_converter writes it', async () => {
    const init = { class_name: 'GlorotUniform', config: { seed: null } };
    const zeros = { class_name: 'Zeros', config: {} };
    const ones = { class_name: 'Ones', config: {} };
    const layers = [
      {
        class_name: 'InputLayer',
        config: { batch_input_shape: [null, 6, 6, 1], dtype: 'float32', sparse: false, ragged: false, name: 'input_1' },
        name: 'input_1',
        inbound_nodes: [],
      },
      {
        class_name: 'Conv2D',
        config: {
          name: 'conv2d',
          trainable: true,
          dtype: 'float32',
          filters: 2,
          kernel_size: [3, 3],
          strides: [1, 1],
          padding: 'valid',
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          groups: 1,
          activation: 'relu',
          use_bias: true,
          kernel_initializer: init,
          bias_initializer: zeros,
          kernel_regularizer: null,
          bias_regularizer: null,
          activity_regularizer: null,
          kernel_constraint: null,
          bias_constraint: null,
        },
        name: 'conv2d',
        inbound_nodes: [[['input_1', 0, 0, {}]]],
      },
      {
        class_name: 'BatchNormalization',
        config: {
          name: 'batch_normalization',
          trainable: true,
          dtype: 'float32',
          axis: [3],
          momentum: 0.99,
          epsilon: 0.001,
          center: true,
          scale: true,
          beta_initializer: zeros,
          gamma_initializer: ones,
          moving_mean_initializer: zeros,
          moving_variance_initializer: ones,
          beta_regularizer: null,
          gamma_regularizer: null,
          beta_constraint: null,
          gamma_constraint: null,
        },
        name: 'batch_normalization',
        inbound_nodes: [[['conv2d', 0, 0, {}]]],
      },
      {
        class_name: 'Flatten',
        config: { name: 'flatten', trainable: true, dtype: 'float32', data_format: 'channels_last' },
        name: 'flatten',
        inbound_nodes: [[['batch_normalization', 0, 0, {}]]],
      },
      {
        class_name: 'Dense',
        config: {
          name: 'dense',
          trainable: true,
          dtype: 'float32',
          units: 3,
          activation: 'softmax',
          use_bias: true,
          kernel_initializer: init,
          bias_initializer: zeros,
          kernel_regularizer: null,
          bias_regularizer: null,
          activity_regularizer: null,
          kernel_constraint: null,
          bias_constraint: null,
        },
        name: 'dense',
        inbound_nodes: [[['flatten', 0, 0, {}]]],
      },
    ];
    const specs: Spec[] = [
      { name: 'batch_normalization/gamma', shape: [2], dtype: 'float32' },
      { name: 'batch_normalization/beta', shape: [2], dtype: 'float32' },
      { name: 'batch_normalization/moving_mean', shape: [2], dtype: 'float32' },
      { name: 'batch_normalization/moving_variance', shape: [2], dtype: 'float32' },
      { name: 'conv2d/kernel', shape: [3, 3, 1, 2], dtype: 'float32' },
      { name: 'conv2d/bias', shape: [2], dtype: 'float32' },
      { name: 'dense/kernel', shape: [32, 3], dtype: 'float32' },
      { name: 'dense/bias', shape: [3], dtype: 'float32' },
    ];
    const n = specs.reduce((a, w) => a + w.shape.reduce((b, c) => b * c, 1), 0);
    const values = Float32Array.from({ length: n }, (_, i) => 0.5 + ((i * 37) % 11) / 20);
    const dir = path.join(await tempDir('keras2'), 'keras_model');
    await fsp.mkdir(dir);
    await fsp.writeFile(
      path.join(dir, 'model.json'),
      JSON.stringify({
        format: 'layers-model',
        generatedBy: 'keras v2.15.0',
        convertedBy: 'TensorFlow.js Converter v4.22.0',
        modelTopology: {
          keras_version: '2.15.0',
          backend: 'tensorflow',
          model_config: {
            class_name: 'Functional',
            config: { name: 'model', layers, input_layers: [['input_1', 0, 0]], output_layers: [['dense', 0, 0]] },
          },
          training_config: { loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] },
        },
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: specs }],
      }),
    );
    await fsp.writeFile(path.join(dir, 'group1-shard1of1.bin'), new Uint8Array(values.buffer));
    const { model, meta } = await loadModel(dir, { splitLayer: 'batch_normalization' });
    expect(meta).toMatchObject({
      arch: 'imported',
      inputShape: [6, 6, 1],
      numClasses: 3,
      lineage: 'import(keras_model)',
      blocks: ['batch_normalization'],
    });
    const y = tf.tidy(() => Array.from((model.predict(tf.ones([2, 6, 6, 1])) as tf.Tensor).dataSync()));
    expect(y).toHaveLength(6);
    expect(y[0] + y[1] + y[2]).toBeCloseTo(1, 5);
    model.dispose();
  });

  it('rejects a split layer inside a residual branch and lists the split points', async () => {
    const inp = tf.input({ shape: [8, 8, 2], name: 'img' });
    const stem = tf.layers
      .conv2d({ name: 'stem', filters: 2, kernelSize: 3, padding: 'same' })
      .apply(inp) as tf.SymbolicTensor;
    const branch = tf.layers
      .conv2d({ name: 'branch', filters: 2, kernelSize: 3, padding: 'same' })
      .apply(stem) as tf.SymbolicTensor;
    const merged = tf.layers.add({ name: 'merge' }).apply([stem, branch]) as tf.SymbolicTensor;
    const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(merged) as tf.SymbolicTensor;
    const out = tf.layers.dense({ name: 'out', units: 2 }).apply(gap) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: out });
    const dir = path.join(await tempDir('res'), 'resnet');
    await writeConverted(dir, m);
    m.dispose();
    const e = await auditError(loadModel(dir, { splitLayer: 'branch' }), 'INVALID_ARGUMENT', 'model.json');
    expect(e.hint).toContain('stem, merge, gap, out');
    const ok = await loadModel(dir, { splitLayer: 'merge' });
    expect(ok.meta.blocks).toEqual(['merge']);
    ok.model.dispose();
  });

  it('loads uint8- and float16-quantised weights', async () => {
    const m = tinyModel();
    const dir8 = path.join(await tempDir('q8'), 'm');
    await writeConverted(dir8, m, (specs, data) => {
      const bytes: number[] = [];
      const out: Spec[] = [];
      let off = 0;
      for (const s of specs) {
        const n = s.shape.reduce((a, b) => a * b, 1);
        const v = data.subarray(off, off + n);
        off += n;
        const min = Math.min(...v);
        const scale = (Math.max(...v) - min) / 255 || 1;
        for (const f of v) bytes.push(Math.round((f - min) / scale));
        out.push({ ...s, quantization: { dtype: 'uint8', scale, min } });
      }
      return { specs: out, data: Uint8Array.from(bytes) };
    });
    const dir16 = path.join(await tempDir('q16'), 'm');
    await writeConverted(dir16, m, (specs, data) => {
      const h = new Uint16Array(data.length);
      data.forEach((f, i) => (h[i] = toFloat16(f)));
      return {
        specs: specs.map((s) => ({ ...s, quantization: { dtype: 'float16' as const } })),
        data: new Uint8Array(h.buffer),
      };
    });
    m.dispose();
    for (const [dir, tol] of [
      [dir8, 0.15],
      [dir16, 0.01],
    ] as const) {
      const { model } = await loadModel(dir, { splitLayer: 'block2' });
      const got = predict(model);
      got.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(tol));
      model.dispose();
    }
    // a float16 NaN is caught too
    const bin = path.join(dir16, 'group1-shard1of1.bin');
    const buf = await fsp.readFile(bin);
    buf.writeUInt16LE(0x7e00, 2);
    await fsp.writeFile(bin, buf);
    const e = await auditError(loadModel(dir16), 'MODEL_NOT_FINITE', 'model.json');
    expect(e.message).toContain('block1/kernel');
  });
});

describe('bad inputs', () => {
  it('missing directory or model.json: MODEL_NOT_FOUND', async () => {
    await auditError(loadModel(path.join(root, 'does-not-exist')), 'MODEL_NOT_FOUND', 'does-not-exist');
    const empty = await tempDir('empty');
    await auditError(loadModel(empty), 'MODEL_NOT_FOUND', path.join(empty, 'model.json'));
    await auditError(loadModel(path.join(empty, 'model.json')), 'MODEL_NOT_FOUND', 'model.json');
  });

  it('invalid JSON, missing modelTopology / weightsManifest, graph model: MODEL_FORMAT', async () => {
    const dir = await copyOf(goodDir, 'json');
    const mj = path.join(dir, 'model.json');
    const good = await fsp.readFile(mj, 'utf8');
    await fsp.writeFile(mj, good.slice(0, good.length / 2));
    await auditError(loadModel(dir), 'MODEL_FORMAT', mj);

    await fsp.writeFile(mj, good);
    await editJson(mj, (j) => delete j.modelTopology);
    expect((await auditError(loadModel(dir), 'MODEL_FORMAT', mj)).message).toContain('modelTopology');

    await fsp.writeFile(mj, good);
    await editJson(mj, (j) => delete j.weightsManifest);
    expect((await auditError(loadModel(dir), 'MODEL_FORMAT', mj)).message).toContain('weightsManifest');

    await fsp.writeFile(
      mj,
      JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }),
    );
    expect((await auditError(loadModel(dir), 'MODEL_FORMAT', mj)).hint).toContain('Layers');

    await fsp.writeFile(mj, good);
    await editJson(mj, (j) => (manifestOf(j)[0].paths = ['../../etc/passwd']));
    await auditError(loadModel(dir), 'MODEL_FORMAT', mj);
  });

  it('unknown layer class: MODEL_UNKNOWN_LAYER', async () => {
    const dir = await copyOf(goodDir, 'unknown');
    const mj = path.join(dir, 'model.json');
    await editJson(mj, (j) => {
      const layers = (
        (j.modelTopology as Record<string, unknown>).config as {
          layers: Array<{ class_name: string; config: { name: string } }>;
        }
      ).layers;
      const pool = layers.find((l) => l.config.name === 'pool1');
      if (!pool) throw new Error('pool1 not in topology');
      pool.class_name = 'MyCustomPool';
    });
    const e = await auditError(loadModel(dir), 'MODEL_UNKNOWN_LAYER', mj);
    expect(e.message).toContain('MyCustomPool');
    expect(e.hint).toContain('registerClass');
  });

  it('missing or truncated weight shard: MODEL_WEIGHTS with expected vs actual bytes', async () => {
    const dir = await copyOf(multiDir, 'shards');
    const shards = (await fsp.readdir(dir)).filter((f) => f.endsWith('.bin')).sort();
    const second = path.join(dir, shards[1]);
    const bytes = await fsp.readFile(second);
    await fsp.writeFile(second, bytes.subarray(0, 100));
    const e = await auditError(loadModel(dir), 'MODEL_WEIGHTS', second);
    expect(e.message).toMatch(/needs \d+ bytes, its shard file\(s\) hold \d+/);
    await fsp.rm(second);
    await auditError(loadModel(dir), 'MODEL_WEIGHTS', second);

    const one = await copyOf(goodDir, 'long');
    const bin = path.join(one, 'group1-shard1of1.bin');
    await fsp.appendFile(bin, Buffer.alloc(8));
    await auditError(loadModel(one), 'MODEL_WEIGHTS', bin);
  });

  it('weight shapes not matching the topology: MODEL_SHAPE naming the weight', async () => {
    const dir = await copyOf(goodDir, 'shape');
    const mj = path.join(dir, 'model.json');
    await editJson(mj, (j) => {
      const spec = manifestOf(j)[0].weights.find((w) => w.name === 'block2/kernel');
      if (!spec) throw new Error('no block2/kernel');
      spec.shape = [3, 3, 6, 4]; // same byte count, wrong layout
    });
    const e = await auditError(loadModel(dir), 'MODEL_SHAPE', mj);
    expect(e.message).toContain('block2/kernel');
    expect(e.message).toContain('[3,3,4,6]');
  });

  it('NaN or Inf in a weight: MODEL_NOT_FINITE naming the weight', async () => {
    const dir = await copyOf(goodDir, 'nan');
    const mj = path.join(dir, 'model.json');
    const specs = manifestOf(await readJson(mj))[0].weights;
    const bin = path.join(dir, 'group1-shard1of1.bin');
    const buf = await fsp.readFile(bin);
    buf.writeFloatLE(Number.POSITIVE_INFINITY, offsetOf(specs, 'bn1/moving_variance') + 4);
    await fsp.writeFile(bin, buf);
    const e = await auditError(loadModel(dir), 'MODEL_NOT_FINITE', mj);
    expect(e.message).toContain("'bn1/moving_variance'");
    expect(e.message).toContain('element 1');
  });

  it('not a classifier: MODEL_NOT_CLASSIFIER', async () => {
    const reg = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, name: 'c' }),
        tf.layers.flatten({ name: 'f' }),
        tf.layers.dense({ units: 1, name: 'out' }),
      ],
    });
    const d1 = path.join(await tempDir('reg'), 'm');
    await writeConverted(d1, reg);
    reg.dispose();
    expect((await auditError(loadModel(d1), 'MODEL_NOT_CLASSIFIER', 'model.json')).message).toContain('[null, 1]');

    const tab = tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 3, name: 'out' })] });
    const d2 = path.join(await tempDir('tab'), 'm');
    await writeConverted(d2, tab);
    tab.dispose();
    expect((await auditError(loadModel(d2), 'MODEL_NOT_CLASSIFIER', 'model.json')).message).toContain('image');
  });

  it('sidecar hash disagreeing with the files, or a broken sidecar: MODEL_FORMAT', async () => {
    const dir = await copyOf(goodDir, 'hash');
    const mj = path.join(dir, 'model.json');
    const specs = manifestOf(await readJson(mj))[0].weights;
    const bin = path.join(dir, 'group1-shard1of1.bin');
    const buf = await fsp.readFile(bin);
    buf.writeFloatLE(0.123, offsetOf(specs, 'head/kernel'));
    await fsp.writeFile(bin, buf);
    const sidecar = path.join(dir, MODEL_META_FILE);
    const e = await auditError(loadModel(dir), 'MODEL_FORMAT', sidecar);
    expect(e.message).toContain('contentHash');
    expect(e.hint).toMatch(/Re-save/);

    await fsp.writeFile(sidecar, '{"formatVersion": 1,');
    await auditError(loadModel(dir), 'MODEL_FORMAT', sidecar);
    await fsp.writeFile(sidecar, JSON.stringify({ ...goodMeta, blocks: [] }));
    await auditError(loadModel(dir), 'MODEL_FORMAT', sidecar);

    // Without the sidecar the same files load as an import.
    await fsp.rm(sidecar);
    const { model, meta } = await loadModel(dir, { splitLayer: 'block1' });
    expect(meta.arch).toBe('imported');
    model.dispose();
  });
});

describe('atomic save', () => {
  it('a write failing midway leaves the previous model intact and no temp files', async () => {
    const parent = await tempDir('atomic');
    const dir = path.join(parent, 'model');
    const a = tinyModel(1);
    const metaA = await saveModel(a, dir, META, { shardSizeBytes: 512 });
    a.dispose();
    await fsp.writeFile(path.join(dir, 'notes.txt'), 'keep me');

    const b = tinyModel(3);
    let calls = 0;
    const failing = async (p: string, data: Uint8Array) => {
      if (++calls === 2) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      await fsp.writeFile(p, data);
    };
    const e = await auditError(saveModel(b, dir, META, { writeFile: failing }), 'MODEL_WRITE', dir);
    expect(e.message).toContain('ENOSPC');
    expect(e.hint).toContain('unchanged');
    expect(await fsp.readdir(parent)).toEqual(['model']);
    const before = await loadModel(dir);
    expect(before.meta.contentHash).toBe(metaA.contentHash);
    expect(predict(before.model)).toEqual(expected);
    before.model.dispose();

    // A successful save replaces the model (old shards gone) and keeps unrelated files.
    const metaB = await saveModel(b, dir, { ...META, lineage: 'train(cnn,other)' });
    b.dispose();
    expect((await fsp.readdir(dir)).sort()).toEqual([
      'group1-shard1of1.bin',
      'model.json',
      'notes.txt',
      MODEL_META_FILE,
    ]);
    expect(await fsp.readdir(parent)).toEqual(['model']);
    const after = await loadModel(dir);
    expect(after.meta.contentHash).toBe(metaB.contentHash);
    expect(after.meta.lineage).toBe('train(cnn,other)');
    expect(predict(after.model)).not.toEqual(expected);
    after.model.dispose();
  });

  it('a save interrupted between the renames points to the backup', async () => {
    const parent = await tempDir('crash');
    const dir = path.join(parent, 'model');
    await fsp.cp(goodDir, path.join(parent, '.model.old-99999-abcd'), { recursive: true });
    const e = await auditError(loadModel(dir), 'MODEL_NOT_FOUND', dir);
    expect(e.hint).toContain('.model.old-99999-abcd');
  });
});

/** float32 -> IEEE half bits (round to nearest, flush subnormals to zero; enough for weights). */
function toFloat16(f: number): number {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, f);
  const x = b.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  const h = sign | (exp << 10) | (mant >> 13);
  return mant & 0x1000 ? h + 1 : h;
}
