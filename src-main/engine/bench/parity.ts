/**
 * Training-parity harness: trains a zoo model with the engine and the same network with
 * PyTorch (bench/parity/torch_parity.py, run by Debian's /usr/bin/python3 with torch) from
 * the same initial weights on the same batches, and compares
 *
 *   - the loss of every step,
 *   - the gradient of every trainable variable at step 1,
 *   - every weight (and BatchNorm moving statistic) after the last step,
 *   - in lockstep, every step's gradient recomputed by the engine from PyTorch's
 *     parameters at that step (see `lockstepCheck`).
 *
 * Why: the engine's training path (initialisers aside, which are checked statistically
 * here because weights are copied across) must be numerically the PyTorch recipe it
 * claims to be; a silent difference in the BatchNorm gradient, the optimiser, weight decay,
 * the loss or the schedule shows up as a learning gap that no unit test of one op catches.
 *
 * The engine side goes through the real training loop (`train()`): its batch plan, its
 * schedule and its optimiser; only the step-1 gradient is taken separately (then the
 * initial weights, moving statistics included, are restored).
 *
 * Relative difference of a tensor: max |engine - torch| / max |torch| (the inf-norm,
 * so that entries near zero do not dominate); of the loss curve: max over steps of
 * |engine - torch| / |torch|. PyTorch runs in float64 by default (the exact reference).
 *
 * Two free-running trajectories (float32 engine, float64 PyTorch) can part after a few
 * dozen steps without anything being wrong: once a ReLU input lies within rounding of 0
 * the two sides may take different branches, and SGD with momentum amplifies the
 * difference (seen on wasm, whose float32 sums are ~10x noisier than the cpu backend's
 * float64-accumulated JS loops). The lockstep comparison tells that apart from a wrong
 * step: it restarts every step from PyTorch's own parameters.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../datasets/types';
import { buildModel } from '../models/zoo';
import { batchTensors } from '../training/batch';
import { DEFAULT_OPTIMIZER, WEIGHT_DECAY_SCOPE, type OptimizerConfig } from '../training/optimizers';
import type { ScheduleName } from '../training/schedule';
import { batchPlan, lossAndGradients, train } from '../training/train';

export const PYTHON = '/usr/bin/python3';

/** Agreement the harness asks for (see the module comment for the measures). */
export const PARITY_TOLERANCE = { step1Gradient: 1e-4, lossCurve: 1e-2 } as const;

export interface ParityCase {
  arch: string;
  width?: number;
  blocks?: number;
  depth?: number;
  hidden?: number;
  iterations: number;
  batchSize: number;
  learningRate?: number;
  schedule?: ScheduleName;
  seed?: number;
  optimizer?: Partial<OptimizerConfig>;
}

export interface TensorDiff {
  name: string;
  shape: number[];
  maxAbsDiff: number;
  maxAbsRef: number;
  relDiff: number;
}

export interface InitCheck {
  name: string;
  /** Fan-in of the kernel (kh * kw * in for a conv, in for a dense layer). */
  fanIn: number;
  std: number;
  /** PyTorch's std for it: kaiming_normal_ sqrt(2 / fanIn) for a conv, nn.Linear's 1 / sqrt(3 fanIn) for a dense layer. */
  expectedStd: number;
  ratio: number;
  initializer: string;
}

