import * as tf from '@tensorflow/tfjs';
import { initBackend } from '/work/main/src-main/engine/backend';
import { makeBenchModel, randomBenchSet } from '/work/main/src-main/engine/bench/engine-bench';
import { DEFAULT_OPTIMIZER, Optimizer } from '/work/main/src-main/engine/training/optimizers';
import { trainStep } from '/work/main/src-main/engine/training/train';
import { setWasmThreads } from '/work/main/src-main/engine/wasm-threads';
const name = process.argv[2]; const threads = Number(process.argv[3] ?? 1);
(async () => {
  await initBackend('wasm', { threads });
  setWasmThreads(threads);
  const model = makeBenchModel(name);
  const shape = (model.inputs[0].shape as number[]).slice(1);
  const B = 128;
  const data = randomBenchSet(B, shape, 7);
  const idx = Int32Array.from({ length: B }, (_, i) => i);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = new Optimizer({ ...DEFAULT_OPTIMIZER, name: 'sgd', momentum: 0.9, weightDecay: 0 }, vars);
  for (let i = 0; i < 3; i++) trainStep(model, data, idx, vars, opt, 0.01);
  const agg = new Map<string, number>();
  let total = 0; const reps = 3;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const p = await tf.profile(() => { trainStep(model, data, idx, vars, opt, 0.01); });
    for (const k of p.kernels) { const ms = k.kernelTimeMs as number; agg.set(k.name, (agg.get(k.name) ?? 0) + ms / reps); total += ms / reps; }
  }
  const wall = (performance.now() - t0) / reps;
  console.log(name, 'threads', threads, 'kernel total ms', total.toFixed(1), 'wall ms (profiled)', wall.toFixed(1));
  for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 16)) console.log('  ', k.padEnd(26), v.toFixed(1), (100 * v / total).toFixed(1) + '%');
  process.exit(0);
})();
