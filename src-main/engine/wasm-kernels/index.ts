// Registers the training kernels that stock tfjs-backend-wasm 4.22 lacks or runs slowly.
//
// Why: out of the box the wasm backend cannot train a conv net (no Conv2DBackpropFilter, no
// depthwise backprop kernels), Conv2DBackpropInput/MaxPoolGrad/AvgPoolGrad are scalar loops,
// and MaxPoolGrad is wrong at 'same'-padded edges and for negative inputs. Profiling a full
// training step of the reference models then showed the next bottlenecks: Tile and leading-
// axis Sum/Mean (BatchNorm gradient), transposed BatchMatMul (dense gradients), BatchNorm and
// per-channel broadcast arithmetic, and copies made by Identity/Cast. Each replacement lives in
// its own module and is built on the backend's fast XNNPACK kernels or tight heap loops.
//
// How: registerWasmTrainingKernels() captures the stock kernel of every name it replaces (so a
// replacement can still delegate to it), unregisters it and registers ours for backendName
// 'wasm', keeping the stock setupFunc (the C++ binding our kernel may delegate to is created
// when the backend initialises). Calling it again is a no-op. It may be called before or after
// tf.setBackend('wasm'), but after importing '@tensorflow/tfjs-backend-wasm'.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { addConfig } from './add';
import { avgPoolGradConfig } from './avg-pool-grad';
import { batchMatMulConfig } from './batch-mat-mul';
import { batchNormMomentsConfig, batchNormTrainingGradConfig } from './batch-norm-train';
import { castConfig } from './cast';
import { conv2DConfig, fusedConv2DConfig } from './conv2d';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input';
import { fusedBatchNormConfig } from './fused-batch-norm';
import { identityConfig } from './identity';
import { maxPoolGradConfig } from './max-pool-grad';
import { meanConfig } from './mean';
import { multiplyConfig } from './multiply';
import { reluConfig } from './relu';
import { registerReluGradient, reluGradientConfig } from './relu-grad';
import { signConfig } from './sign';
import { stepConfig } from './step';
import { subConfig } from './sub';
import { sumConfig } from './sum';
import { tileConfig } from './tile';
import { captureStock, isOwn } from './wasm-util';

/** Every kernel this module installs on the wasm backend, by kernel name. */
export const wasmTrainingKernelConfigs: readonly KernelConfig[] = [
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  batchMatMulConfig,
  tileConfig,
  sumConfig,
  meanConfig,
  identityConfig,
  castConfig,
  fusedBatchNormConfig,
  batchNormMomentsConfig,
  batchNormTrainingGradConfig,
  multiplyConfig,
  addConfig,
  subConfig,
  signConfig,
  stepConfig,
  reluGradientConfig,
  reluConfig,
];

/** Names of the kernels registered by registerWasmTrainingKernels(). */
export const wasmTrainingKernelNames: readonly string[] = wasmTrainingKernelConfigs.map((c) => c.kernelName);

/**
 * Installs the training kernels on the wasm backend (idempotent). Importing
 * '@tensorflow/tfjs-backend-wasm' must have happened first, so that the stock kernels exist.
 */
export function registerWasmTrainingKernels(): void {
  if (tf.getKernel('Conv2D', 'wasm') === undefined) {
    throw new Error("registerWasmTrainingKernels: import '@tensorflow/tfjs-backend-wasm' first");
  }
  for (const cfg of wasmTrainingKernelConfigs) {
    const current = tf.getKernel(cfg.kernelName, 'wasm');
    if (current !== undefined && isOwn(current.kernelFunc)) continue;
    captureStock(cfg.kernelName);
    if (current !== undefined) tf.unregisterKernel(cfg.kernelName, 'wasm');
    // A replaced stock kernel may still be called by ours, so its setup (cwrap of the C++
    // function, run when the backend initialises) must still happen: carry it over.
    const setupFunc = current?.setupFunc ?? cfg.setupFunc;
    tf.registerKernel(setupFunc === undefined ? cfg : { ...cfg, setupFunc });
  }
  registerReluGradient();
}
