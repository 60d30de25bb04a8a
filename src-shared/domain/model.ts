/**
 * What Ownership Audit knows about a saved model beyond its TF.js files: where it came from
 * (lineage), where it can be split for attacks and DeepJudge, and a hash that ties this
 * record to the exact topology and weight bytes on disk. Stored next to `model.json` as
 * `ownership-audit.json`.
 *
 * Pure data and pure helpers only: this module is shared with the renderer, so it must not
 * import Node or TF.js.
 */

/** Name of the sidecar file that holds a {@link ModelMeta} next to `model.json`. */
export const MODEL_META_FILE = 'ownership-audit.json';

/** Current sidecar format version. */
export const MODEL_META_FORMAT_VERSION = 1;

/** Architectures the zoo builds, plus 'imported' for models brought in from elsewhere. */
export type ModelArch = 'cnn' | 'vgg' | 'resnet' | 'imported' | (string & {});

export interface ModelMeta {
  formatVersion: 1;
  /** 'cnn' | 'vgg' | 'resnet' for zoo models, 'imported' for anything without a sidecar. */
  arch: ModelArch;
  /** The options the architecture was built with (width, depth, ...); `{}` for imports. */
  archConfig: Record<string, unknown>;
  /** One image, [height, width, channels]. */
  inputShape: [number, number, number];
  numClasses: number;
  /**
   * Layer names of the split points, in order from input to output. Zoo models name them
   * 'block1'..'blockN'; imported models use whatever layer names the user picked.
   */
  blocks: string[];
  /** Split point used by removal attacks unless the run says otherwise; one of `blocks`. */
  defaultAttackBlock: string;
  /** Layer whose activations DeepJudge compares unless the run says otherwise; one of `blocks`. */
  defaultDeepJudgeBlock: string;
  /** How the model came to be, e.g. `train(cnn,fashion-mnist)-finetune(0.5)`. */
  lineage: string;
  /**
   * sha256 (hex) over the canonical topology JSON, the weight specs and the weight bytes.
   * Independent of sharding and of JSON formatting.
   */
  contentHash: string;
  testAccuracy?: number;
  dataset?: string;
  seed?: number;
  /** TF.js backend the model was trained or saved with ('cpu', 'wasm', 'tensorflow', ...). */
  backend?: string;
  /** ISO 8601. */
  createdAt: string;
  notes?: string;
  /**
   * Per-channel statistics the model's inputs were normalised with, `(x - mean[c]) / std[c]`
   * on pixels in [0, 1]. Feed the model data normalised the same way.
   */
  normalization?: { mean: number[]; std: number[] };
  /** How the model was trained (iterations, batch size, optimizer, ...), for reports. */
  training?: TrainingRecord;
}

export interface TrainingRecord {
  iterations?: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: string;
  schedule?: string;
  seconds?: number;
  [key: string]: unknown;
}

/** Appends one step to a lineage string: `appendLineage('train(cnn,mnist)', 'prune(0.3)')`. */
export function appendLineage(lineage: string, step: string): string {
  const s = step.trim();
  if (!s) return lineage;
  const l = lineage.trim();
  return l ? `${l}-${s}` : s;
}

/**
 * Structural check of a parsed sidecar. Returns the problems found (empty when valid); the
 * caller decides how to report them. Does not check that the blocks exist in a model.
 */
export function modelMetaProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return ['the sidecar is not a JSON object'];
  }
  const v = value as Record<string, unknown>;
  const isStr = (x: unknown): x is string => typeof x === 'string';
  const isPosInt = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x) && x > 0;

  if (v.formatVersion !== MODEL_META_FORMAT_VERSION) {
    problems.push(
      typeof v.formatVersion === 'number' && v.formatVersion > MODEL_META_FORMAT_VERSION
        ? `formatVersion ${v.formatVersion} is newer than this version of Ownership Audit understands (${MODEL_META_FORMAT_VERSION})`
        : `formatVersion must be ${MODEL_META_FORMAT_VERSION}`,
    );
  }
  if (!isStr(v.arch) || v.arch === '') problems.push('arch must be a non-empty string');
  if (typeof v.archConfig !== 'object' || v.archConfig === null || Array.isArray(v.archConfig)) {
    problems.push('archConfig must be an object');
  }
  if (!Array.isArray(v.inputShape) || v.inputShape.length !== 3 || !v.inputShape.every(isPosInt)) {
    problems.push('inputShape must be [height, width, channels] of positive integers');
  }
  if (typeof v.numClasses !== 'number' || !Number.isInteger(v.numClasses) || v.numClasses < 2) {
    problems.push('numClasses must be an integer >= 2');
  }
  const blocks = Array.isArray(v.blocks) && v.blocks.every(isStr) ? (v.blocks as string[]) : undefined;
  if (!blocks || blocks.length === 0) problems.push('blocks must be a non-empty list of layer names');
  for (const key of ['defaultAttackBlock', 'defaultDeepJudgeBlock'] as const) {
    const b = v[key];
    if (!isStr(b)) problems.push(`${key} must be a string`);
    else if (blocks && !blocks.includes(b)) problems.push(`${key} '${b}' is not one of blocks [${blocks.join(', ')}]`);
  }
  if (!isStr(v.lineage)) problems.push('lineage must be a string');
  if (!isStr(v.contentHash) || !/^[0-9a-f]{64}$/.test(v.contentHash)) {
    problems.push('contentHash must be 64 lowercase hex digits (sha256)');
  }
  if (!isStr(v.createdAt)) problems.push('createdAt must be an ISO 8601 string');
  if (v.testAccuracy !== undefined && (typeof v.testAccuracy !== 'number' || !Number.isFinite(v.testAccuracy))) {
    problems.push('testAccuracy must be a finite number');
  }
  if (v.seed !== undefined && (typeof v.seed !== 'number' || !Number.isFinite(v.seed))) {
    problems.push('seed must be a number');
  }
  if (v.normalization !== undefined) {
    const n = v.normalization as Record<string, unknown> | null;
    const nums = (x: unknown) =>
      Array.isArray(x) && x.length > 0 && x.every((d) => typeof d === 'number' && Number.isFinite(d));
    if (
      typeof n !== 'object' ||
      n === null ||
      !nums(n.mean) ||
      !nums(n.std) ||
      (n.mean as number[]).length !== (n.std as number[]).length
    ) {
      problems.push('normalization must be { mean: number[], std: number[] } of equal, non-zero length');
    } else if ((n.std as number[]).some((d) => d <= 0)) {
      problems.push('normalization.std must be positive');
    }
  }
  if (
    v.training !== undefined &&
    (typeof v.training !== 'object' || v.training === null || Array.isArray(v.training))
  ) {
    problems.push('training must be an object');
  }
  for (const key of ['dataset', 'backend', 'notes'] as const) {
    if (v[key] !== undefined && !isStr(v[key])) problems.push(`${key} must be a string`);
  }
  return problems;
}
