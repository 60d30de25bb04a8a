/**
 * Checks on TF.js Layers model files and models that do not touch the file system: the
 * shape of model.json, layer classes, weight byte sizes, non-finite weights, whether a
 * model is an image classifier, and which layers are valid split points.
 */
import * as tf from '@tensorflow/tfjs';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------
// model.json structure

const WEIGHT_DTYPES = new Set(['float32', 'int32', 'bool', 'complex64']);
const QUANT_DTYPES = new Set(['uint8', 'uint16', 'float16']);

export interface ParsedModelJson {
  modelTopology: Json;
  weightsManifest: tf.io.WeightsManifestConfig;
  trainingConfig?: tf.io.TrainingConfig;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/**
 * Structural check of a parsed model.json. Returns the problem as a sentence, or the
 * typed value. Layer classes and byte sizes are checked separately.
 */
export function parseModelJson(json: unknown): { ok: true; value: ParsedModelJson } | { ok: false; problem: string } {
  const fail = (problem: string) => ({ ok: false as const, problem });
  if (!isObject(json)) return fail('model.json is not a JSON object');
  if (json.format === 'graph-model' || (isObject(json.modelTopology) && Array.isArray(json.modelTopology.node))) {
    return fail('this is a TF.js graph model (a frozen TensorFlow graph), not a Layers model');
  }
  if (!isObject(json.modelTopology)) return fail("model.json has no 'modelTopology' object");
  const topo = json.modelTopology;
  const cfg = isObject(topo.model_config) ? topo.model_config : topo;
  if (typeof cfg.class_name !== 'string' || cfg.config === undefined) {
    return fail("'modelTopology' has no Keras model config (class_name and config)");
  }
  if (!Array.isArray(json.weightsManifest)) return fail("model.json has no 'weightsManifest' list");
  for (const [g, group] of json.weightsManifest.entries()) {
    const where = `weightsManifest[${g}]`;
    if (!isObject(group)) return fail(`${where} is not an object`);
    if (!Array.isArray(group.paths) || !group.paths.every((p) => typeof p === 'string' && p !== '')) {
      return fail(`${where}.paths must be a list of shard file names`);
    }
    if (!Array.isArray(group.weights)) return fail(`${where}.weights must be a list`);
    if (group.paths.length === 0 && group.weights.length > 0) return fail(`${where} lists weights but no shard files`);
    for (const [i, w] of group.weights.entries()) {
      const ww = `${where}.weights[${i}]`;
      if (!isObject(w) || typeof w.name !== 'string') return fail(`${ww} has no name`);
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
        return fail(`weight '${w.name}' has an invalid shape ${JSON.stringify(w.shape)}`);
      }
      if (typeof w.dtype !== 'string' || !WEIGHT_DTYPES.has(w.dtype)) {
        return fail(`weight '${w.name}' has unsupported dtype ${JSON.stringify(w.dtype)}`);
      }
      if (w.quantization !== undefined) {
        const q = w.quantization;
        if (!isObject(q) || typeof q.dtype !== 'string' || !QUANT_DTYPES.has(q.dtype)) {
          return fail(`weight '${w.name}' has unsupported quantization ${JSON.stringify(q)}`);
        }
        if (q.dtype !== 'float16' && (typeof q.scale !== 'number' || typeof q.min !== 'number')) {
          return fail(`weight '${w.name}' is ${q.dtype}-quantized but lacks a numeric scale and min`);
        }
      }
    }
  }
  return {
    ok: true,
    value: {
      modelTopology: topo,
      weightsManifest: json.weightsManifest as tf.io.WeightsManifestConfig,
      trainingConfig: isObject(json.trainingConfig)
        ? (json.trainingConfig as unknown as tf.io.TrainingConfig)
        : undefined,
      format: typeof json.format === 'string' ? json.format : undefined,
      generatedBy: typeof json.generatedBy === 'string' ? json.generatedBy : undefined,
      convertedBy: typeof json.convertedBy === 'string' ? json.convertedBy : null,
    },
  };
}

// ---------------------------------------------------------------------------------------
// layer classes

const CONTAINER_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/** Every layer in a topology (recursing into nested models and wrappers), with its class. */
export function topologyLayers(modelTopology: unknown): Array<{ className: string; name: string }> {
  const out: Array<{ className: string; name: string }> = [];
  const root =
    isObject(modelTopology) && isObject(modelTopology.model_config) ? modelTopology.model_config : modelTopology;
  const visit = (node: unknown): void => {
    if (!isObject(node) || typeof node.class_name !== 'string') return;
    const cfg = node.config;
    const name =
      isObject(cfg) && typeof cfg.name === 'string' ? cfg.name : typeof node.name === 'string' ? node.name : '?';
    out.push({ className: node.class_name, name });
    if (CONTAINER_CLASSES.has(node.class_name)) {
      const layers = Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg.layers) ? cfg.layers : [];
      for (const l of layers) visit(l);
    } else if (isObject(cfg)) {
      // Wrappers (TimeDistributed, Bidirectional) and RNNs carry inner layers and cells.
      if (isObject(cfg.layer)) visit(cfg.layer);
      if (isObject(cfg.cell)) visit(cfg.cell);
      if (Array.isArray(cfg.cells)) for (const c of cfg.cells) visit(c);
    }
  };
  visit(root);
  return out;
}

/** Layers whose class TF.js does not know (not built in and not registered). */
export function unknownLayers(modelTopology: unknown): Array<{ className: string; name: string }> {
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  return topologyLayers(modelTopology).filter((l) => !(l.className in known));
}

// ---------------------------------------------------------------------------------------
// weight bytes

/** Bytes per element of each weight dtype TF.js stores (quantised dtypes included). */
export const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

