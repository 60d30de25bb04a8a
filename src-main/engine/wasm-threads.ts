/**
 * Both cores for one job: tfjs-backend-wasm's threaded SIMD build, run under Node.
 *
 * Why: the threaded build's heap is a SharedArrayBuffer, which is what lets the engine's SIMD
 * routines run on helper threads over the same tensors (wasm-kernels/simd-pool.ts), so one
 * training job uses every core when it runs alone. TF.js 4.22 turns the threaded build off in
 * Node (tfjs issue 3830) for three reasons this module works around, and nothing else of the
 * package is changed:
 * 1. the WASM_HAS_MULTITHREAD_SUPPORT flag answers false in Node: it is set explicitly;
 * 2. the pthread workers are started from a blob: URL, which Node's worker_threads cannot
 *    load, and would then evaluate the page's main script (here, the bundled CLI): a small
 *    worker script, written to a private temporary folder, runs the package's own pthread
 *    worker code and evaluates the package's own threaded glue (wasm-out/) instead;
 * 3. the backend caps its pool at half the logical cores (it assumes 2 hyper-threads per
 *    core), i.e. one thread on a 2-core machine: the core count it reads is raised while the
 *    module initialises, and the thread count is always set explicitly.
 *
 * Determinism: the routines split work by outputs (or by fixed row blocks added in order),
 * never inside one output's reduction, so a result is bit-identical for any thread count;
 * test/engine/wasm-threads.test.ts checks a training run with 1 and 2 threads against the
 * single-threaded build.
 *
 * Which threads: XNNPACK's pool stays at one thread, and the job's thread count goes to the
 * engine's own SIMD routines (wasm-kernels/simd-pool.ts: the convolutions forward and
 * backward, BatchNorm, ReLU's gradient), which split their work over helper threads on the
 * shared heap. Measured: with both on two threads, the pool's workers (which keep spinning
 * for a while after each XNNPACK kernel) and the helpers took turns on the two cores, and a
 * ResNet's inference ran at 0.7x; with the pool at one thread, vggbn32 trained 1.12x faster
 * than with XNNPACK's convolutions on two threads. Kernels only XNNPACK runs (dense layers'
 * forward GEMM, pooling, depthwise convolutions) then run on one thread.
 *
 * The thread count can change while a job runs (the runner gives a job that is left alone
 * the idle cores): the next routine call uses the new count, and helper threads are started
 * when first needed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** TF.js's pthread pool holds 8 workers; more threads than cores never helps. */
export const MAX_WASM_THREADS = 8;

const requireHere = createRequire(typeof __filename !== 'undefined' ? __filename : `${process.cwd()}/index.js`);

interface ThreadedWasmModule {
  /** Emscripten's pthread bookkeeping: Node worker_threads, idle and running. */
  PThread?: { unusedWorkers?: { unref?(): void }[]; runningWorkers?: { unref?(): void }[] };
}

let prepared = false;

/** How many threads a job may use on this machine (the logical cores, at most 8). */
export function machineThreads(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(MAX_WASM_THREADS, n));
}

function workerScript(glue: string, workerContents: string): string {
  // Emscripten's worker code is a string that starts by requiring worker_threads and fs; it
  // then answers the main thread's "load" message by importScripts(main script), which is
  // pointed at the threaded glue. Newlines inside its string literals must stay escaped, as
  // TF.js does before making its blob.
  return [
    "'use strict';",
    `const glue = ${JSON.stringify(glue)};`,
    `const workerCode = require(${JSON.stringify(workerContents)}).wasmWorkerContents.replace(/\\n/g, '\\\\n');`,
    "new Function('require', '__filename', workerCode)(require, glue);",
    "globalThis.importScripts = () => { (0, eval)(require('fs').readFileSync(glue, 'utf8')); };",
    '',
  ].join('\n');
}

/**
 * Makes the next `tf.setBackend('wasm')` load the threaded build. Returns false (and changes
 * nothing) where it cannot run: no SharedArrayBuffer, one core, or the package's threaded
 * files missing; the backend then stays single-threaded.
 */
