/**
 * LayerCAM (Jiang et al., 2021) at a split point, for paper Fig. 9: which input regions
 * drive the predicted class through the block the attack worked at. With A the block's
 * activation (h x w x c) and g the gradient of the predicted class's logit with respect to
 * A, the map is ReLU(sum_c ReLU(g) * A), upsampled bilinearly to the input size and
 * scaled to [0, 1] per image. Each model is explained for its own predicted class.
 */
import * as tf from '@tensorflow/tfjs';
import { AuditError } from '../engine/errors';
import { splitAtBlock } from '../engine/models/split';

export interface LayerCamResult {
  /** One map per image, height x width values in [0, 1] (row-major). */
  maps: Float32Array[];
  height: number;
  width: number;
  /** The class each map explains (the model's prediction). */
  predicted: number[];
}

export function layerCam(model: tf.LayersModel, block: string, images: tf.Tensor4D): LayerCamResult {
  const split = splitAtBlock(model, block);
  if (split.latentShape.length !== 3) {
    throw new AuditError(
      'NOT_APPLICABLE',
      `LayerCAM needs a convolutional block; "${block}" has shape [${split.latentShape.join(', ')}]`,
      { hint: 'Pick a block with a spatial (h x w x c) output.' },
    );
  }
  const [, height, width] = images.shape;
  const [mapsT, predT] = tf.tidy(() => {
    const a = split.head.predict(images) as tf.Tensor4D;
    const logits = split.tail.predict(a) as tf.Tensor2D;
    const pred = logits.argMax(1) as tf.Tensor1D;
    const mask = tf.oneHot(pred, logits.shape[1]).toFloat();
    const score = (z: tf.Tensor): tf.Scalar =>
      (split.tail.apply(z, { training: false }) as tf.Tensor).mul(mask).sum() as tf.Scalar;
    const g = tf.grad(score)(a) as tf.Tensor4D;
    const cam = tf.relu(tf.relu(g).mul(a).sum(-1, true)) as tf.Tensor4D;
    const up = tf.relu(tf.image.resizeBilinear(cam, [height, width], true));
    const peak = up.max([1, 2, 3], true);
    const scaled = up.div(tf.maximum(peak, tf.scalar(1e-12)));
    return [scaled.reshape([images.shape[0], height * width]), pred];
  });
  const flat = mapsT.dataSync() as Float32Array;
  const predicted = Array.from(predT.dataSync());
  tf.dispose([mapsT, predT]);
  const maps = predicted.map((_, i) => flat.slice(i * height * width, (i + 1) * height * width));
  return { maps, height, width, predicted };
}

/** Jet-like colour map: 0 blue, 0.5 green-yellow, 1 red. */
export function jet(t: number): [number, number, number] {
  const c = (x: number): number => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(1.5 - Math.abs(4 * t - 3)), c(1.5 - Math.abs(4 * t - 2)), c(1.5 - Math.abs(4 * t - 1))];
}

/**
 * RGB bytes of the map laid over the image (pixels in [0, 1], HWC with 1 or 3 channels):
 * the heat colour's weight grows with the saliency, so unimportant regions show the image.
 */
export function overlay(pixels: Float32Array, channels: number, map: Float32Array): Uint8Array {
  const out = new Uint8Array(map.length * 3);
  for (let i = 0; i < map.length; i++) {
    const t = map[i];
    const [r, g, b] = jet(t);
    const alpha = 0.25 + 0.55 * t;
    for (let k = 0; k < 3; k++) {
      const base = 255 * Math.min(1, Math.max(0, pixels[i * channels + (channels === 3 ? k : 0)]));
      out[i * 3 + k] = Math.round((1 - alpha) * base + alpha * [r, g, b][k]);
    }
  }
  return out;
}
