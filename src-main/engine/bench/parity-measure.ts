/**
 * The engine-side measurements of the training-parity harness: relative tensor differences,
 * the model's weights keyed as PyTorch's side keys them, the statistical check of the
 * initialisers, and the lockstep recomputation of every step from PyTorch's parameters.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../datasets/types';
import { batchTensors } from '../training/batch';
import { lossAndGradients } from '../training/train';
import { readF32 } from './parity-torch';
import { PARITY_TOLERANCE, type InitCheck, type LockstepResult } from './parity-types';

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
export function weightSlots(model: tf.LayersModel): WeightSlot[] {
  const out: WeightSlot[] = [];
  for (const layer of model.layers) {
    for (const lv of layer.weights) {
      const role = lv.originalName.split('/').pop()!;
      out.push({ key: `${layer.name}/${role}`, lv, trainable: lv.trainable });
    }
  }
  return out;
}

/**
 * Empirical std of every kernel against the PyTorch recipe's: the weights are copied into
 * PyTorch, so the initialisers are checked here, statistically.
 */
export function initChecks(model: tf.LayersModel): InitCheck[] {
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

/**
 * For every step k: load PyTorch's parameters at the start of step k into the engine's
 * model, compute the engine's loss and gradients on batch k, and compare with PyTorch's.
 */
export function lockstepCheck(
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
