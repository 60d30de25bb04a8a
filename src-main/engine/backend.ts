/**
 * Compute backend selection: tfjs-node-gpu (CUDA) > tfjs-node (CPU) > wasm (SIMD) > cpu.
 *
 * Chosen once per process, at start-up, by `initBackend()`. The native packages are
 * optional dependencies (their install downloads libtensorflow, which fails on machines
 * without internet), so whether they load is probed in a child process: loading both
 * native packages into one process conflicts, and a broken native addon must not take
 * the caller down. The wasm backend gets the project's own gradient kernels, without
 * which it cannot train a conv net.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { AuditError } from './errors';
import {
  clampThreads,
  machineThreads,
  prepareThreadedWasm,
  setWasmThreads,
  unrefPthreads,
  wasmThreads,
  withWasmCoreCount,
} from './wasm-threads';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** In preference order. */
export const BACKEND_PREFERENCE: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** Environment variable that overrides the automatic choice. */
export const BACKEND_ENV = 'OWNERSHIP_AUDIT_BACKEND';

export interface BackendInfo {
  /** The backend every computation in this process runs on. */
  backend: BackendName;
  /** Backends that load on this machine, in preference order. */
  available: BackendName[];
  /** TF.js engine name of the active backend ('tensorflow', 'wasm' or 'cpu'). */
  tfjsBackend: string;
  tfjsVersion: string;
  /** Threads the kernels use now (the wasm backend's pool; 1 elsewhere: native TF sizes its own). */
  threads: number;
}

export interface InitBackendOptions {
  /**
   * Load the wasm backend's threaded build with this many threads (the runner's job
   * processes: their count can then change while a job runs, see wasm-threads.ts). Left out,
   * the wasm backend is the single-threaded build. Ignored by the other backends.
   */
  threads?: number;
}

const NATIVE_PACKAGE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

const requireHere = createRequire(typeof __filename !== 'undefined' ? __filename : `${process.cwd()}/index.js`);

function resolvable(pkg: string): boolean {
  try {
    requireHere.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * Loads a native package in a child process and reports whether it works; for the GPU
 * package it also requires a CUDA device (tfjs-node-gpu silently falls back to the CPU).
 */
function probeNative(name: 'tensorflow-gpu' | 'tensorflow'): boolean {
  const pkg = NATIVE_PACKAGE[name];
  if (!resolvable(pkg)) return false;
  const script = `
    const tf = require(${JSON.stringify(pkg)});
    const b = tf.backend();
    const gpu = Boolean(b && b.isUsingGpuDevice);
    process.stdout.write(JSON.stringify({ ok: tf.getBackend() === 'tensorflow', gpu }));`;
  const res = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
    // ELECTRON_RUN_AS_NODE: inside the desktop app's worker processes execPath is the Electron
    // binary, which must run the probe as plain Node (Node ignores the variable).
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', ELECTRON_RUN_AS_NODE: '1' },
    cwd: process.cwd(),
  });
  if (res.status !== 0) return false;
  try {
    const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { ok?: boolean; gpu?: boolean };
    return name === 'tensorflow-gpu' ? Boolean(out.ok && out.gpu) : Boolean(out.ok);
  } catch {
    return false;
  }
}

/**
 * For a command that computes in its own process with nothing else running beside it
 * (`verify`, `train`, `attack`...): every core, through the wasm backend's threaded build.
 */
export function allCores(): InitBackendOptions {
  return { threads: machineThreads() };
}

let probed: BackendName[] | undefined;

/** Which backends load on this machine (cached for the process). */
export function availableBackends(): BackendName[] {
  if (probed) return probed;
  const list: BackendName[] = [];
  if (probeNative('tensorflow-gpu')) list.push('tensorflow-gpu');
  if (probeNative('tensorflow')) list.push('tensorflow');
  if (resolvable('@tensorflow/tfjs-backend-wasm')) list.push('wasm');
  list.push('cpu');
  probed = list;
  return list;
}

export function parseBackendName(value: string): BackendName {
  const aliases: Record<string, BackendName> = {
    gpu: 'tensorflow-gpu',
    'tensorflow-gpu': 'tensorflow-gpu',
    'tfjs-node-gpu': 'tensorflow-gpu',
    node: 'tensorflow',
    tensorflow: 'tensorflow',
    'tfjs-node': 'tensorflow',
    wasm: 'wasm',
    cpu: 'cpu',
  };
  const name = aliases[value.trim().toLowerCase()];
  if (!name) {
    throw new AuditError('INVALID_ARGUMENT', `Unknown backend "${value}"`, {
      hint: `Use one of: ${BACKEND_PREFERENCE.join(', ')} (or unset ${BACKEND_ENV} to choose automatically).`,
    });
  }
  return name;
}

let active: BackendInfo | undefined;

/**
 * Picks and activates the backend. `preferred` (a setting or CLI flag) wins over the
 * environment variable, which wins over the automatic order. Calling it again returns the
 * first choice: the backend is fixed for the life of the process.
 */
export async function initBackend(preferred?: string, options: InitBackendOptions = {}): Promise<BackendInfo> {
  if (active) return active;
  const requested = preferred ?? process.env[BACKEND_ENV];
  const available = availableBackends();
  let choice: BackendName;
  if (requested) {
    choice = parseBackendName(requested);
    if (!available.includes(choice)) {
      throw new AuditError('BACKEND_UNAVAILABLE', `Backend "${choice}" does not load on this machine`, {
        hint:
          `Available here: ${available.join(', ')}. The native backends need @tensorflow/tfjs-node(-gpu), ` +
          'whose install downloads libtensorflow; reinstall with internet access, or set TFJS_NODE_CDN_STORAGE to a local mirror.',
      });
    }
  } else {
    choice = available[0];
  }
  await activate(choice, options.threads);
  active = {
    backend: choice,
    available,
    tfjsBackend: tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    get threads() {
      return wasmThreads();
    },
  };
  return active;
}

async function activate(choice: BackendName, threads: number | undefined): Promise<void> {
  if (choice === 'tensorflow-gpu' || choice === 'tensorflow') {
    requireHere(NATIVE_PACKAGE[choice]);
    await tf.setBackend('tensorflow');
  } else if (choice === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const { registerWasmTrainingKernels } = await import('./wasm-kernels');
    registerWasmTrainingKernels();
    const threaded = threads !== undefined && prepareThreadedWasm();
    // XNNPACK's own pool stays at one thread: the job's threads go to the engine's SIMD
    // routines (see wasm-threads.ts, "Which threads").
    if (threaded) wasm.setThreadsCount(1);
    if (!threaded || !(await withWasmCoreCount(() => tf.setBackend('wasm')))) {
      // The threaded build failed to start (TF.js has logged why): the single-threaded one.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      await tf.setBackend('wasm');
    }
    if (threaded) setWasmThreads(clampThreads(threads));
    unrefPthreads();
  } else {
    await tf.setBackend('cpu');
  }
  await tf.ready();
}

/** The active backend, or undefined before `initBackend()`. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}
