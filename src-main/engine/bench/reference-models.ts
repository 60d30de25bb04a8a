/**
 * The two reference shapes of ../shared/tools/pytorch-reference/bench.py, built in TF.js
 * (NHWC) layer for layer, so the engine and PyTorch are timed on the same networks.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from '../models/batch-norm';
import { conv2d } from '../models/conv2d';

/** 28x28x1 -> conv32 3x3 -> conv64 3x3 -> maxpool 2 -> dense128 -> dense10 (24 MFLOP). */
export function cnn28(): tf.LayersModel {
  return tf.sequential({
    layers: [
      conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
      conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

/** 32x32x3 -> [conv-BN-ReLU x2, pool] for 32, 64, 128 channels -> dense128 -> dense10. */
export function vggbn32(): tf.LayersModel {
  const layers: tf.layers.Layer[] = [];
  let first = true;
  for (const filters of [32, 64, 128]) {
    for (let i = 0; i < 2; i++) {
      layers.push(
        conv2d({
          ...(first ? { inputShape: [32, 32, 3] } : {}),
          filters,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
        }),
      );
      // The engine's BN (PyTorch's semantics and closed-form gradient), as every model it trains.
      layers.push(batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 }), tf.layers.reLU());
      first = false;
    }
    layers.push(tf.layers.maxPooling2d({ poolSize: 2 }));
  }
  layers.push(tf.layers.flatten(), tf.layers.dense({ units: 128, activation: 'relu' }), tf.layers.dense({ units: 10 }));
  return tf.sequential({ layers });
}
