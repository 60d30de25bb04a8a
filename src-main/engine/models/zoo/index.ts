/**
 * The model zoo: built-in architectures whose split points are layers named
 * `block1`..`blockN`, one per downsampling stage, addressed by name by the latent-level
 * attack and the white-box metrics.
 */
import type * as tf from '@tensorflow/tfjs';
import { AuditError } from '../../errors';
import { cnnArch, stripUndefined } from './cnn';
import { resnetArch } from './resnet';
import type { ArchOptions, ArchSpec } from './types';
import { vggArch } from './vgg';

export type { ArchOptions, ArchSpec } from './types';

export const ARCHITECTURES: readonly ArchSpec[] = [cnnArch, vggArch, resnetArch];

export function getArch(name: string): ArchSpec {
  const spec = ARCHITECTURES.find((a) => a.name === name);
  if (!spec) {
    throw new AuditError('UNKNOWN_ARCH', `Unknown architecture "${name}"`, {
      hint: `Built-in architectures: ${ARCHITECTURES.map((a) => a.name).join(', ')}. To audit another model, import it as a TF.js Layers model.`,
    });
  }
  return spec;
}

export interface BuiltModel {
  model: tf.LayersModel;
  /** Split-point layer names in order. */
  blocks: string[];
  defaultAttackBlock: string;
  defaultDeepJudgeBlock: string;
  /** The options actually used (defaults filled in), recorded in the model's metadata. */
  config: Required<Omit<ArchOptions, 'inputShape' | 'numClasses' | 'seed'>>;
}

/** Builds an architecture with seeded initialisation. */
export function buildModel(arch: string, opts: ArchOptions): BuiltModel {
  const spec = getArch(arch);
  const config = {
    ...spec.defaults,
    ...stripUndefined({ blocks: opts.blocks, width: opts.width, depth: opts.depth, hidden: opts.hidden }),
  };
  for (const [k, v] of Object.entries(config)) {
    if (!Number.isInteger(v) || v < 0 || (k !== 'hidden' && v < 1)) {
      throw new AuditError('INVALID_ARGUMENT', `Architecture option ${k}=${v} is not a positive integer`, {
        hint: 'Pass whole numbers for --blocks, --width, --depth and --hidden.',
      });
    }
  }
  const minSide = 2 ** config.blocks;
  if (opts.inputShape[0] < minSide || opts.inputShape[1] < minSide) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `${arch} with ${config.blocks} blocks needs inputs of at least ${minSide}x${minSide}, got ${opts.inputShape.join('x')}`,
      {
        hint: 'Use fewer blocks or larger inputs.',
      },
    );
  }
  const model = spec.build({ ...opts, ...config });
  const blocks = Array.from({ length: config.blocks }, (_, i) => `block${i + 1}`);
  return {
    model,
    blocks,
    defaultAttackBlock: spec.defaultAttackBlock(config.blocks),
    defaultDeepJudgeBlock: spec.defaultDeepJudgeBlock(config.blocks),
    config,
  };
}
