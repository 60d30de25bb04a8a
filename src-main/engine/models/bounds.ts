/**
 * Sane bounds on a model.json, checked before it is parsed into a model or its shards are
 * read: a hostile or broken file must be refused with a typed error, not make the process
 * overflow its stack (a 200k-deep JSON), allocate a claimed 160 GB weight, or build a huge
 * input. Each bound is a named constant with its reason; every check is iterative or bounded
 * by MAX_JSON_DEPTH, so no input can overflow the stack.
 */
import type * as tf from '@tensorflow/tfjs';
import { AuditError } from '../errors';
import { MODEL_JSON_FILE } from './model-dir';
import { DTYPE_BYTES, topologyLayers } from './validate';

/**
 * Deepest nesting of arrays and objects in model.json. A Keras model nests about 12 levels
 * (topology, config, layers, layer, config, initializer, config, inbound nodes...) plus ~4 per
 * nested model; 100 leaves room for deep nesting and stays far from any recursion limit.
 */
export const MAX_JSON_DEPTH = 100;
/** Layers in a topology: the largest Keras image classifiers have under 1,000. */
export const MAX_LAYERS = 10_000;
/**
 * Parameters of all weights together: 2^28 (268 M) float32 values are 1 GiB, the most that can
 * be read, built and trained within the 2 GB a malformed input may cost (a ResNet-152 has 60 M).
 */
export const MAX_PARAMETERS = 2 ** 28;
/** Bytes of all weight shards together, for the same reason. */
export const MAX_WEIGHT_BYTES = 2 ** 30;
/** Largest input side and channel count: one image of 4096x4096x4 float32 is already 256 MiB. */
export const MAX_INPUT_SIDE = 4096;
export const MAX_INPUT_CHANNELS = 4;
/** Values of one input image (any rank): 2^24, i.e. 4096x4096 gray or 2048x2048x4. */
export const MAX_INPUT_ELEMENTS = 2 ** 24;

const refuse = (code: 'MODEL_FORMAT' | 'MODEL_SHAPE' | 'MODEL_WEIGHTS', message: string, hint: string, path: string) =>
  new AuditError(code, message, { hint, path });

/**
 * Nesting depth of a JSON text, scanning the characters once (strings skipped), stopping as
 * soon as `limit` is passed. Returns the depth reached (limit + 1 when it was passed).
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return max;
}

/** Refuses a model.json text nested deeper than MAX_JSON_DEPTH, before JSON.parse sees it. */
export function checkJsonDepth(text: string, modelJsonPath: string): void {
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw refuse(
      'MODEL_FORMAT',
      `${MODEL_JSON_FILE} is nested more than ${MAX_JSON_DEPTH} levels deep`,
      'A TF.js model.json nests a few dozen levels at most; this file is damaged or not a model. Re-export the model.',
      modelJsonPath,
    );
  }
}

const isSafeDim = (d: unknown): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 1;

/** The layer count and the declared input shapes of a topology, against the bounds above. */
export function checkTopologyBounds(modelTopology: unknown, modelJsonPath: string): void {
  const layers = topologyLayers(modelTopology);
  if (layers.length > MAX_LAYERS) {
    throw refuse(
      'MODEL_FORMAT',
      `${MODEL_JSON_FILE} declares ${layers.length} layers, more than ${MAX_LAYERS}`,
      'Ownership Audit takes image classifiers of up to this many layers; this file is damaged or not one.',
      modelJsonPath,
    );
  }
  for (const shape of declaredInputShapes(modelTopology)) {
    const dims = shape.slice(1);
    const ok =
      dims.every(isSafeDim) &&
      dims.reduce((a, b) => a * b, 1) <= MAX_INPUT_ELEMENTS &&
      (dims.length !== 3 || (dims[0] <= MAX_INPUT_SIDE && dims[1] <= MAX_INPUT_SIDE && dims[2] <= MAX_INPUT_CHANNELS));
    if (!ok) {
      throw refuse(
        'MODEL_SHAPE',
        `${MODEL_JSON_FILE} declares the input shape ${JSON.stringify(shape)}, beyond ${MAX_INPUT_SIDE}x${MAX_INPUT_SIDE}x${MAX_INPUT_CHANNELS} ` +
          `(at most ${MAX_INPUT_ELEMENTS} values per image, every size a positive whole number)`,
        'Export the classifier with its real image size (e.g. [null, 224, 224, 3]).',
        modelJsonPath,
      );
    }
  }
}

/** Every batch input shape a topology declares (on its input layers or its first layers), iteratively. */
function declaredInputShapes(modelTopology: unknown): unknown[][] {
  const out: unknown[][] = [];
  const stack: unknown[] = [modelTopology];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      stack.push(...node);
    } else if (typeof node === 'object' && node !== null) {
      for (const [k, v] of Object.entries(node)) {
        if ((k === 'batch_input_shape' || k === 'batchInputShape' || k === 'batch_shape') && Array.isArray(v)) {
          out.push(v);
        } else if (typeof v === 'object' && v !== null) stack.push(v);
      }
    }
  }
  return out;
}

/**
 * Every weight of the manifest has a shape of positive safe integers and a known dtype, and
 * all together stay under MAX_PARAMETERS and MAX_WEIGHT_BYTES: checked before a byte is
 * allocated for them.
 */
export function checkManifestBounds(manifest: tf.io.WeightsManifestConfig, modelJsonPath: string): void {
  let params = 0;
  let bytes = 0;
  for (const group of manifest) {
    for (const w of group.weights) {
      if (!w.shape.every(isSafeDim)) {
        throw refuse(
          'MODEL_WEIGHTS',
          `Weight '${w.name}' in ${MODEL_JSON_FILE} has shape ${JSON.stringify(w.shape)}: every size must be a positive whole number`,
          'model.json is damaged or was edited. Re-export the model.',
          modelJsonPath,
        );
      }
      // Multiplied step by step so that the product is refused before it leaves the safe range.
      let n = 1;
      for (const d of w.shape) {
        n *= d;
        if (n > MAX_PARAMETERS) break;
      }
      params += n;
      bytes += n * (DTYPE_BYTES[w.quantization ? w.quantization.dtype : w.dtype] ?? 8);
      if (params > MAX_PARAMETERS || bytes > MAX_WEIGHT_BYTES) {
        throw refuse(
          'MODEL_WEIGHTS',
          `Weight '${w.name}' in ${MODEL_JSON_FILE} (shape ${JSON.stringify(w.shape)}) brings the model past ` +
            `${MAX_PARAMETERS} parameters or ${MAX_WEIGHT_BYTES} bytes of weights`,
          'Ownership Audit audits classifiers of up to 268 M parameters (1 GiB of weights); this file claims more, or is damaged.',
          modelJsonPath,
        );
      }
    }
  }
}
