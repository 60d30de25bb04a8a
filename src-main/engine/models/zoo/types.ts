import type * as tf from '@tensorflow/tfjs';

/** What every built-in architecture is built from. Input shape and classes come from the data. */
export interface ArchOptions {
  inputShape: [number, number, number];
  numClasses: number;
  /** Seed for every initialiser in the model. */
  seed: number;
  /** Number of downsampling blocks (named block1..blockN). */
  blocks?: number;
  /** Channels of the first block; later blocks double it. */
  width?: number;
  /** Convolutions per block (vgg) or residual units per stage (resnet). */
  depth?: number;
  /** Units of the hidden dense layer (cnn, vgg). */
  hidden?: number;
}

export interface ArchSpec {
  name: string;
  description: string;
  /** Block the latent-level attack splits at by default (RemovalNet's CIFAR runs: block 2). */
  defaultAttackBlock: (blocks: number) => string;
  /** Block the DeepJudge metrics read by default (the paper: block 3). */
  defaultDeepJudgeBlock: (blocks: number) => string;
  defaults: Required<Pick<ArchOptions, 'blocks' | 'width' | 'depth' | 'hidden'>>;
  /** Input shape used when no data set fixes it (the benchmark). */
  benchInputShape: [number, number, number];
  build(opts: ArchOptions): tf.LayersModel;
}
