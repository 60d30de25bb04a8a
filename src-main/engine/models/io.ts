/**
 * Saving and loading TF.js Layers models from file paths in Node, without tfjs-node.
 *
 * On disk a model is a directory:
 *   model.json               { modelTopology, weightsManifest, format, generatedBy, ... }
 *   group1-shard1of2.bin ... weight bytes, split into shards as the manifest says
 *   ownership-audit.json     ModelMeta (optional; absent for models converted elsewhere)
 *
 * This is the standard TF.js Layers format, so a directory written here loads with
 * tf.loadLayersModel in a browser, and one written by tensorflowjs_converter (Keras) or by
 * tfjs-node loads here (as arch 'imported' when it has no sidecar).
 *
 * Saving is atomic at directory level: everything is written into a hidden temporary
 * sibling directory and then swapped in with renames, so a crash or a failed write never
 * leaves a half-written model where a good one was. Files in the target directory that are
 * not part of the model (reports, notes) are carried over.
 *
 * Loading validates before it builds anything and reports every problem as an AuditError
 * that names the file: MODEL_NOT_FOUND, MODEL_FORMAT, MODEL_UNKNOWN_LAYER, MODEL_WEIGHTS,
 * MODEL_SHAPE, MODEL_NOT_FINITE, MODEL_NOT_CLASSIFIER, UNKNOWN_BLOCK, INVALID_ARGUMENT.
 *
 * contentHash policy: when a sidecar's contentHash disagrees with the files, loading fails
 * with MODEL_FORMAT (hint: re-save, or delete the sidecar to import the files as they are).
 * A sidecar vouches for lineage and accuracy of specific weights; silently accepting other
 * weights under that record would defeat an ownership audit.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AuditError } from '../errors';
// Registers the BatchNormalization class with PyTorch's moving-variance update under the stock
// name, so that a loaded model (victim, reference, surrogate) trains like a freshly built one.
import './batch-norm';
import {
  MODEL_META_FILE,
  MODEL_META_FORMAT_VERSION,
  modelMetaProblems,
  type ModelMeta,
} from '../../../src-shared/domain/model';
import { computeContentHash } from './content-hash';
import {
  classifierShape,
  findNonFinite,
  guessSplitLayer,
  isSplitPoint,
  layerNames,
  parseModelJson,
  splitPoints,
  unknownLayers,
  weightByteSize,
  type ParsedModelJson,
} from './validate';

export const MODEL_JSON_FILE = 'model.json';
/** TF.js converter default: 4 MiB per shard. */
export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

/** What the caller supplies to saveModel; the rest is derived from the model and its files. */
export type ModelMetaInput = Omit<
  ModelMeta,
  'formatVersion' | 'contentHash' | 'inputShape' | 'numClasses' | 'createdAt'
> & {
  /** ISO 8601; defaults to now. */
  createdAt?: string;
};

export interface SaveModelOptions {
  /** Maximum bytes per weight shard (default 4 MiB, as tensorflowjs_converter). */
  shardSizeBytes?: number;
  /**
   * Writes one file. Defaults to a durable write (fsync). A hook for fault-injection tests;
   * whatever it throws aborts the save and leaves the previous model untouched.
   */
  writeFile?: (filePath: string, data: Uint8Array) => Promise<void>;
}

export interface LoadModelOptions {
  /** Split points to use instead of the sidecar's (or, for imports, the only source). */
  blocks?: string[];
  /**
   * Layer to split at for attacks and DeepJudge. Must be a layer name of the model and a
   * point every input-to-output path passes through. Added to blocks if missing.
   */
  splitLayer?: string;
}

export interface LoadedModel {
  model: tf.LayersModel;
  meta: ModelMeta;
}

// ---------------------------------------------------------------------------------------
// save

