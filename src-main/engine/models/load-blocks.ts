/**
 * Which split layers (blocks) a loaded model gets: the sidecar's, overridden by the caller's
 * blocks / splitLayer, or for an imported model without a sidecar a guess. Attacks and
 * DeepJudge cut the model at these layers, so each must be a layer every path passes through.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MODEL_META_FORMAT_VERSION, type ModelMeta } from '../../../src-shared/domain/model';
import { AuditError } from '../errors';
import type { LoadModelOptions } from './load';
import { guessSplitLayer, isSplitPoint, layerNames, splitPoints } from './validate';

export function applyBlockOptions(
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

export async function importedMeta(
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