export function prepareThreadedWasm(): boolean {
  if (prepared) return true;
  if (typeof SharedArrayBuffer === 'undefined' || machineThreads() < 2) return false;
  let glue: string;
  let workerContents: string;
  let expectedBlobSize: number;
  try {
    glue = requireHere.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
    workerContents = requireHere.resolve(
      '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js',
    );
    const code = (requireHere(workerContents) as { wasmWorkerContents?: unknown }).wasmWorkerContents;
    if (typeof code !== 'string') return false;
    expectedBlobSize = Buffer.byteLength(code.replace(/\n/g, '\\n'));
  } catch {
    return false;
  }
  // A private folder (mode 0700): another user of a shared /tmp cannot plant the script.
  let workerDir: string;
  let workerPath: string;
  const script = workerScript(glue, workerContents);
  const ensureScript = () => {
    if (!existsSync(workerPath)) writeFileSync(workerPath, script, { mode: 0o600 });
  };
  try {
    workerDir = mkdtempSync(join(os.tmpdir(), 'ownership-audit-wasm-'));
    workerPath = join(workerDir, `pthread-${randomBytes(4).toString('hex')}.cjs`);
    ensureScript();
  } catch {
    return false; // no writable temporary folder: single-threaded
  }
  process.on('exit', () => rmSync(workerDir, { recursive: true, force: true }));
  // TF.js hands its worker code to URL.createObjectURL and starts `new Worker(url)`; only
  // that blob (recognised by its exact size) is answered with the script's path.
  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (blob: Blob) => {
    if (blob instanceof Blob && blob.size === expectedBlobSize) {
      ensureScript();
      return workerPath;
    }
    return createObjectURL(blob);
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  prepared = true;
  return true;
}

/** Runs the wasm backend's initialisation with the core count it reads raised (see 3. above). */
export async function withWasmCoreCount<T>(init: () => Promise<T>): Promise<T> {
  if (!prepared) return init();
  const cpus = os.cpus;
  // The backend takes half of this as its cap; MAX_WASM_THREADS stays the real limit.
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * MAX_WASM_THREADS }, (_, i) => real[i % Math.max(1, real.length)]);
  };
  try {
    return await init();
  } finally {
    os.cpus = cpus;
  }
}

/** A requested thread count within [1, machineThreads()]. */
export function clampThreads(requested: number): number {
  return Math.max(1, Math.min(machineThreads(), Math.floor(requested)));
}

function threadedModule(): ThreadedWasmModule | undefined {
  if (!prepared || tf.getBackend() !== 'wasm' || !tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')) return undefined;
  return (tf.backend() as unknown as { wasm: ThreadedWasmModule }).wasm;
}

/**
 * Lets the process exit while pthreads exist: emscripten keeps a pool thread referenced while
 * it runs (and a pool's threads run, parked, for the life of the pool), so a command that ends
 * without process.exit would hang. A pthread still does its work when unreferenced.
 */
export function unrefPthreads(): void {
  const pthreads = threadedModule()?.PThread;
  for (const w of [...(pthreads?.unusedWorkers ?? []), ...(pthreads?.runningWorkers ?? [])]) w.unref?.();
}

/** How many threads the engine's own SIMD routines split their work over (see "Which threads"). */
let routineThreads = 1;

/** The wasm backend's current thread count (1 for the single-threaded build or another backend). */
export function wasmThreads(): number {
  return threadedModule() ? routineThreads : 1;
}

/**
 * Sets how many threads the wasm backend's kernels use from now on, clamped to
 * [1, machineThreads()]; returns the count in effect (1 where the build is not threaded).
 * XNNPACK's pool is left at one thread: the count goes to the engine's SIMD routines.
 */
export function setWasmThreads(requested: number): number {
  if (!threadedModule()) return 1;
  routineThreads = clampThreads(requested);
  return routineThreads;
}
