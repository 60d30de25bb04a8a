/** Test accuracy and predicted labels of a classifier over an image set. */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../datasets/types';
import { batchTensors, ranges } from './batch';

export interface Evaluation {
  accuracy: number;
  count: number;
  /** argmax class per example. */
  predictions: Int32Array;
}

export function predictLabels(model: tf.LayersModel, set: ImageSet, batchSize = 256): Int32Array {
  const out = new Int32Array(set.count);
  let offset = 0;
  for (const idx of ranges(set.count, batchSize)) {
    const { x, y } = batchTensors(set, idx);
    const pred = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(-1));
    out.set(pred.dataSync() as Int32Array, offset);
    offset += idx.length;
    tf.dispose([x, y, pred]);
  }
  return out;
}

export function evaluate(model: tf.LayersModel, set: ImageSet, batchSize = 256): Evaluation {
  const predictions = predictLabels(model, set, batchSize);
  let correct = 0;
  for (let i = 0; i < set.count; i++) if (predictions[i] === set.labels[i]) correct++;
  return { accuracy: set.count ? correct / set.count : 0, count: set.count, predictions };
}