export interface ParityCaseResult {
  arch: string;
  backend: string;
  config: Required<Pick<ParityCase, 'iterations' | 'batchSize' | 'learningRate' | 'schedule' | 'seed'>> & {
    archOptions: Record<string, number>;
    optimizer: OptimizerConfig;
    weightDecayScope: string;
    inputShape: number[];
  };
  torchVersion: string;
  referenceDtype: string;
  losses: { engine: number[]; torch: number[] };
  lossMaxRelDiff: number;
  /** Largest per-variable relative difference of the step-1 gradients, and which variable. */
  gradMaxRelDiff: number;
  gradWorst: string;
  /** Same for the weights after the last step (trainable variables and moving statistics). */
  weightMaxRelDiff: number;
  weightWorst: string;
  step1Loss: { engine: number; torch: number };
  /**
   * Every step recomputed by the engine from PyTorch's parameters at that step: the step
   * function compared without the chaos of two free-running float32/float64 trajectories.
   */
  lockstep: LockstepResult;
  learningRates: { maxAbsDiff: number };
  gradients: TensorDiff[];
  finalWeights: TensorDiff[];
  init: InitCheck[];
  tolerance: typeof PARITY_TOLERANCE;
  /** First step (1-based) whose loss differs by more than 1e-4 relative; null if none. */
  firstPartingStep: number | null;
  /**
   * Max relative difference of PyTorch's float32 loss curve from its float64 one on this case;
   * measured only when the engine's curve misses PARITY_TOLERANCE.lossCurve.
   */
  torchFloat32LossDrift?: number;
  /**
   * Step-1 gradients within PARITY_TOLERANCE, and the free-running loss curve within it or,
   * with the lockstep gradients agreeing, no further from the float64 curve than PyTorch's own
   * float32 run is.
   */
  pass: boolean;
  /** Why a case outside tolerance is (or is not) explained, when it can be said. */
  note?: string;
}

export interface ParityOptions {
  /** The PyTorch script (default bench/parity/torch_parity.py under `root`). */
  script?: string;
  root?: string;
  python?: string;
  /** Keep the exchange directory (for debugging); default: removed. */
  keepDir?: boolean;
  timeoutMs?: number;
  /**
   * Arithmetic of the PyTorch reference (default float64: the exact gradient; PyTorch's own
   * float32 CPU kernels were measured further from it than the engine's float32 is).
   */
  referenceDtype?: 'float32' | 'float64';
}

/** Whether /usr/bin/python3 can import torch (the harness needs it). */
export function torchAvailable(python = PYTHON): boolean {
  if (!existsSync(python)) return false;
  const res = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 });
  return res.status === 0;
}

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

export function relDiff(
  a: Float32Array,
  ref: Float32Array,
): { maxAbsDiff: number; maxAbsRef: number; relDiff: number } {
  if (a.length !== ref.length) throw new Error(`length ${a.length} vs ${ref.length}`);
  let maxAbsDiff = 0;
  let maxAbsRef = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - ref[i]);
    if (!(d <= maxAbsDiff)) maxAbsDiff = d; // NaN propagates
    maxAbsRef = Math.max(maxAbsRef, Math.abs(ref[i]));
  }
  return { maxAbsDiff, maxAbsRef, relDiff: maxAbsDiff / Math.max(maxAbsRef, 1e-30) };
}

interface WeightSlot {
  key: string;
  lv: tf.LayerVariable;
  trainable: boolean;
}

/** Every weight of the model keyed `<layer>/<role>` (role: kernel, bias, gamma, beta, moving_mean, moving_variance). */
function weightSlots(model: tf.LayersModel): WeightSlot[] {
  const out: WeightSlot[] = [];
  for (const layer of model.layers) {
    for (const lv of layer.weights) {
      const role = lv.originalName.split('/').pop()!;
      out.push({ key: `${layer.name}/${role}`, lv, trainable: lv.trainable });
    }
  }
  return out;
}

function layerGraph(model: tf.LayersModel): unknown[] {
  return model.layers.map((layer) => ({
    name: layer.name,
    className: layer.getClassName(),
    config: layer.getConfig(),
    inbound: layer.inboundNodes[0]?.inboundLayers.map((l) => l.name) ?? [],
  }));
}

