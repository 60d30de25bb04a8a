/**
 * Saving a TF.js Layers model as a model directory with its ownership-audit.json sidecar
 * (the format is described in io.ts). Checks that the model is a classifier, that its blocks
 * are split points and that its weights are finite before anything is written, because a
 * saved model is what later audits trust.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  MODEL_META_FILE,
  MODEL_META_FORMAT_VERSION,
  modelMetaProblems,
  type ModelMeta,
} from '../../../src-shared/domain/model';
import { AuditError } from '../errors';
import { writeFileDurable } from '../files/atomic-write';
import { computeContentHash } from './content-hash';
import { MODEL_JSON_FILE, writeDirAtomically } from './model-dir';
import { classifierShape, findNonFinite, isSplitPoint, layerNames, splitPoints } from './validate';

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
  await writeDirAtomically(target, files, opts.writeFile ?? writeFileDurable);
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
