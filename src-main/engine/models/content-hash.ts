/**
 * Content hash of a TF.js Layers model: sha256 over the canonical topology JSON, the weight
 * specs (name, shape, dtype, quantization) and the weight bytes in manifest order.
 *
 * Canonical means: keys sorted, no whitespace, JSON value semantics (undefined dropped). So
 * the hash does not change when model.json is re-indented or its keys reordered, nor with
 * the number of weight shards. Only the model config itself ({class_name, config}) is
 * hashed: not the `keras_version`/`backend` stamps next to it, not the `model_config`
 * wrapper Keras conversions use, and not `trainingConfig` (how the model was compiled is not
 * what the model is). It does change with any topology or weight change, including a
 * re-quantisation.
 */
import { createHash } from 'node:crypto';
import type * as tf from '@tensorflow/tfjs';

const DOMAIN = 'ownership-audit/content-hash/v1\n';

/** JSON with sorted keys and JSON.stringify's value semantics. */
export function canonicalJson(value: unknown): string {
  const plain: unknown = value === undefined ? null : JSON.parse(JSON.stringify(value));
  return stringifySorted(plain);
}

function stringifySorted(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stringifySorted).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stringifySorted(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** `{class_name, config}` of the model, unwrapped from Keras's model_config. */
function modelConfig(topology: unknown): unknown {
  if (typeof topology !== 'object' || topology === null) return topology;
  const t = topology as Record<string, unknown>;
  const cfg =
    typeof t.model_config === 'object' && t.model_config !== null ? (t.model_config as Record<string, unknown>) : t;
  return { class_name: cfg.class_name, config: cfg.config };
}

/** The parts of a weight spec that determine how its bytes are read. */
function specKey(s: tf.io.WeightsManifestEntry): Record<string, unknown> {
  const out: Record<string, unknown> = { name: s.name, shape: s.shape, dtype: s.dtype };
  if (s.quantization) out.quantization = s.quantization;
  if (s.group && s.group !== 'model') out.group = s.group;
  return out;
}

export function computeContentHash(
  modelTopology: unknown,
  weightSpecs: readonly tf.io.WeightsManifestEntry[],
  weightData: Uint8Array | readonly Uint8Array[],
): string {
  const h = createHash('sha256');
  h.update(DOMAIN);
  h.update(canonicalJson(modelConfig(modelTopology)));
  h.update('\n');
  h.update(canonicalJson(weightSpecs.map(specKey)));
  h.update('\n');
  const parts = weightData instanceof Uint8Array ? [weightData] : weightData;
  for (const p of parts) h.update(p);
  return h.digest('hex');
}