export function numElements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes a weight occupies in the shard data (quantised size where quantised). */
export function weightByteSize(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization ? spec.quantization.dtype : spec.dtype;
  const size = DTYPE_BYTES[dtype];
  if (size === undefined) throw new Error(`unsupported weight dtype ${dtype}`);
  return numElements(spec.shape) * size;
}

export interface NonFinite {
  name: string;
  /** Flat element index within the weight. */
  index: number;
  value: number;
  /** Byte offset of the weight within the data it was found in. */
  byteOffset: number;
}

/**
 * First NaN or ±Inf in the weights, reading the stored bytes directly (float32, complex64,
 * float16; uint8/uint16 quantisation is finite when its scale and min are).
 */
export function findNonFinite(specs: readonly tf.io.WeightsManifestEntry[], data: Uint8Array): NonFinite | undefined {
  let offset = 0;
  for (const spec of specs) {
    const bytes = weightByteSize(spec);
    const hit = scanWeight(spec, data, offset, bytes);
    if (hit) return { name: spec.name, byteOffset: offset, ...hit };
    offset += bytes;
  }
  return undefined;
}

function scanWeight(
  spec: tf.io.WeightsManifestEntry,
  data: Uint8Array,
  offset: number,
  bytes: number,
): { index: number; value: number } | undefined {
  const q = spec.quantization;
  if (q) {
    if (q.dtype === 'float16') {
      const dv = new DataView(data.buffer, data.byteOffset + offset, bytes);
      for (let i = 0; i < bytes / 2; i++) {
        const h = dv.getUint16(i * 2, true);
        if ((h & 0x7c00) === 0x7c00) return { index: i, value: h & 0x03ff ? NaN : h & 0x8000 ? -Infinity : Infinity };
      }
      return undefined;
    }
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    if (!Number.isFinite(scale)) return { index: 0, value: scale };
    if (!Number.isFinite(min)) return { index: 0, value: min };
    return undefined;
  }
  if (spec.dtype !== 'float32' && spec.dtype !== 'complex64') return undefined;
  const start = data.byteOffset + offset;
  const f32 =
    start % 4 === 0
      ? new Float32Array(data.buffer, start, bytes / 4)
      : new Float32Array(data.slice(offset, offset + bytes).buffer);
  for (let i = 0; i < f32.length; i++) {
    const x = f32[i];
    if (x - x !== 0) return { index: spec.dtype === 'complex64' ? i >> 1 : i, value: x };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// models

/** Input [h, w, c] and class count of a single-input image classifier, or why it is not one. */
export function classifierShape(
  model: tf.LayersModel,
): { ok: true; inputShape: [number, number, number]; numClasses: number } | { ok: false; problem: string } {
  const fmt = (s: ReadonlyArray<number | null>) => `[${s.map((d) => (d === null ? 'null' : d)).join(', ')}]`;
  if (model.inputs.length !== 1) return { ok: false, problem: `it has ${model.inputs.length} inputs, not 1` };
  if (model.outputs.length !== 1) return { ok: false, problem: `it has ${model.outputs.length} outputs, not 1` };
  const inShape = model.inputs[0].shape;
  const outShape = model.outputs[0].shape;
  const posInt = (d: number | null): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0;
  if (inShape.length === 4 && inShape[0] !== null) {
    return {
      ok: false,
      problem: `its input has a fixed batch size (${fmt(inShape)}); re-export it with batch size None`,
    };
  }
  if (inShape.length !== 4 || !posInt(inShape[1]) || !posInt(inShape[2]) || !posInt(inShape[3])) {
    return {
      ok: false,
      problem: `its input has shape ${fmt(inShape)}, not an image batch [null, height, width, channels]`,
    };
  }
  if (outShape.length !== 2 || outShape[0] !== null || !posInt(outShape[1]) || outShape[1] < 2) {
    return { ok: false, problem: `its output has shape ${fmt(outShape)}, not class scores [null, C] with C >= 2` };
  }
  return {
    ok: true,
    inputShape: [inShape[1], inShape[2], inShape[3]] as [number, number, number],
    numClasses: outShape[1],
  };
}

export function layerNames(model: tf.LayersModel): string[] {
  return model.layers.map((l) => l.name);
}

/**
 * Whether the model can be cut at this layer: every path from the input to the output goes
 * through it, so the layer's output carries all the information the head sees. A layer
 * inside a residual branch, for example, is not a split point.
 */
export function isSplitPoint(model: tf.LayersModel, layerName: string): boolean {
  const seen = new Set<number>();
  const stack: tf.SymbolicTensor[] = [...model.outputs];
  let reachedSplit = false;
  while (stack.length > 0) {
    const t = stack.pop() as tf.SymbolicTensor;
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    if (t.sourceLayer.name === layerName) {
      reachedSplit = true;
      continue;
    }
    const inputs = t.inputs ?? [];
    if (inputs.length === 0) return false; // reached a model input without passing the split layer
    stack.push(...inputs);
  }
  return reachedSplit;
}

/** All valid split points, in layer order. */
export function splitPoints(model: tf.LayersModel): string[] {
  return layerNames(model).filter((n) => isSplitPoint(model, n));
}

/**
 * Default split point for a model that does not name one: the layer feeding the output layer
 * (the penultimate layer of a plain stack).
 */
export function guessSplitLayer(model: tf.LayersModel): string {
  const out = model.outputs[0];
  const feeding = out.inputs?.length === 1 ? out.inputs[0].sourceLayer.name : undefined;
  if (feeding && isSplitPoint(model, feeding) && feeding !== model.inputLayers[0]?.name) return feeding;
  const points = splitPoints(model).filter((n) => n !== model.inputLayers[0]?.name);
  return points.length >= 2 ? points[points.length - 2] : (points[0] ?? out.sourceLayer.name);
}
