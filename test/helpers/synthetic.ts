/** Small synthetic image sets for fast, deterministic engine tests. */
import type { ImageSet } from '../../src-main/engine/datasets/types';
import { createRng } from '../../src-main/engine/rng';

/**
 * `classes` classes of `side`x`side` images: class k is a bright horizontal band at row
 * block k plus Gaussian-ish noise, so a small conv net separates them in a few dozen steps.
 */
export function bandImages(
  count: number,
  opts: { side?: number; channels?: number; classes?: number; seed?: number } = {},
): ImageSet {
  const side = opts.side ?? 8;
  const channels = opts.channels ?? 1;
  const classes = opts.classes ?? 2;
  const rng = createRng(opts.seed ?? 1);
  const per = side * side * channels;
  const images = new Float32Array(count * per);
  const labels = new Int32Array(count);
  const band = Math.max(1, Math.floor(side / classes));
  for (let n = 0; n < count; n++) {
    const k = n % classes;
    labels[n] = k;
    for (let r = 0; r < side; r++)
      for (let c = 0; c < side; c++)
        for (let ch = 0; ch < channels; ch++) {
          const on = Math.floor(r / band) === k ? 1 : 0;
          images[n * per + (r * side + c) * channels + ch] = on + (rng.next() - 0.5) * 0.6;
        }
  }
  return { images, labels, count, height: side, width: side, channels, numClasses: classes };
}
