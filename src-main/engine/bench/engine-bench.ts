/**
 * Engine benchmark: inference and training examples/s per model on the active backend.
 * A training step (forward, backward, SGD-momentum update) counts as 3x the forward FLOPs.
 * Figures are medians over timed repetitions after warm-up.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../datasets/types';
import { forwardFlopsPerExample } from '../models/flops';
import { ARCHITECTURES, buildModel } from '../models/zoo';
import { createRng } from '../rng';
import { DEFAULT_OPTIMIZER, Optimizer } from '../training/optimizers';
import { trainStep } from '../training/train';
import { setWasmThreads, wasmThreads } from '../wasm-threads';
import { medianOf } from './engine-compare';
import { cnn28, vggbn32 } from './reference-models';

export interface ModelBenchResult {
  arch: string;
  /** Threads the backend's kernels used (the wasm backend's pool; 1 elsewhere). */
  threads: number;
  inputShape: number[];
  batch: number;
  forwardMflopsPerExample: number;
  inferExPerSec: number;
  trainExPerSec: number;
  inferGflops: number;
  trainGflops: number;
}

export interface EngineBenchOptions {
  batch?: number;
  reps?: number;
  warmup?: number;
  /** Subset of model names (zoo archs and the reference shapes 'cnn28', 'vggbn32'). */
  models?: string[];
  /** Run on this many wasm threads (the threaded build must be loaded; see wasm-threads.ts). */
  threads?: number;
  onModel?: (r: ModelBenchResult) => void;
}

const REFERENCE_SHAPES: Record<string, () => tf.LayersModel> = { cnn28, vggbn32 };

export function benchModelNames(): string[] {
  return [...ARCHITECTURES.map((a) => a.name), ...Object.keys(REFERENCE_SHAPES)];
}

export function makeBenchModel(name: string): tf.LayersModel {
  const ref = REFERENCE_SHAPES[name];
  if (ref) return ref();
  const spec = ARCHITECTURES.find((a) => a.name === name);
  if (!spec) throw new Error(`unknown bench model ${name}`);
  return buildModel(name, { inputShape: spec.benchInputShape, numClasses: 10, seed: 1 }).model;
}

export function randomBenchSet(count: number, shape: number[], seed: number): ImageSet {
  const rng = createRng(seed);
  const [height, width, channels] = shape;
  const images = new Float32Array(count * height * width * channels);
  for (let i = 0; i < images.length; i++) images[i] = rng.next() * 2 - 1;
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.int(10);
  return { images, labels, count, height, width, channels, numClasses: 10 };
}

export function benchModel(name: string, batch: number, reps: number, warmup: number): ModelBenchResult {
  const model = makeBenchModel(name);
  const inputShape = (model.inputs[0].shape as number[]).slice(1);
  const flops = forwardFlopsPerExample(model);
  const data = randomBenchSet(batch, inputShape, 7);
  const idx = Int32Array.from({ length: batch }, (_, i) => i);
  const x = tf.tensor4d(data.images, [batch, inputShape[0], inputShape[1], inputShape[2]]);

  const infer = (): void => {
    const y = tf.tidy(() => model.predict(x) as tf.Tensor);
    y.dataSync();
    y.dispose();
  };
  const inferTimes: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t = performance.now();
    infer();
    if (i >= warmup) inferTimes.push(performance.now() - t);
  }

  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new Optimizer({ ...DEFAULT_OPTIMIZER, name: 'sgd', momentum: 0.9, weightDecay: 0 }, vars);
  const trainTimes: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t = performance.now();
    trainStep(model, data, idx, vars, optimizer, 0.01);
    if (i >= warmup) trainTimes.push(performance.now() - t);
  }
  optimizer.dispose();
  x.dispose();
  model.dispose();

  const inferExPerSec = (batch * 1000) / medianOf(inferTimes);
  const trainExPerSec = (batch * 1000) / medianOf(trainTimes);
  return {
    arch: name,
    threads: wasmThreads(),
    inputShape,
    batch,
    forwardMflopsPerExample: flops / 1e6,
    inferExPerSec,
    trainExPerSec,
    inferGflops: (inferExPerSec * flops) / 1e9,
    trainGflops: (trainExPerSec * 3 * flops) / 1e9,
  };
}

export function benchEngine(opts: EngineBenchOptions = {}): ModelBenchResult[] {
  const names = opts.models ?? benchModelNames();
  if (opts.threads !== undefined) setWasmThreads(opts.threads);
  const results: ModelBenchResult[] = [];
  for (const name of names) {
    const r = benchModel(name, opts.batch ?? 128, opts.reps ?? 5, opts.warmup ?? 2);
    opts.onModel?.(r);
    results.push(r);
  }
  return results;
}