const f32 = (dir: string, name: string, data: Float32Array | Int32Array): string => {
  writeFileSync(join(dir, name), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return name;
};
const readF32 = (dir: string, name: string): Float32Array => {
  const b = readFileSync(join(dir, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/**
 * Empirical std of every kernel against the PyTorch recipe's: the weights are copied into
 * PyTorch, so the initialisers are checked here, statistically.
 */
function initChecks(model: tf.LayersModel): InitCheck[] {
  const out: InitCheck[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls !== 'Conv2D' && cls !== 'Dense') continue;
    const kernel = layer.weights.find((w) => w.originalName.endsWith('/kernel'));
    if (!kernel) continue;
    const shape = kernel.shape as number[];
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const v = kernel.read().dataSync() as Float32Array;
    let s = 0;
    let s2 = 0;
    for (const x of v) {
      s += x;
      s2 += x * x;
    }
    const mean = s / v.length;
    const std = Math.sqrt(Math.max(0, s2 / v.length - mean * mean));
    const expectedStd = cls === 'Conv2D' ? Math.sqrt(2 / fanIn) : 1 / Math.sqrt(3 * fanIn);
    const cfg = layer.getConfig().kernelInitializer as
      { className?: string; config?: Record<string, unknown> } | undefined;
    out.push({
      name: layer.name,
      fanIn,
      std,
      expectedStd,
      ratio: std / expectedStd,
      initializer: cfg ? `${cfg.className ?? ''} ${JSON.stringify(cfg.config ?? {})}` : '',
    });
  }
  return out;
}

export interface LockstepResult {
  /** Per step: the largest per-variable relative gradient difference. */
  gradRelDiff: number[];
  gradMaxRelDiff: number;
  gradMedianRelDiff: number;
  worst: { step: number; variable: string };
  /** Steps whose gradient differs by more than the step-1 tolerance. */
  stepsOverTolerance: number;
  lossMaxRelDiff: number;
}

/**
 * For every step k: load PyTorch's parameters at the start of step k into the engine's
 * model, compute the engine's loss and gradients on batch k, and compare with PyTorch's.
 */
function lockstepCheck(
  model: tf.LayersModel,
  data: ImageSet,
  at: (it: number) => Int32Array,
  vars: tf.Variable[],
  varKey: Map<string, string>,
  slots: WeightSlot[],
  dir: string,
  record: { slots: [string, number][]; files: string[] },
  torchLosses: number[],
): LockstepResult {
  const byKey = new Map(slots.map((s) => [s.key, s]));
  const total = record.slots.reduce((n, [, size]) => n + size, 0);
  const gradRelDiff: number[] = [];
  let worst = { step: 0, variable: '' };
  let worstValue = -1;
  let lossMaxRelDiff = 0;
  record.files.forEach((file, step) => {
    const flat = readF32(dir, file);
    let off = 0;
    const torchGrads = new Map<string, Float32Array>();
    for (const [key, size] of record.slots) {
      const slot = byKey.get(key)!;
      const params = flat.subarray(off, off + size);
      torchGrads.set(key, flat.subarray(total + off, total + off + size));
      tf.tidy(() => {
        slot.lv.write(tf.tensor(params, slot.lv.shape as number[]));
      });
      off += size;
    }
    const { x, y } = batchTensors(data, at(step));
    const { value, grads, stats } = lossAndGradients(model, x, y, vars);
    let stepWorst = 0;
    for (const [name, g] of Object.entries(grads)) {
      const key = varKey.get(name) ?? name;
      const d = relDiff(g.dataSync() as Float32Array, torchGrads.get(key)!).relDiff;
      if (!(d <= stepWorst)) stepWorst = d;
      if (!(d <= worstValue)) {
        worstValue = d;
        worst = { step: step + 1, variable: key };
      }
    }
    const loss = value.dataSync()[0];
    const dl = Math.abs(loss - torchLosses[step]) / Math.abs(torchLosses[step]);
    if (!(dl <= lossMaxRelDiff)) lossMaxRelDiff = dl;
    gradRelDiff.push(stepWorst);
    tf.dispose([x, y, value, stats, ...Object.values(grads)]);
  });
  const sorted = [...gradRelDiff].sort((a, b) => a - b);
  return {
    gradRelDiff,
    gradMaxRelDiff: worstValue,
    gradMedianRelDiff: sorted[Math.floor(sorted.length / 2)] ?? NaN,
    worst,
    stepsOverTolerance: gradRelDiff.filter((d) => !(d <= PARITY_TOLERANCE.step1Gradient)).length,
    lossMaxRelDiff,
  };
}

/**
 * Runs one case on the active backend: writes the exchange files, trains with the engine,
 * runs PyTorch, and compares. `data` must be normalised (as the loaders return it).
 */
export async function runParityCase(
  spec: ParityCase,
  data: ImageSet,
  opts: ParityOptions = {},
): Promise<ParityCaseResult> {
  if (data.count < spec.batchSize)
    throw new Error(`parity: ${data.count} images cannot fill a batch of ${spec.batchSize}`);
  const root = opts.root ?? process.cwd();
  const script = opts.script ?? join(root, 'bench', 'parity', 'torch_parity.py');
  const dir = mkdtempSync(join(tmpdir(), 'oa-parity-'));
  const lr = spec.learningRate ?? 0.05;
  const schedule = spec.schedule ?? 'cosine';
  const seed = spec.seed ?? 7;
  const optimizer: OptimizerConfig = { ...DEFAULT_OPTIMIZER, ...spec.optimizer };
  const archOptions = Object.fromEntries(
    Object.entries({ width: spec.width, blocks: spec.blocks, depth: spec.depth, hidden: spec.hidden }).filter(
      ([, v]) => v !== undefined,
    ),
  ) as Record<string, number>;
  const inputShape: [number, number, number] = [data.height, data.width, data.channels];
  const built = buildModel(spec.arch, { inputShape, numClasses: data.numClasses, seed, ...archOptions });
  const model = built.model;
  try {
    const slots = weightSlots(model);
    const initial = new Map(slots.map((s) => [s.key, Float32Array.from(s.lv.read().dataSync() as Float32Array)]));
    const init = initChecks(model);

    // The batches the engine's loop will visit, written for PyTorch.
    const at = batchPlan(data.count, spec.batchSize, seed);
    const batches = new Int32Array(spec.iterations * spec.batchSize);
    for (let it = 0; it < spec.iterations; it++) batches.set(at(it), it * spec.batchSize);

    // Step-1 gradients, then back to the initial state (the forward pass moved BN statistics).
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const varKey = new Map(slots.filter((s) => s.trainable).map((s) => [(s.lv.read() as tf.Variable).name, s.key]));
    const engineGrads = new Map<string, Float32Array>();
    {
      const { x, y } = batchTensors(data, at(0));
      const { value, grads, stats } = lossAndGradients(model, x, y, vars);
      for (const [name, g] of Object.entries(grads))
        engineGrads.set(varKey.get(name) ?? name, Float32Array.from(g.dataSync() as Float32Array));
      tf.dispose([x, y, value, stats, ...Object.values(grads)]);
    }
    for (const s of slots) {
      tf.tidy(() => {
        s.lv.write(tf.tensor(initial.get(s.key)!, s.lv.shape as number[]));
      });
    }

    const engineLosses: number[] = [];
    const engineLrs: number[] = [];
    await train(model, data, {
      iterations: spec.iterations,
      batchSize: spec.batchSize,
      learningRate: lr,
      schedule,
      seed,
      optimizer,
      progressEvery: 1,
      onProgress: (p) => {
        engineLosses.push(p.loss);
        engineLrs.push(p.learningRate);
      },
    });
    const finalEngine = new Map(slots.map((s) => [s.key, Float32Array.from(s.lv.read().dataSync() as Float32Array)]));

    const initialWeights: Record<string, { file: string; shape: number[] }> = {};
    slots.forEach(
      (s, i) =>
        (initialWeights[s.key] = {
          file: f32(dir, `init_${i}.f32`, initial.get(s.key)!),
          shape: s.lv.shape as number[],
        }),
    );
    const manifest = {
      arch: spec.arch,
      inputShape,
      numClasses: data.numClasses,
      imageCount: data.count,
      images: f32(dir, 'images.f32', data.images),
      labels: f32(dir, 'labels.i32', data.labels),
      batches: f32(dir, 'batches.i32', batches),
      iterations: spec.iterations,
      batchSize: spec.batchSize,
      learningRate: lr,
      schedule,
      optimizer: optimizer.name,
      momentum: optimizer.momentum,
      weightDecay: optimizer.weightDecay,
      weightDecayScope: WEIGHT_DECAY_SCOPE,
      layers: layerGraph(model),
      initialWeights,
      threads: 1,
      dtype: opts.referenceDtype ?? 'float64',
    };
    writeFileSync(join(dir, 'case.json'), JSON.stringify(manifest));
    const res = spawnSync(opts.python ?? PYTHON, [script, dir], {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 600_000,
    });
    if (res.status !== 0)
      throw new Error(
        `torch_parity.py failed (${res.status ?? res.error?.message}): ${(res.stderr ?? '').trim().split('\n').slice(-5).join('\n')}`,
      );
    const torchOut = JSON.parse(readFileSync(join(dir, 'torch.json'), 'utf8')) as {
      torchVersion: string;
      step1Loss: number;
      losses: number[];
      lrs: number[];
      grads: Record<string, string>;
      final: Record<string, string>;
      lockstep: { slots: [string, number][]; files: string[] };
    };
    const lockstep = lockstepCheck(model, data, at, vars, varKey, slots, dir, torchOut.lockstep, torchOut.losses);

    const gradients: TensorDiff[] = [];
    for (const [key, file] of Object.entries(torchOut.grads)) {
      const mine = engineGrads.get(key);
      const shape = initialWeights[key].shape;
      if (!mine) {
        gradients.push({ name: key, shape, maxAbsDiff: NaN, maxAbsRef: NaN, relDiff: NaN });
        continue;
      }
      gradients.push({ name: key, shape, ...relDiff(mine, readF32(dir, file)) });
    }
    const finalWeights: TensorDiff[] = Object.entries(torchOut.final).map(([key, file]) => ({
      name: key,
      shape: initialWeights[key].shape,
      ...relDiff(finalEngine.get(key)!, readF32(dir, file)),
    }));
    let lossMaxRelDiff = engineLosses.length === torchOut.losses.length ? 0 : NaN;
    engineLosses.forEach((l, i) => {
      const d = Math.abs(l - torchOut.losses[i]) / Math.abs(torchOut.losses[i]);
      if (!(d <= lossMaxRelDiff)) lossMaxRelDiff = d;
    });
    const worst = (xs: TensorDiff[]) => xs.reduce((w, d) => (!(d.relDiff <= w.relDiff) ? d : w), xs[0]);
    const g = worst(gradients);
    const w = worst(finalWeights);
    const lrDiff = engineLrs.reduce((m, v, i) => Math.max(m, Math.abs(v - (torchOut.lrs[i] ?? NaN))), 0);
    const step1 = { engine: engineLosses[0], torch: torchOut.losses[0] };
    // First step whose loss differs by more than float32 noise (1e-4): where the two
    // free-running trajectories part, if they do.
    const parting = engineLosses.findIndex(
      (l, i) => !(Math.abs(l - torchOut.losses[i]) <= 1e-4 * Math.abs(torchOut.losses[i])),
    );
    const firstPartingStep = parting < 0 ? null : parting + 1;
    // Where the free-running curve misses the target against the float64 reference, the same
    // PyTorch run in float32 says how far float32 arithmetic alone carries the trajectory
    // from the exact one: an engine closer to the exact curve than PyTorch's own float32 is
    // cannot be told apart from it by this measure.
    const float32Floor =
      lossMaxRelDiff > PARITY_TOLERANCE.lossCurve && (opts.referenceDtype ?? 'float64') === 'float64'
        ? torchFloat32LossDrift(opts, script, dir, manifest, torchOut.losses)
        : undefined;
    const gradsAgree = g.relDiff <= PARITY_TOLERANCE.step1Gradient;
    const lockstepAgrees = lockstep.gradMedianRelDiff <= PARITY_TOLERANCE.step1Gradient;
    const withinFloat32Floor = float32Floor !== undefined && lossMaxRelDiff <= float32Floor && lockstepAgrees;
    const pass = gradsAgree && (lossMaxRelDiff <= PARITY_TOLERANCE.lossCurve || withinFloat32Floor);
    const note =
      lossMaxRelDiff > PARITY_TOLERANCE.lossCurve && gradsAgree && lockstepAgrees
        ? `The free-running curves part at step ${firstPartingStep} while the lockstep gradients agree (median ${lockstep.gradMedianRelDiff.toExponential(1)}, ` +
          `${lockstep.stepsOverTolerance} of ${lockstep.gradRelDiff.length} steps over ${PARITY_TOLERANCE.step1Gradient}, worst at step ${lockstep.worst.step}): ` +
          'the signature of a float32 rounding event at a ReLU kink (an input within rounding of 0 takes the other side), which the dynamics then amplify.' +
          (float32Floor !== undefined
            ? ` PyTorch's own float32 run of this case drifts ${float32Floor.toExponential(2)} from its float64 run, the engine ${lossMaxRelDiff.toExponential(2)}` +
              (withinFloat32Floor
                ? ': within float32 arithmetic, counted as agreeing.'
                : ': beyond float32 arithmetic, a failure.')
            : '')
        : undefined;
    return {
      arch: spec.arch,
      backend: tf.getBackend(),
      config: {
        iterations: spec.iterations,
        batchSize: spec.batchSize,
        learningRate: lr,
        schedule,
        seed,
        archOptions,
        optimizer,
        weightDecayScope: WEIGHT_DECAY_SCOPE,
        inputShape,
      },
      torchVersion: torchOut.torchVersion,
      referenceDtype: opts.referenceDtype ?? 'float64',
      losses: { engine: engineLosses, torch: torchOut.losses },
      lossMaxRelDiff,
      gradMaxRelDiff: g.relDiff,
      gradWorst: g.name,
      weightMaxRelDiff: w.relDiff,
      weightWorst: w.name,
      step1Loss: step1,
      learningRates: { maxAbsDiff: lrDiff },
      lockstep,
      gradients,
      finalWeights,
      init,
      tolerance: PARITY_TOLERANCE,
      firstPartingStep,
      ...(float32Floor !== undefined ? { torchFloat32LossDrift: float32Floor } : {}),
      pass,
      ...(note ? { note } : {}),
    };
  } finally {
    model.dispose();
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the case's PyTorch side again in float32 (in a copy of its manifest) and returns the
 * largest relative difference of that loss curve from the float64 one.
 */
function torchFloat32LossDrift(
  opts: ParityOptions,
  script: string,
  dir: string,
  manifest: object,
  float64Losses: number[],
): number {
  writeFileSync(join(dir, 'case.json'), JSON.stringify({ ...manifest, dtype: 'float32' }));
  const res = spawnSync(opts.python ?? PYTHON, [script, dir], { encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000 });
  if (res.status !== 0)
    throw new Error(
      `torch_parity.py (float32) failed (${res.status ?? res.error?.message}): ${(res.stderr ?? '').trim().split('\n').slice(-5).join('\n')}`,
    );
  const losses = (JSON.parse(readFileSync(join(dir, 'torch.json'), 'utf8')) as { losses: number[] }).losses;
  return losses.reduce((m, l, i) => Math.max(m, Math.abs(l - float64Losses[i]) / Math.abs(float64Losses[i])), 0);
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
