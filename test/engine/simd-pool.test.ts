// The helper threads that run shares of the project's SIMD routines on a shared heap
// (simd-pool.ts): shares run on helpers write the same memory as this thread, and where no
// helper can run (an unshared memory) every share still runs, here.
import { expect, it } from 'vitest';
import { simdInstance } from '../../src-main/engine/wasm-kernels/simd-module';
import { elementRanges, runShares, simdHelpersStarted } from '../../src-main/engine/wasm-kernels/simd-pool';

const N = 3 * 65536 + 8; // three shares of whole vectors

function multiplyIn(memory: WebAssembly.Memory, shares: number): { got: Float32Array; want: Float32Array } {
  const simd = simdInstance(memory);
  if (!simd) throw new Error('the SIMD module did not compile');
  const [a, b, out] = [0, 1, 2].map((k) => k * N * 4);
  const heap = new Float32Array(memory.buffer);
  for (let i = 0; i < N; i++) {
    heap[i] = (i % 97) - 48.5;
    heap[N + i] = 1 / ((i % 13) + 1);
  }
  heap.fill(NaN, 2 * N, 3 * N);
  const ranges = elementRanges(N, shares);
  expect(ranges).toHaveLength(shares);
  runShares(
    simd,
    'multiply',
    ranges.map(([s, e]) => [a + 4 * s, b + 4 * s, out + 4 * s, 4 * (e - s)]),
  );
  const want = Float32Array.from({ length: N }, (_, i) => Math.fround(heap[i] * heap[N + i]));
  return { got: heap.slice(2 * N, 3 * N), want };
}

it('runs shares on helper threads over a shared memory, and here over an unshared one', () => {
  const pages = Math.ceil((3 * N * 4) / 65536);
  const before = simdHelpersStarted();
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const shared = multiplyIn(memory, 3);
  expect(simdHelpersStarted() - before).toBe(2);
  expect(shared.got).toEqual(shared.want);
  // Again on the same memory: the helpers are reused, not started anew.
  const again = multiplyIn(memory, 3);
  expect(again.got).toEqual(again.want);
  const unshared = multiplyIn(new WebAssembly.Memory({ initial: pages }), 3);
  expect(unshared.got).toEqual(unshared.want);
  expect(simdHelpersStarted() - before).toBe(2);
});

it('cuts element ranges in whole vectors, never smaller than a share is worth', () => {
  expect(elementRanges(1024, 4)).toEqual([[0, 1024]]);
  expect(elementRanges(65536, 2)).toEqual([
    [0, 32768],
    [32768, 65536],
  ]);
  for (const [s, e] of elementRanges(100_004, 3)) expect([s % 4, e % 4]).toEqual([0, 0]);
});
