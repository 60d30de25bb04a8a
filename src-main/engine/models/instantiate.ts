/**
 * Building a loaded model through TF.js's own loader, and turning its errors into AuditErrors
 * that say what is wrong (unknown class, which weight mismatches the topology), because TF.js's
 * messages name neither the file nor the fix.
 */
import * as tf from '@tensorflow/tfjs';
import { AuditError } from '../errors';
// Registers the BatchNormalization class with PyTorch's moving-variance update under the stock
// name, so that a loaded model (victim, reference, surrogate) trains like a freshly built one.
import './batch-norm';
import './conv2d';
import { summarize, weightMismatches } from './probe';
import type { ParsedModelJson } from './validate';

/** Builds the model through TF.js's own loader, mapping its errors to AuditErrors. */
export async function instantiateModel(
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
    const problems = weightMismatches(model, specs);
    return problems.length === 0 ? undefined : summarize(problems);
  } finally {
    model.dispose();
  }
}
