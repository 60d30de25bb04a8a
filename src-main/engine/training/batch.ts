/** Turns rows of an in-memory image set into tensors. */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../datasets/types';

/** Gathers the given example indices into an NHWC image tensor and an int32 label tensor. */
export function batchTensors(set: ImageSet, indices: ArrayLike<number>): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const per = set.height * set.width * set.channels;
  const images = new Float32Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    images.set(set.images.subarray(k * per, (k + 1) * per), i * per);
    labels[i] = set.labels[k];
  }
  return {
    x: tf.tensor4d(images, [indices.length, set.height, set.width, set.channels]),
    y: tf.tensor1d(labels, 'int32'),
  };
}

/** Contiguous index ranges [start, end) of at most `size` examples covering 0..count-1. */
export function* ranges(count: number, size: number): Generator<Int32Array> {
  for (let start = 0; start < count; start += size) {
    const end = Math.min(count, start + size);
    const idx = new Int32Array(end - start);
    for (let i = 0; i < idx.length; i++) idx[i] = start + i;
    yield idx;
  }
}
