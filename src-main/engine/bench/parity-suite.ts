/**
 * The training-parity suite: every (architecture, backend) case on one data set, switching
 * the TF.js backend as it goes, summarised for `bench parity` and bench/results.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../datasets/types';
import { runParityCase } from './parity-case';
import {
  PARITY_TOLERANCE,
  type ParityCase,
  type ParityCaseResult,
  type ParityOptions,
  type TensorDiff,
} from './parity-types';

/** Activates a backend for the harness (cpu, or wasm with the project's training kernels). */
export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    const { registerWasmTrainingKernels } = await import('../wasm-kernels');
    registerWasmTrainingKernels();
  }
  await tf.setBackend(name);
  await tf.ready();
}

/** Small shapes of each zoo architecture for the harness (every code path, seconds per case). */
export const PARITY_ARCH_OPTIONS: Record<string, Pick<ParityCase, 'blocks' | 'depth' | 'hidden'>> = {
  cnn: { blocks: 3, hidden: 32 },
  vgg: { blocks: 3, depth: 2, hidden: 32 },
  resnet: { blocks: 3, depth: 1 },
};

export interface ParitySuiteOptions extends ParityOptions {
  archs: string[];
  backends: ('cpu' | 'wasm')[];
  iterations: number;
  batchSize: number;
  width: number;
  seed?: number;
  learningRate?: number;
  onCase?: (r: ParityCaseResult) => void;
}

export interface ParitySuiteResult {
  measuredAt: string;
  tolerance: typeof PARITY_TOLERANCE;
  measures: string;
  referenceDtype: string;
  data: { images: number; inputShape: number[] };
  cases: Omit<ParityCaseResult, 'gradients' | 'finalWeights'>[];
  /** Per case, every variable's relative differences (step-1 gradient, final weight). */
  details: { arch: string; backend: string; gradients: TensorDiff[]; finalWeights: TensorDiff[] }[];
  pass: boolean;
}

/** Runs every (arch, backend) case on `data`; switches the TF.js backend as it goes. */
export async function runParitySuite(data: ImageSet, opts: ParitySuiteOptions): Promise<ParitySuiteResult> {
  const cases: ParitySuiteResult['cases'] = [];
  const details: ParitySuiteResult['details'] = [];
  const previous = tf.getBackend();
  try {
    for (const backend of opts.backends) {
      await useBackend(backend);
      for (const arch of opts.archs) {
        const r = await runParityCase(
          {
            arch,
            width: opts.width,
            ...PARITY_ARCH_OPTIONS[arch],
            iterations: opts.iterations,
            batchSize: opts.batchSize,
            seed: opts.seed,
            learningRate: opts.learningRate,
          },
          data,
          opts,
        );
        opts.onCase?.(r);
        const { gradients, finalWeights, ...summary } = r;
        cases.push(summary);
        details.push({ arch, backend: r.backend, gradients, finalWeights });
      }
    }
  } finally {
    if (previous && previous !== tf.getBackend()) await tf.setBackend(previous);
  }
  return {
    measuredAt: new Date().toISOString(),
    tolerance: PARITY_TOLERANCE,
    measures:
      'tensor: max|engine - torch| / max|torch| per variable, the largest over variables reported; loss: max over steps of |engine - torch| / |torch|; ' +
      'both from the same initial weights and batches (engine float32, PyTorch in referenceDtype)',
    referenceDtype: opts.referenceDtype ?? 'float64',
    data: { images: data.count, inputShape: [data.height, data.width, data.channels] },
    cases,
    details,
    pass: cases.every((c) => c.pass),
  };
}
