import type { IdxSplit } from '../engine/datasets/fixtures';

/** A 3-class IDX data set of 12x12 images: class k is a bright band in rows 4k..4k+3. */
export function bandsIdx(count: number, seed: number): IdxSplit {
  const h = 12;
  const w = 12;
  const pixels: number[] = [];
  const labels: number[] = [];
  let s = seed;
  for (let n = 0; n < count; n++) {
    const k = n % 3;
    labels.push(k);
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        const noise = (s % 60) - 30;
        pixels.push(Math.max(0, Math.min(255, (Math.floor(r / 4) === k ? 200 : 40) + noise)));
      }
  }
  return { pixels, labels, h, w };
}
