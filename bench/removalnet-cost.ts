/**
 * What one RemovalNet iteration costs, in units of a plain training step (issue 17 item 3).
 *
 * The unit: one SGD step of cross-entropy training on the same model (a copy of the victim),
 * the same batch size and the same substitute set (median of 20 after 3 warm-ups). The
 * iteration: a real RemovalNet run (the attack itself, default parameters, seed 1), whose
 * phases the attack times as it goes (RunContext.phaseTimes): the victim's answers, the
 * surrogate's latent pass, the latent search (Algorithm 1: `latentSteps` passes through the
 * tail and back), ILBS (Algorithm 2), the diagnostics and the update; "other" is the rest of
 * the iteration (batch assembly, bookkeeping, the loop's own work). The first epoch asks the
 * victim about every example; afterwards its answers are known (victim-logits.ts), so
 * iterations are counted over several epochs.
 *
 *   npx tsx bench/removalnet-cost.ts [--blocks block2,block3] [--iterations 100]
 *     [--out bench/results/removalnet-cost.json]
 *
 * Defaults: the demo victim, S_LTD 10% of the demo training split (2,000 images), batch 128,
 * block3 (the demo preset's split) and block2 (the cnn's default split, whose tail holds a
 * convolution, so the search costs more).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { resolveParams } from '../src-shared/params';
import { ATTACKS } from '../src-main/engine/attacks/registry';
import { cloneModel, trainableVariables } from '../src-main/engine/attacks/common';
import { initBackend } from '../src-main/engine/backend';
import { medianOf } from '../src-main/engine/bench/engine-compare';
import { classBalancedFraction, loadDataset } from '../src-main/engine/datasets';
import { loadModel } from '../src-main/engine/models/io';
import { DEFAULT_OPTIMIZER, Optimizer } from '../src-main/engine/training/optimizers';
import { trainStep } from '../src-main/engine/training/train';

const { values: args } = parseArgs({
  options: {
    blocks: { type: 'string', default: 'block3,block2' },
    iterations: { type: 'string', default: '100' },
    batch: { type: 'string', default: '128' },
    out: { type: 'string', default: join('bench', 'results', 'removalnet-cost.json') },
  },
});
const iterations = Number(args.iterations);
const batch = Number(args.batch);

const backend = await initBackend('wasm');
const victim = await loadModel('resources/models/demo-victim');
const data = await loadDataset('resources/datasets/fashion-mnist-demo', {
  inputShape: victim.meta.inputShape,
  normalization: victim.meta.normalization,
});
const substitute = classBalancedFraction(data.train, 0.1, 1);

// The unit: a plain training step of a copy of the victim on the substitute set.
const copy = await cloneModel(victim.model);
const vars = trainableVariables(copy);
const optimizer = new Optimizer({ ...DEFAULT_OPTIMIZER, name: 'sgd', momentum: 0.9, weightDecay: 1e-4 }, vars);
const stepTimes: number[] = [];
for (let i = 0; i < 23; i++) {
  const idx = Int32Array.from({ length: batch }, (_, k) => (i * batch + k) % substitute.count);
  const t0 = performance.now();
  trainStep(copy, substitute, idx, vars, optimizer, 0.01);
  if (i >= 3) stepTimes.push(performance.now() - t0);
}
optimizer.dispose();
copy.dispose();
const stepMs = medianOf(stepTimes);
process.stderr.write(`plain training step (batch ${batch}): ${stepMs.toFixed(1)} ms\n`);

const attack = ATTACKS.find((a) => a.id === 'removalnet');
if (!attack) throw new Error('removalnet is not registered');
const runs = [];
for (const block of args.blocks.split(',').map((b) => b.trim())) {
  const params = resolveParams(attack.params, {});
  if (!params.ok) throw new Error(params.problems.join('; '));
  const phaseTimes = new Map<string, number>();
  const result = await attack.run(
    { seed: 1, phaseTimes },
    { victim, substitute, params: params.values, iterations, block, batchSize: batch },
  );
  result.model.dispose();
  const iterationMs = (result.compute.seconds * 1000) / iterations;
  const phases = [...phaseTimes.entries()].map(([phase, ms]) => ({
    phase,
    msPerIteration: ms / iterations,
    trainingSteps: ms / iterations / stepMs,
  }));
  const timed = phases.reduce((s, p) => s + p.msPerIteration, 0);
  phases.push({ phase: 'other', msPerIteration: iterationMs - timed, trainingSteps: (iterationMs - timed) / stepMs });
  const run = {
    block,
    iterations,
    epochs: (iterations * batch) / substitute.count,
    msPerIteration: iterationMs,
    trainingSteps: iterationMs / stepMs,
    phases,
    forwardPasses: result.compute.forwardPasses,
    backwardPasses: result.compute.backwardPasses,
  };
  process.stderr.write(
    `removalnet at ${block}: ${iterationMs.toFixed(0)} ms/iteration = ${run.trainingSteps.toFixed(2)} training steps\n` +
      phases
        .map(
          (p) => `  ${p.phase.padEnd(17)} ${p.msPerIteration.toFixed(1).padStart(7)} ms  ${p.trainingSteps.toFixed(2)}`,
        )
        .join('\n') +
      '\n',
  );
  runs.push(run);
}

const doc = {
  measuredAt: new Date().toISOString(),
  backend: backend.backend,
  tfjsVersion: tf.version.tfjs,
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
  victim: victim.meta.lineage,
  substitute: `S_LTD 10% of the demo training split (${substitute.count} images)`,
  batch,
  trainingStepMs: stepMs,
  runs,
};
mkdirSync(dirname(resolve(args.out)), { recursive: true });
writeFileSync(resolve(args.out), `${JSON.stringify(doc, null, 2)}\n`);
process.stderr.write(`wrote ${resolve(args.out)}\n`);
victim.model.dispose();
