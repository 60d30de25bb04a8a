/** Deterministic randomness of an attack: per-iteration seeds and the mini-batch order. */
import { createRng, shuffledIndices } from '../rng';

/** Mixes integers into one 32-bit seed (for per-iteration generators). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/**
 * Mini-batch indices of iteration `it`: epochs of shuffled full batches (the order of epoch
 * e a pure function of (seed, e)), so a resumed run draws the same batches.
 */
export class BatchOrder {
  private order: Int32Array | undefined;
  private epoch = -1;
  readonly perEpoch: number;

  constructor(
    readonly count: number,
    readonly batchSize: number,
    private readonly seed: number,
  ) {
    this.perEpoch = Math.max(1, Math.floor(count / batchSize));
  }

  indices(it: number): Int32Array {
    const epoch = Math.floor(it / this.perEpoch);
    if (epoch !== this.epoch || !this.order) {
      this.order = shuffledIndices(this.count, createRng(mixSeed(this.seed, 0xba7c4, epoch)));
      this.epoch = epoch;
    }
    const pos = (it % this.perEpoch) * this.batchSize;
    return this.order.subarray(pos, pos + this.batchSize);
  }
}
