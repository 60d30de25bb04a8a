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

// The public face of model I/O; the work is split by step: save.ts, load.ts (with
// read-weights.ts, instantiate.ts, load-blocks.ts) and model-dir.ts (file names, atomic write).
export { MODEL_JSON_FILE } from './model-dir';
export { DEFAULT_SHARD_BYTES, saveModel, type ModelMetaInput, type SaveModelOptions } from './save';
export { loadModel, type LoadedModel, type LoadModelOptions } from './load';
