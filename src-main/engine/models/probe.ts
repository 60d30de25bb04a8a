/**
 * The weights a topology will create, compared with the manifest before any shard is read
 * or the model is built for real. TF.js computes the shapes itself (no shape inference of our
 * own to drift from it), but every initializer in the topology is swapped for a probe that
 * counts parameters against the manifest's total and refuses before allocating: a 7 KB
 * model.json whose Dense layer makes an 8 GB kernel is refused, not run.
 */
import * as tf from '@tensorflow/tfjs';
import { AuditError } from '../errors';
// The BatchNormalization class the real load uses, so the probe builds the same layers.
import './batch-norm';
import './conv2d';
import { MODEL_JSON_FILE } from './model-dir';

type Json = Record<string, unknown>;

const PROBE_CLASS = 'OwnershipAuditProbeInitializer';

interface Budget {
  left: number;
  over?: { weight: string; shape: number[] };
}
const budgets = new Map<number, Budget>();
let nextProbe = 1;

class ExceededBudget extends Error {}

/** Zeros, but only while the probe's parameter budget lasts; names the weight that exceeds it. */
class ProbeInitializer extends tf.serialization.Serializable {
  static className = PROBE_CLASS;
  constructor(private readonly cfg: { probe: number; weight: string }) {
    super();
  }
  override getClassName(): string {
    return PROBE_CLASS;
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.cfg };
  }
  apply(shape: number[], dtype?: tf.DataType): tf.Tensor {
    const budget = budgets.get(this.cfg.probe);
    let n = 1;
    for (const d of shape) n *= d;
    if (!budget || !Number.isSafeInteger(n) || n > budget.left) {
      if (budget) budget.over = { weight: this.cfg.weight, shape: [...shape] };
      throw new ExceededBudget();
    }
    budget.left -= n;
    return tf.zeros(shape, dtype);
  }
}
tf.serialization.registerClass(ProbeInitializer);

/** A copy of the topology with every `*_initializer` replaced by the probe (config depth is bounded). */
function withProbe(node: unknown, probe: number, layer: string): unknown {
  if (Array.isArray(node)) return node.map((v) => withProbe(v, probe, layer));
  if (typeof node !== 'object' || node === null) return node;
  const obj = node as Json;
  const cfg = obj.config;
  const name =
    typeof cfg === 'object' && cfg !== null && typeof (cfg as Json).name === 'string'
      ? ((cfg as Json).name as string)
      : layer;
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    const m = /^(.*?)_?[iI]nitializer$/.exec(k);
    out[k] =
      m && v !== null && v !== undefined
        ? { class_name: PROBE_CLASS, config: { probe, weight: `${name}/${m[1] || k}` } }
        : withProbe(v, probe, name);
  }
  return out;
}

/** Problems of the manifest against the weights a built topology has (names and shapes). */
export function weightMismatches(model: tf.LayersModel, specs: readonly tf.io.WeightsManifestEntry[]): string[] {
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
  return problems;
}

export function summarize(problems: string[]): string {
  return problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
}

/**
 * Builds the topology with probe initializers (at most the manifest's parameter count is ever
 * allocated) and compares its weights with the manifest. Throws MODEL_SHAPE naming model.json
 * and the weight; topologies TF.js cannot build are left to the real load to report.
 */
export async function checkTopologyAgainstManifest(
  modelTopology: Json,
  specs: readonly tf.io.WeightsManifestEntry[],
  modelJsonPath: string,
): Promise<void> {
  const probe = nextProbe++;
  let total = 0;
  for (const s of specs) if (s.group !== 'optimizer') total += s.shape.reduce((a, b) => a * b, 1);
  const budget: Budget = { left: total };
  budgets.set(probe, budget);
  const shapeError = (message: string, cause?: unknown) =>
    new AuditError('MODEL_SHAPE', `Weights do not match the topology: ${message}`, {
      hint: `${MODEL_JSON_FILE} and the weight shards come from different models, or ${MODEL_JSON_FILE} was edited. Re-export the model.`,
      path: modelJsonPath,
      cause,
    });
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({
      modelTopology: withProbe(modelTopology, probe, '?') as Json,
    } as Parameters<typeof tf.models.modelFromJSON>[0]);
  } catch (e) {
    if (budget.over) {
      const n = budget.over.shape.reduce((a, b) => a * b, 1);
      throw shapeError(
        `the topology creates weight '${budget.over.weight}' of shape ${JSON.stringify(budget.over.shape)} (${n} parameters), ` +
          `more than the ${total} parameters the manifest holds in all`,
        e,
      );
    }
    // Unknown classes and unbuildable topologies: the real load reports them with their own codes.
    return;
  } finally {
    budgets.delete(probe);
  }
  try {
    const problems = weightMismatches(model, specs);
    if (problems.length > 0) throw shapeError(summarize(problems));
  } finally {
    model.dispose();
  }
}
