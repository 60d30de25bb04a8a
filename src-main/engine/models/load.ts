/**
 * Loading a model directory (or a model.json): validates the topology, the weight shards and
 * the sidecar before anything is built, and reports each problem as an AuditError naming the
 * file (the codes and the contentHash policy are described in io.ts). The steps live beside
 * it: read-weights.ts (shards), instantiate.ts (TF.js build), load-blocks.ts (split layers).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { MODEL_META_FILE, modelMetaProblems, type ModelMeta } from '../../../src-shared/domain/model';
import { AuditError } from '../errors';
import { checkJsonDepth, checkManifestBounds, checkTopologyBounds } from './bounds';
import { computeContentHash } from './content-hash';
import { instantiateModel } from './instantiate';
import { applyBlockOptions, importedMeta } from './load-blocks';
import { interruptedSaveHint, MODEL_JSON_FILE, statOrUndefined } from './model-dir';
import { checkTopologyAgainstManifest } from './probe';
import { readWeights } from './read-weights';
import {
  classifierShape,
  findNonFinite,
  layerNames,
  parseModelJson,
  unknownLayers,
  type ParsedModelJson,
} from './validate';

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

  // Before a shard is read or a layer built: the topology's weights against the manifest.
  await checkTopologyAgainstManifest(
    parsed.modelTopology,
    parsed.weightsManifest.flatMap((g) => g.weights),
    modelJsonPath,
  );

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

  const model = await instantiateModel(parsed, specs, data, modelJsonPath);
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
  // Depth first, without recursion: a 200k-deep file must not reach a recursive reader.
  checkJsonDepth(text, modelJsonPath);
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
  // Sane bounds (layers, input size, parameter count and bytes) before anything is allocated.
  checkTopologyBounds(parsed.value.modelTopology, modelJsonPath);
  checkManifestBounds(parsed.value.weightsManifest, modelJsonPath);
  return parsed.value;
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
