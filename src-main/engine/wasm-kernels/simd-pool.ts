// Runs the shares of one SIMD routine call on several threads over the shared heap.
//
// Why: the threaded build's XNNPACK kernels split their work over its pthreadpool, but the
// project's own SIMD routines (simd-module.ts) ran on the calling thread only, so with two
// threads the filter gradient (a third of a training step) did not get faster at all. The
// threaded build's heap is a shared WebAssembly.Memory: a Node worker thread that
// instantiates the same routine module on that memory works on the same tensors in place.
//
// How: one helper thread per extra share, started on first use and kept (unreferenced, so a
// process still exits on its own). A call posts the routine's name and its i32 arguments in a
// small shared control block, wakes the helper with Atomics.notify, runs share 0 on this
// thread and then waits (Atomics.wait) for the helpers. Callers split work so that the
// shares write disjoint outputs, each in the order one thread would use: the result does not
// depend on how many threads ran it. Where helpers cannot run (the single-threaded build's
// unshared memory, a runtime without worker threads), every share runs here, in order.
import { Worker } from 'node:worker_threads';
import type { SimdInstance, SimdRoutines } from './simd-module';

/** Arguments per call the control block holds (convTiles takes 13). */
const MAX_ARGS = 16;
// Control block (Int32Array): the call's generation, the generation done, its status (0 ok),
// whether the helper has started, the routine's index, the argument count, the arguments.
const [SEQ, DONE, STATUS, READY, ROUTINE, ARGC, ARGS] = [0, 1, 2, 3, 4, 5, 6];
/** How long one wait for a helper lasts before its thread is checked for having died. */
const WAIT_SLICE_MS = 1000;

// The helper's whole program: it instantiates the routines on the shared memory, then loops
// waiting for a new generation, runs it and reports. A trap is reported, not thrown.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, names } = workerData;
const routines = new WebAssembly.Instance(module, { env: { memory } }).exports;
const c = new Int32Array(control);
Atomics.store(c, ${READY}, 1);
let seen = 0;
for (;;) {
  Atomics.wait(c, ${SEQ}, seen);
  seen = Atomics.load(c, ${SEQ});
  const args = [];
  for (let i = 0; i < c[${ARGC}]; i++) args.push(c[${ARGS} + i]);
  let status = 0;
  try {
    routines[names[c[${ROUTINE}]]](...args);
  } catch {
    status = 1;
  }
  Atomics.store(c, ${STATUS}, status);
  Atomics.store(c, ${DONE}, seen);
  Atomics.notify(c, ${DONE});
}
`;

interface Helper {
  worker: Worker;
  control: Int32Array;
  generation: number;
}

type RoutineName = keyof SimdRoutines;

/** Thrown when a helper thread fails a share (its routine trapped, or its thread died). */
export class SimdHelperError extends Error {
  constructor(message: string) {
    super(`${message}; the kernel's result was discarded. Run with one thread (--threads 1) to continue.`);
    this.name = 'SimdHelperError';
  }
}

// By module: each flavour of the routines (simd-module.ts) has its own helpers.
const helpers = new WeakMap<WebAssembly.Module, Helper[]>();
let helpersStarted = 0;
/** Memories whose helpers could not start: their calls run every share on this thread. */
const noHelpers = new WeakSet<WebAssembly.Memory>();

function startHelper(simd: SimdInstance, names: string[]): Helper {
  const control = new Int32Array(new SharedArrayBuffer(4 * (ARGS + MAX_ARGS)));
  const worker = new Worker(HELPER_SOURCE, {
    eval: true,
    workerData: { module: simd.module, memory: simd.memory, control: control.buffer, names },
  });
  worker.unref();
  helpersStarted++;
  return { worker, control, generation: 0 };
}

/** How many helper threads this process has started (for tests and logs). */
export function simdHelpersStarted(): number {
  return helpersStarted;
}