export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  meta: ModelMetaInput,
  opts: SaveModelOptions = {},
): Promise<ModelMeta> {
  const target = targetDir(dir);
  const shardSize = opts.shardSizeBytes ?? DEFAULT_SHARD_BYTES;
  if (!Number.isInteger(shardSize) || shardSize < 4) {
    throw new AuditError('INVALID_ARGUMENT', `Shard size must be an integer of at least 4 bytes, got ${shardSize}`, {
      hint: 'Leave shardSizeBytes unset for the 4 MiB default.',
      path: target,
    });
  }

  const cls = classifierShape(model);
  if (!cls.ok) {
    throw new AuditError(
      'MODEL_NOT_CLASSIFIER',
      `Refusing to save a model that is not an image classifier: ${cls.problem}`,
      {
        hint: 'Ownership Audit works on models with one image input [null, h, w, c] and one output [null, classes].',
        path: target,
      },
    );
  }
  checkBlocksForSave(model, meta, target);

  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  if (!artifacts || artifacts.modelTopology === undefined || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new Error('TF.js did not hand over a JSON topology when saving the model');
  }
  const topology = artifacts.modelTopology;
  const specs = artifacts.weightSpecs ?? [];
  const weightBytes = toBytes(artifacts.weightData);

  const nonFinite = findNonFinite(specs, weightBytes);
  if (nonFinite) {
    throw new AuditError(
      'MODEL_NOT_FINITE',
      `Refusing to save: weight '${nonFinite.name}' holds ${nonFinite.value} at element ${nonFinite.index}`,
      { hint: 'Training diverged; lower the learning rate or restore an earlier checkpoint.', path: target },
    );
  }

  const contentHash = computeContentHash(topology, specs, weightBytes);
  const fullMeta: ModelMeta = {
    formatVersion: MODEL_META_FORMAT_VERSION,
    arch: meta.arch,
    archConfig: meta.archConfig,
    inputShape: cls.inputShape,
    numClasses: cls.numClasses,
    blocks: [...meta.blocks],
    defaultAttackBlock: meta.defaultAttackBlock,
    defaultDeepJudgeBlock: meta.defaultDeepJudgeBlock,
    lineage: meta.lineage,
    contentHash,
    ...(meta.testAccuracy !== undefined ? { testAccuracy: meta.testAccuracy } : {}),
    ...(meta.dataset !== undefined ? { dataset: meta.dataset } : {}),
    ...(meta.seed !== undefined ? { seed: meta.seed } : {}),
    backend: meta.backend ?? tf.getBackend(),
    createdAt: meta.createdAt ?? new Date().toISOString(),
    ...(meta.notes !== undefined ? { notes: meta.notes } : {}),
    ...(meta.normalization !== undefined ? { normalization: meta.normalization } : {}),
    ...(meta.training !== undefined ? { training: meta.training } : {}),
  };
  if (meta.normalization && meta.normalization.mean.length !== cls.inputShape[2]) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `Normalization has ${meta.normalization.mean.length} channel(s), the model's input has ${cls.inputShape[2]}`,
      { hint: 'Pass the statistics of the data set the model was trained on.', path: target },
    );
  }
  const problems = modelMetaProblems(fullMeta);
  if (problems.length > 0) {
    throw new AuditError('INVALID_ARGUMENT', `Invalid model metadata: ${problems.join('; ')}`, {
      hint: 'Fix the metadata passed to saveModel.',
      path: target,
    });
  }

  // Shards, named as tensorflowjs_converter names them.
  const shards: Uint8Array[] = [];
  for (let off = 0; off < weightBytes.byteLength; off += shardSize) {
    shards.push(weightBytes.subarray(off, Math.min(off + shardSize, weightBytes.byteLength)));
  }
  const shardNames = shards.map((_, i) => `group1-shard${i + 1}of${shards.length}.bin`);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: topology,
    format: 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    weightsManifest: [{ paths: shardNames, weights: specs }],
    ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
  };

  const files: Array<[string, Uint8Array]> = [
    ...shards.map((s, i): [string, Uint8Array] => [shardNames[i], s]),
    [MODEL_JSON_FILE, utf8(JSON.stringify(modelJson))],
    [MODEL_META_FILE, utf8(`${JSON.stringify(fullMeta, null, 2)}\n`)],
  ];
  await writeDirAtomically(target, files, opts.writeFile ?? durableWriteFile);
  return fullMeta;
}

