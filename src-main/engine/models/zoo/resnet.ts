/**
 * `resnet`: CIFAR-style ResNet (He et al. 2016, Section 4.2): a conv3x3 stem, then
 * `blocks` stages of `depth` basic residual units (two conv3x3-BN, identity shortcut, or
 * a 1x1 strided conv + BN when the shape changes). Stages after the first halve the
 * resolution; each stage's output is the named split point `block<i>`. Defaults give
 * ResNet-20 (3 stages x 3 units, 16/32/64 channels); the head is global average pooling
 * and one dense layer, as in the paper.
 */
import { conv2d } from '../conv2d';
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '../../rng';
import { stripUndefined } from './cnn';
import { bn, channelsOf, convBnRelu, heNormal, linearDefault } from './layers';
import type { ArchOptions, ArchSpec } from './types';

function residualUnit(
  x: tf.SymbolicTensor,
  filters: number,
  strides: number,
  rng: Rng,
  name: string,
  last: string | undefined,
): tf.SymbolicTensor {
  const inChannels = channelsOf(x);
  const a = convBnRelu(x, filters, rng, `${name}a`, { strides });
  const b = convBnRelu(a, filters, rng, `${name}b`, { relu: false });
  let shortcut = x;
  if (strides !== 1 || inChannels !== filters) {
    const proj = conv2d({
      filters,
      kernelSize: 1,
      strides,
      padding: 'same',
      useBias: false,
      kernelInitializer: heNormal(rng, inChannels),
      name: `${name}_proj`,
    }).apply(x) as tf.SymbolicTensor;
    shortcut = bn(proj, `${name}_proj_bn`);
  }
  const sum = tf.layers.add({ name: `${name}_add` }).apply([b, shortcut]) as tf.SymbolicTensor;
  // The last unit of a stage carries the stage's name: that is the split point.
  return tf.layers.reLU({ name: last ?? `${name}_out` }).apply(sum) as tf.SymbolicTensor;
}

export const resnetArch: ArchSpec = {
  name: 'resnet',
  description: 'CIFAR-style ResNet of basic residual units (default ResNet-20)',
  defaults: { blocks: 3, width: 16, depth: 3, hidden: 0 },
  benchInputShape: [32, 32, 3],
  defaultAttackBlock: (n) => `block${Math.min(2, n)}`,
  defaultDeepJudgeBlock: (n) => `block${Math.min(3, n)}`,
  build(opts: ArchOptions): tf.LayersModel {
    const { blocks, width, depth } = { ...resnetArch.defaults, ...stripUndefined(opts) };
    const rng = createRng(opts.seed);
    const input = tf.input({ shape: opts.inputShape, name: 'input' });
    let x = convBnRelu(input, width, rng, 'stem');
    for (let s = 1; s <= blocks; s++) {
      const filters = width * 2 ** (s - 1);
      for (let u = 1; u <= depth; u++) {
        const strides = s > 1 && u === 1 ? 2 : 1;
        x = residualUnit(x, filters, strides, rng, `s${s}u${u}`, u === depth ? `block${s}` : undefined);
      }
    }
    const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
    const logits = tf.layers
      .dense({ units: opts.numClasses, ...linearDefault(rng, channelsOf(pooled)), name: 'logits' })
      .apply(pooled) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: logits, name: 'resnet' });
  },
};