/** Up to `count` helpers on this memory (fewer, possibly none, where they cannot start). */
function helpersFor(simd: SimdInstance, count: number): Helper[] {
  if (count <= 0 || !simd.shared || noHelpers.has(simd.memory)) return [];
  const pool = helpers.get(simd.module) ?? [];
  helpers.set(simd.module, pool);
  const names = Object.keys(simd.routines);
  try {
    while (pool.length < count) pool.push(startHelper(simd, names));
  } catch {
    if (pool.length === 0) noHelpers.add(simd.memory);
  }
  return pool.slice(0, count);
}

function post(helper: Helper, routine: number, args: number[]): void {
  const c = helper.control;
  if (args.length > MAX_ARGS) throw new Error(`simd-pool: ${args.length} arguments, at most ${MAX_ARGS}`);
  c[ROUTINE] = routine;
  c[ARGC] = args.length;
  args.forEach((a, i) => (c[ARGS + i] = a));
  helper.generation++;
  Atomics.store(c, SEQ, helper.generation);
  Atomics.notify(c, SEQ);
}

/**
 * Waits for the helper's share. Returns false if the helper's thread ended before it ever
 * started (a runtime that cannot run it): the share is then still to be done, and later
 * calls on this memory run every share on the calling thread.
 */
function waitFor(simd: SimdInstance, helper: Helper): boolean {
  const c = helper.control;
  for (;;) {
    const done = Atomics.load(c, DONE);
    if (done === helper.generation) break;
    if (Atomics.wait(c, DONE, done, WAIT_SLICE_MS) === 'timed-out' && helper.worker.threadId === -1) {
      helpers.delete(simd.module);
      noHelpers.add(simd.memory);
      if (Atomics.load(c, READY) === 0) return false;
      throw new SimdHelperError('a SIMD helper thread stopped during its share');
    }
  }
  if (c[STATUS] !== 0) throw new SimdHelperError('a SIMD helper thread failed its share (the routine trapped)');
  return true;
}

/**
 * Runs `name` once per share (each an argument list): share 0 on this thread, the others on
 * helper threads at the same time, and returns when all are done. With fewer helpers than
 * shares, the rest run here, in order.
 */
export function runShares(simd: SimdInstance, name: RoutineName, shares: number[][]): void {
  const routine = simd.routines[name] as (...args: number[]) => void;
  const pool = helpersFor(simd, shares.length - 1);
  const index = Object.keys(simd.routines).indexOf(name);
  pool.forEach((h, i) => post(h, index, shares[i + 1]));
  let failure: unknown;
  try {
    routine(...shares[0]);
    for (const args of shares.slice(pool.length + 1)) routine(...args);
  } catch (err) {
    failure = err;
  }
  // Every helper is waited for, even after a failure here: none may still write to the heap.
  pool.forEach((h, i) => {
    try {
      if (!waitFor(simd, h) && failure === undefined) routine(...shares[i + 1]);
    } catch (err) {
      failure ??= err;
    }
  });
  if (failure !== undefined) throw failure;
}

/** Splits [0, count) into at most `parts` contiguous, non-empty ranges (one share each). */
export function splitRanges(count: number, parts: number): Array<[number, number]> {
  const n = Math.max(1, Math.min(parts, count));
  return Array.from({ length: n }, (_, k) => [Math.floor((k * count) / n), Math.floor(((k + 1) * count) / n)]);
}

/** Below this many elements an elementwise routine runs on this thread alone (waking a helper costs more). */
const MIN_ELEMENTS_PER_SHARE = 32768;

/**
 * Splits `count` float32 elements (a multiple of 4) into at most `threads` contiguous ranges
 * [start, end), each a multiple of 4 elements and at least MIN_ELEMENTS_PER_SHARE long.
 */
export function elementRanges(count: number, threads: number): Array<[number, number]> {
  const parts = Math.max(1, Math.min(threads, Math.floor(count / MIN_ELEMENTS_PER_SHARE)));
  const quads = count / 4;
  return Array.from({ length: parts }, (_, k) => [
    4 * Math.floor((k * quads) / parts),
    4 * Math.floor(((k + 1) * quads) / parts),
  ]);
}