function checkBlocksForSave(model: tf.LayersModel, meta: ModelMetaInput, target: string): void {
  const names = layerNames(model);
  const wanted = [...meta.blocks, meta.defaultAttackBlock, meta.defaultDeepJudgeBlock];
  for (const b of wanted) {
    if (!names.includes(b)) {
      throw new AuditError('UNKNOWN_BLOCK', `Block '${b}' is not a layer of the model`, {
        hint: `Name a layer of the model. Layers: ${names.join(', ')}`,
        path: target,
      });
    }
    if (!isSplitPoint(model, b)) {
      throw new AuditError(
        'INVALID_ARGUMENT',
        `Block '${b}' is not a split point: some input-to-output path bypasses it`,
        {
          hint: `Use a layer every path passes through. Split points: ${splitPoints(model).join(', ')}`,
          path: target,
        },
      );
    }
  }
}

function targetDir(dir: string): string {
  const abs = path.resolve(dir);
  return path.basename(abs) === MODEL_JSON_FILE ? path.dirname(abs) : abs;
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

async function durableWriteFile(filePath: string, data: Uint8Array): Promise<void> {
  const fh = await fsp.open(filePath, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Not supported everywhere (Windows); durability of the rename is best effort there.
  }
}

/** Files of the old model that a new save replaces; everything else in the directory is kept. */
const MODEL_FILE_RE = /^(model\.json|ownership-audit\.json|weights\.bin|group\d+-shard\d+of\d+\.bin)$/;

async function writeDirAtomically(
  target: string,
  files: Array<[string, Uint8Array]>,
  writeFile: (filePath: string, data: Uint8Array) => Promise<void>,
): Promise<void> {
  const parent = path.dirname(target);
  const base = path.basename(target);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = path.join(parent, `.${base}.tmp-${tag}`);
  const ioError = (what: string, e: unknown) =>
    new AuditError('MODEL_WRITE', `Could not save the model: ${what}: ${(e as Error)?.message ?? String(e)}`, {
      hint: `Check free disk space and write permission in ${parent}. Any model previously saved there is unchanged.`,
      path: target,
      cause: e,
    });

  const existing = await statOrUndefined(target);
  if (existing && !existing.isDirectory()) {
    throw new AuditError('INVALID_ARGUMENT', 'Cannot save a model here: the path is a file, not a directory', {
      hint: 'Choose a directory path for the model.',
      path: target,
    });
  }
  await removeStaleTemps(parent, base);

  try {
    await fsp.mkdir(parent, { recursive: true });
    await fsp.mkdir(tmp);
    for (const [name, data] of files) await writeFile(path.join(tmp, name), data);
    await fsyncDir(tmp);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw ioError('writing the new files failed', e);
  }

  const referenced = existing ? await referencedShards(target) : new Set<string>();
  if (!existing) {
    try {
      await fsp.rename(tmp, target);
    } catch (e) {
      await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw ioError('moving the new model into place failed', e);
    }
    await fsyncDir(parent);
    return;
  }

  // Swap: old -> backup, new -> target. Between the two renames the target is briefly absent,
  // but never half-written; after a crash there the old model is intact in the backup.
  const backup = path.join(parent, `.${base}.old-${tag}`);
  try {
    await fsp.rename(target, backup);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw ioError('moving the previous model aside failed', e);
  }
  try {
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rename(backup, target).catch(() => undefined);
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw ioError('moving the new model into place failed', e);
  }
  await fsyncDir(parent);

  // Carry over whatever else lived in the directory; drop the old model's own files.
  const newNames = new Set(files.map(([n]) => n));
  let keepBackup = false;
  for (const entry of await fsp.readdir(backup)) {
    if (MODEL_FILE_RE.test(entry) || referenced.has(entry) || newNames.has(entry)) continue;
    try {
      await fsp.rename(path.join(backup, entry), path.join(target, entry));
    } catch {
      keepBackup = true;
    }
  }
  if (!keepBackup) await fsp.rm(backup, { recursive: true, force: true }).catch(() => undefined);
}

/** Top-level shard names the old model.json references (custom names, not just the usual ones). */
async function referencedShards(dir: string): Promise<Set<string>> {
  const out = new Set<string>();
  try {
    const json: unknown = JSON.parse(await fsp.readFile(path.join(dir, MODEL_JSON_FILE), 'utf8'));
    const parsed = parseModelJson(json);
    if (parsed.ok) {
      for (const g of parsed.value.weightsManifest) {
        for (const p of g.paths) if (!p.includes('/') && !p.includes('\\')) out.add(p);
      }
    }
  } catch {
    // An unreadable old model.json: only the usual names count as model files.
  }
  return out;
}

/** Temp directories left by saves whose process died. */
async function removeStaleTemps(parent: string, base: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fsp.readdir(parent);
  } catch {
    return;
  }
  const prefix = `.${base}.tmp-`;
  for (const e of entries) {
    if (!e.startsWith(prefix)) continue;
    const pid = Number(e.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) {
      await fsp.rm(path.join(parent, e), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function statOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.stat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------
// load

export async function loadModel(dirOrModelJson: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const { dir, modelJsonPath } = await locateModel(dirOrModelJson);
  const parsed = await readModelJson(modelJsonPath);
  const atModelJson = (hint: string) => ({ hint, path: modelJsonPath });

  const unknown = unknownLayers(parsed.modelTopology);
  if (unknown.length > 0) {
    const list = [...new Set(unknown.map((u) => u.className))];
    throw new AuditError(
      'MODEL_UNKNOWN_LAYER',
      `Unknown layer class${list.length > 1 ? 'es' : ''} ${list.map((c) => `'${c}'`).join(', ')} (layer '${unknown[0].name}')`,
      atModelJson(
        'TF.js has no built-in layer of this class. Custom layers must be registered with ' +
          'tf.serialization.registerClass before loading, or replaced by built-in layers in Keras ' +
          '(e.g. a Lambda layer) and the model converted again with tensorflowjs_converter.',
      ),
    );
  }

  const { specs, data, shardOf } = await readWeights(dir, modelJsonPath, parsed.weightsManifest);

  const nonFinite = findNonFinite(specs, data);
  if (nonFinite) {
    throw new AuditError(
      'MODEL_NOT_FINITE',
      `Weight '${nonFinite.name}' holds ${nonFinite.value} at element ${nonFinite.index} (in ${path.basename(shardOf(nonFinite.byteOffset))})`,
      {
        hint: 'The model was saved after training diverged or the file is corrupt. Use an earlier checkpoint or retrain with a lower learning rate.',
        path: modelJsonPath,
      },
    );
  }

  const contentHash = computeContentHash(parsed.modelTopology, specs, data);
  const sidecarPath = path.join(dir, MODEL_META_FILE);
  const sidecar = await readSidecar(sidecarPath);

  const model = await buildModel(parsed, specs, data, modelJsonPath);
  try {
    const cls = classifierShape(model);
    if (!cls.ok) {
      throw new AuditError(
        'MODEL_NOT_CLASSIFIER',
        `The model is not an image classifier: ${cls.problem}`,
        atModelJson(
          'Ownership Audit needs one image input [null, height, width, channels] and one output [null, classes] ' +
            'with at least 2 classes. Export the classifier itself (not a feature extractor or a multi-head model).',
        ),
      );
    }
    // Checked after building so that a more specific problem (shapes, classes) is reported first.
    if (sidecar && sidecar.contentHash !== contentHash) {
      throw new AuditError(
        'MODEL_FORMAT',
        `The model files do not match ${MODEL_META_FILE}: its contentHash is ${sidecar.contentHash.slice(0, 12)}…, the files hash to ${contentHash.slice(0, 12)}…`,
        {
          hint:
            'model.json or a weight shard changed after the model was saved, or the directory mixes two saves. ' +
            `Re-save the model with Ownership Audit, or delete ${MODEL_META_FILE} to load the files as an imported model (its lineage is then lost).`,
          path: sidecarPath,
        },
      );
    }
    let meta: ModelMeta;
    if (sidecar) {
      if (sidecar.numClasses !== cls.numClasses || sidecar.inputShape.some((d, i) => d !== cls.inputShape[i])) {
        throw new AuditError(
          'MODEL_FORMAT',
          `${MODEL_META_FILE} says input ${JSON.stringify(sidecar.inputShape)} and ${sidecar.numClasses} classes, ` +
            `the model has ${JSON.stringify(cls.inputShape)} and ${cls.numClasses}`,
          { hint: `Re-save the model, or delete ${MODEL_META_FILE} to import it as it is.`, path: sidecarPath },
        );
      }
      const names = layerNames(model);
      const missing = [sidecar.defaultAttackBlock, sidecar.defaultDeepJudgeBlock, ...sidecar.blocks].filter(
        (b) => !names.includes(b),
      );
      if (missing.length > 0) {
        throw new AuditError('MODEL_FORMAT', `${MODEL_META_FILE} names blocks the model lacks: ${missing.join(', ')}`, {
          hint: `Re-save the model, or delete ${MODEL_META_FILE} and pass splitLayer. Layers: ${names.join(', ')}`,
          path: sidecarPath,
        });
      }
      meta = applyBlockOptions(model, sidecar, opts, modelJsonPath);
    } else {
      meta = await importedMeta(model, dir, modelJsonPath, contentHash, cls.inputShape, cls.numClasses, opts);
    }
    return { model, meta };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

async function locateModel(p: string): Promise<{ dir: string; modelJsonPath: string }> {
  const abs = path.resolve(p);
  const st = await statOrUndefined(abs);
  if (!st) {
    throw new AuditError('MODEL_NOT_FOUND', 'No model at this path', {
      hint: (await interruptedSaveHint(abs)) ?? 'Check the path: give a model directory or its model.json.',
      path: abs,
    });
  }
  if (st.isDirectory()) {
    const modelJsonPath = path.join(abs, MODEL_JSON_FILE);
    if (!(await statOrUndefined(modelJsonPath))?.isFile()) {
      const jsons = (await fsp.readdir(abs).catch(() => [] as string[])).filter(
        (f) => f.endsWith('.json') && f !== MODEL_META_FILE,
      );
      throw new AuditError('MODEL_NOT_FOUND', `The directory has no ${MODEL_JSON_FILE}`, {
        hint:
          jsons.length > 0
            ? `Pass the model's JSON file directly; JSON files here: ${jsons.join(', ')}`
            : 'Give a directory holding a TF.js Layers model (model.json and .bin weight shards). ' +
              'Convert Keras models with: tensorflowjs_converter --input_format keras model.h5 <dir>',
        path: modelJsonPath,
      });
    }
    return { dir: abs, modelJsonPath };
  }
  if (!abs.toLowerCase().endsWith('.json')) {
    throw new AuditError('MODEL_FORMAT', 'Expected a model directory or a model.json file', {
      hint: 'A TF.js Layers model is a model.json plus .bin weight shards. Convert Keras .h5/.keras files with tensorflowjs_converter.',
      path: abs,
    });
  }
  return { dir: path.dirname(abs), modelJsonPath: abs };
}

async function interruptedSaveHint(target: string): Promise<string | undefined> {
  const parent = path.dirname(target);
  const prefix = `.${path.basename(target)}.old-`;
  const backups = (await fsp.readdir(parent).catch(() => [] as string[])).filter((e) => e.startsWith(prefix));
  if (backups.length === 0) return undefined;
  return `A save to this path was interrupted. The previous model is in ${path.join(parent, backups[backups.length - 1])}; rename it back to ${path.basename(target)}.`;
}

async function readModelJson(modelJsonPath: string): Promise<ParsedModelJson> {
  let text: string;
  try {
    text = await fsp.readFile(modelJsonPath, 'utf8');
  } catch (e) {
    throw new AuditError('MODEL_NOT_FOUND', `Cannot read ${MODEL_JSON_FILE}: ${(e as Error).message}`, {
      hint: 'Check that the file exists and is readable.',
      path: modelJsonPath,
      cause: e,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AuditError('MODEL_FORMAT', `Invalid JSON: ${(e as Error).message}`, {
      hint: 'The file is truncated or not a TF.js model.json. Re-export or re-convert the model.',
      path: modelJsonPath,
      cause: e,
    });
  }
  const parsed = parseModelJson(json);
  if (!parsed.ok) {
    throw new AuditError('MODEL_FORMAT', `Not a TF.js Layers model: ${parsed.problem}`, {
      hint: parsed.problem.includes('graph model')
        ? 'Ownership Audit needs a Layers model. Convert the Keras model with tensorflowjs_converter --input_format keras (or --output_format tfjs_layers_model).'
        : 'Expected a model.json with modelTopology and weightsManifest, as written by model.save() or tensorflowjs_converter.',
      path: modelJsonPath,
    });
  }
  return parsed.value;
}

/** Reads and length-checks every shard; returns the flat specs and concatenated weight bytes. */
async function readWeights(
  dir: string,
  modelJsonPath: string,
  manifest: tf.io.WeightsManifestConfig,
): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: Uint8Array; shardOf: (byteOffset: number) => string }> {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const groupBytes: number[] = [];
  for (const group of manifest) {
    let bytes = 0;
    for (const w of group.weights) {
      bytes += weightByteSize(w);
      specs.push(w);
    }
    groupBytes.push(bytes);
  }
  const data = new Uint8Array(groupBytes.reduce((a, b) => a + b, 0));
  const shardStarts: Array<[number, string]> = [];
  let offset = 0;
  for (const [g, group] of manifest.entries()) {
    const files = group.paths.map((p) => resolveShard(dir, p, modelJsonPath));
    const sizes: number[] = [];
    for (const f of files) {
      const st = await statOrUndefined(f);
      if (!st?.isFile()) {
        throw new AuditError(
          'MODEL_WEIGHTS',
          `Weight shard missing (listed in ${MODEL_JSON_FILE} weight group ${g + 1})`,
          {
            hint: `Copy all ${files.length} shard file(s) of this group next to ${MODEL_JSON_FILE}: ${group.paths.join(', ')}`,
            path: f,
          },
        );
      }
      sizes.push(st.size);
    }
    const expected = groupBytes[g];
    const actual = sizes.reduce((a, b) => a + b, 0);
    if (actual !== expected) {
      // All shards but the last have the same size; a shorter one among them is the culprit.
      let culprit = files.length - 1;
      if (actual < expected) {
        const short = sizes.findIndex((s, i) => i < sizes.length - 1 && s < sizes[0]);
        if (short >= 0) culprit = short;
      }
      const detail = files.map((f, i) => `${path.basename(f)}=${sizes[i]}`).join(', ');
      throw new AuditError(
        'MODEL_WEIGHTS',
        actual < expected
          ? `Weight shard truncated: weight group ${g + 1} needs ${expected} bytes, its shard file(s) hold ${actual} (${detail})`
          : `Weight shard too long: weight group ${g + 1} needs ${expected} bytes, its shard file(s) hold ${actual} (${detail})`,
        {
          hint: 'The weights do not match model.json: a copy was interrupted or the shards come from another model. Copy the shards again or re-export the model.',
          path: files[culprit],
        },
      );
    }
    let gOff = offset;
    for (const [i, f] of files.entries()) {
      const buf = await fsp.readFile(f);
      if (buf.byteLength !== sizes[i]) {
        throw new AuditError(
          'MODEL_WEIGHTS',
          `Weight shard changed size while reading (expected ${sizes[i]} bytes, got ${buf.byteLength})`,
          {
            hint: 'Another process is writing the model; load it again when that is done.',
            path: f,
          },
        );
      }
      data.set(buf, gOff);
      shardStarts.push([gOff, f]);
      gOff += buf.byteLength;
    }
    offset += expected;
  }
  const shardOf = (byteOffset: number): string => {
    let found = shardStarts[0]?.[1] ?? modelJsonPath;
    for (const [start, f] of shardStarts) if (start <= byteOffset) found = f;
    return found;
  };
  return { specs, data, shardOf };
}

function resolveShard(dir: string, p: string, modelJsonPath: string): string {
  let rel = p;
  try {
    rel = decodeURIComponent(p);
  } catch {
    // keep as written
  }
  const resolved = path.resolve(dir, rel);
  const inside = path.relative(dir, resolved);
  if (
    path.isAbsolute(rel) ||
    /^[a-z][a-z0-9+.-]*:\/\//i.test(rel) ||
    inside.startsWith('..') ||
    path.isAbsolute(inside)
  ) {
    throw new AuditError('MODEL_FORMAT', `Weight path '${p}' points outside the model directory`, {
      hint: 'Weight shard paths in model.json must be relative file names inside the model directory.',
      path: modelJsonPath,
    });
  }
  return resolved;
}

async function readSidecar(sidecarPath: string): Promise<ModelMeta | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(sidecarPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AuditError('MODEL_FORMAT', `Cannot read ${MODEL_META_FILE}: ${(e as Error).message}`, {
      hint: 'Check the file permissions.',
      path: sidecarPath,
      cause: e,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AuditError('MODEL_FORMAT', `Invalid JSON: ${(e as Error).message}`, {
      hint: `Re-save the model, or delete ${MODEL_META_FILE} to load the model as an imported one (its lineage is then lost).`,
      path: sidecarPath,
      cause: e,
    });
  }
  const problems = modelMetaProblems(json);
  if (problems.length > 0) {
    throw new AuditError('MODEL_FORMAT', `Invalid model metadata: ${problems.join('; ')}`, {
      hint: `Re-save the model, or delete ${MODEL_META_FILE} to load the model as an imported one (its lineage is then lost).`,
      path: sidecarPath,
    });
  }
  return json as ModelMeta;
}

/** Builds the model through TF.js's own loader, mapping its errors to AuditErrors. */
async function buildModel(
  parsed: ParsedModelJson,
  specs: tf.io.WeightsManifestEntry[],
  data: Uint8Array,
  modelJsonPath: string,
): Promise<tf.LayersModel> {
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: parsed.modelTopology,
    weightSpecs: specs,
    weightData:
      data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
        ? (data.buffer as ArrayBuffer)
        : (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer),
    format: parsed.format,
    generatedBy: parsed.generatedBy,
    convertedBy: parsed.convertedBy,
    ...(parsed.trainingConfig ? { trainingConfig: parsed.trainingConfig } : {}),
  };
  const handler: tf.io.IOHandler = { load: async () => artifacts };
  try {
    return await tf.loadLayersModel(handler, { strict: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const unknown = /Unknown (\w+): (\S+?)\./.exec(msg);
    if (unknown) {
      throw new AuditError(
        unknown[1] === 'layer' ? 'MODEL_UNKNOWN_LAYER' : 'MODEL_FORMAT',
        `Unknown ${unknown[1]} class '${unknown[2]}'`,
        {
          hint: `TF.js has no built-in ${unknown[1]} of this class. Custom classes must be registered with tf.serialization.registerClass before loading, or replaced by built-ins in Keras and the model converted again.`,
          path: modelJsonPath,
          cause: e,
        },
      );
    }
    const mismatch = await describeWeightMismatch(parsed, specs);
    if (mismatch) {
      throw new AuditError('MODEL_SHAPE', `Weights do not match the topology: ${mismatch}`, {
        hint: 'model.json and the weight shards come from different models, or model.json was edited. Re-export the model.',
        path: modelJsonPath,
        cause: e,
      });
    }
    throw new AuditError('MODEL_FORMAT', `TF.js could not build the model: ${msg}`, {
      hint: 'The topology is not one TF.js Layers can build. Re-export the model with tensorflowjs_converter.',
      path: modelJsonPath,
      cause: e,
    });
  }
}

/**
 * Slow path, only after TF.js refused the weights: builds the topology without weights and
 * compares its variables with the manifest, to say which weight is wrong.
 */
async function describeWeightMismatch(
  parsed: ParsedModelJson,
  specs: tf.io.WeightsManifestEntry[],
): Promise<string | undefined> {
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({ modelTopology: parsed.modelTopology } as Parameters<
      typeof tf.models.modelFromJSON
    >[0]);
  } catch {
    return undefined;
  }
  try {
    const bySpec = new Map(specs.filter((s) => s.group !== 'optimizer').map((s) => [s.name, s]));
    const lookup = (name: string) => {
      if (bySpec.has(name)) return name;
      // TF.js also accepts layer/cell/weight for layer/weight.
      for (const k of bySpec.keys()) {
        const t = k.split('/');
        if (t.length >= 3 && [...t.slice(0, -2), t[t.length - 1]].join('/') === name) return k;
      }
      return undefined;
    };
    const problems: string[] = [];
    const used = new Set<string>();
    for (const w of model.weights) {
      const key = lookup(w.originalName);
      if (key === undefined) {
        problems.push(`'${w.originalName}' ${JSON.stringify(w.shape)} is missing from the manifest`);
        continue;
      }
      used.add(key);
      const spec = bySpec.get(key) as tf.io.WeightsManifestEntry;
      if (spec.shape.length !== w.shape.length || spec.shape.some((d, i) => d !== w.shape[i])) {
        problems.push(
          `'${key}' has shape ${JSON.stringify(spec.shape)} in the manifest, the layer expects ${JSON.stringify(w.shape)}`,
        );
      }
    }
    for (const k of bySpec.keys()) {
      if (!used.has(k)) problems.push(`'${k}' ${JSON.stringify(bySpec.get(k)?.shape)} belongs to no layer`);
    }
    if (problems.length === 0) return undefined;
    return problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
  } finally {
    model.dispose();
  }
}

function applyBlockOptions(
  model: tf.LayersModel,
  base: ModelMeta,
  opts: LoadModelOptions,
  modelJsonPath: string,
): ModelMeta {
  if (opts.blocks === undefined && opts.splitLayer === undefined) return base;
  const blocks = opts.blocks ? [...opts.blocks] : [...base.blocks];
  if (opts.splitLayer !== undefined && !blocks.includes(opts.splitLayer)) blocks.push(opts.splitLayer);
  checkSplitLayers(model, blocks, modelJsonPath);
  if (blocks.length === 0) {
    throw new AuditError('INVALID_ARGUMENT', 'An empty list of blocks was given', {
      hint: 'Name at least one split layer, or leave blocks unset.',
      path: modelJsonPath,
    });
  }
  // Keep the listed order consistent with the model's layer order.
  const order = layerNames(model);
  blocks.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const pick = (current: string) => opts.splitLayer ?? (blocks.includes(current) ? current : blocks[blocks.length - 1]);
  return {
    ...base,
    blocks,
    defaultAttackBlock: pick(base.defaultAttackBlock),
    defaultDeepJudgeBlock: pick(base.defaultDeepJudgeBlock),
  };
}

function checkSplitLayers(model: tf.LayersModel, blocks: string[], modelJsonPath: string): void {
  const names = layerNames(model);
  for (const b of blocks) {
    if (!names.includes(b)) {
      throw new AuditError('UNKNOWN_BLOCK', `The model has no layer named '${b}'`, {
        hint: `Choose one of its layers: ${names.join(', ')}`,
        path: modelJsonPath,
      });
    }
    if (!isSplitPoint(model, b)) {
      throw new AuditError(
        'INVALID_ARGUMENT',
        `Layer '${b}' is not a split point: some input-to-output path bypasses it`,
        {
          hint: `Split at a layer every path passes through (not inside a residual branch). Split points: ${splitPoints(model).join(', ')}`,
          path: modelJsonPath,
        },
      );
    }
  }
}

async function importedMeta(
  model: tf.LayersModel,
  dir: string,
  modelJsonPath: string,
  contentHash: string,
  inputShape: [number, number, number],
  numClasses: number,
  opts: LoadModelOptions,
): Promise<ModelMeta> {
  let blocks: string[];
  let notes: string | undefined;
  if (opts.blocks !== undefined || opts.splitLayer !== undefined) {
    blocks = [...(opts.blocks ?? [])];
    if (opts.splitLayer !== undefined && !blocks.includes(opts.splitLayer)) blocks.push(opts.splitLayer);
  } else {
    blocks = [guessSplitLayer(model)];
    notes = `No split layer given; defaulted to '${blocks[0]}', the layer feeding the output.`;
  }
  checkSplitLayers(model, blocks, modelJsonPath);
  if (blocks.length === 0) {
    throw new AuditError('INVALID_ARGUMENT', 'An empty list of blocks was given', {
      hint: 'Name at least one split layer (splitLayer), or leave blocks unset.',
      path: modelJsonPath,
    });
  }
  const order = layerNames(model);
  blocks.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const split = opts.splitLayer ?? blocks[blocks.length - 1];
  const mtime = (await fsp.stat(modelJsonPath)).mtime.toISOString();
  return {
    formatVersion: MODEL_META_FORMAT_VERSION,
    arch: 'imported',
    archConfig: {},
    inputShape,
    numClasses,
    blocks,
    defaultAttackBlock: split,
    defaultDeepJudgeBlock: split,
    lineage: `import(${path.basename(dir)})`,
    contentHash,
    backend: tf.getBackend(),
    createdAt: mtime,
    ...(notes ? { notes } : {}),
  };
}
