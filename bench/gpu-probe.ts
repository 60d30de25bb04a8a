/**
 * GPU probe (issue 17 item 5): does a GPU path install from the npm registry alone, and what
 * does it give here? tfjs-node-gpu cannot be that path: its install downloads libtensorflow
 * from Google's storage (fails offline) and it is tied to CUDA 11.2. The candidate is
 * TF.js's WebGPU backend on Dawn's Node binding (`webgpu`, prebuilt per platform in the
 * package itself). Neither is a dependency of the app (about 150 MB with every platform's
 * build); the probe loads them where installed:
 *
 *   npm i --no-save webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0
 *   npx tsx bench/gpu-probe.ts [--out bench/results/gpu-probe.json] [--seconds 240]
 *
 * It records, in order, each step's outcome (stopping where one fails, with the reason):
 *  1. the machine: nvidia-smi, the Vulkan loader and its ICDs (Dawn's Linux backend is Vulkan);
 *  2. the packages: installed or not, versions;
 *  3. an adapter: requested in a child process, whose stderr carries Dawn's reasons;
 *  4. kernel coverage, needing no GPU: the kernels one training step of every zoo model runs
 *     (profiled on the cpu backend, which takes TF.js's stock gradients as WebGPU would)
 *     against those tfjs-backend-webgpu registers;
 *  5. with an adapter: one SGD step per model from the same weights on webgpu and on cpu
 *     (the loss and the weight update compared, relative to the update's size), then
 *     training and inference ex/s at batch 128 (median of 3), within --seconds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { benchModelNames, makeBenchModel, randomBenchSet } from '../src-main/engine/bench/engine-bench';
import { medianOf } from '../src-main/engine/bench/engine-compare';
import { DEFAULT_OPTIMIZER, Optimizer } from '../src-main/engine/training/optimizers';
import { trainStep } from '../src-main/engine/training/train';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: join('bench', 'results', 'gpu-probe.json') },
    seconds: { type: 'string', default: '240' },
  },
});
const requireHere = createRequire(join(process.cwd(), 'index.js'));
const started = Date.now();
const budgetMs = Number(args.seconds) * 1000;

function sh(cmd: string, argv: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || (r.error?.message ?? '') };
}

function packageVersion(name: string): string | null {
  try {
    return (JSON.parse(readFileSync(requireHere.resolve(`${name}/package.json`), 'utf8')) as { version: string })
      .version;
  } catch {
    return null;
  }
}

function machine() {
  const smi = sh('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']);
  const loader = sh('sh', ['-c', 'ldconfig -p | grep -F libvulkan.so.1']);
  const icdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    nvidiaSmi: smi.ok ? smi.out : null,
    vulkanLoader: loader.ok ? loader.out.split('\n')[0].trim() : null,
    vulkanIcds: icdDirs.flatMap((d) => (existsSync(d) ? readdirSync(d).map((f) => join(d, f)) : [])),
  };
}

/** Requests an adapter in a child process: Dawn prints why there is none on its stderr. */
function adapter(): { info: Record<string, unknown> | null; dawnLog: string[]; error?: string } {
  const script = `
    import { create, globals } from 'webgpu';
    Object.assign(globalThis, globals);
    const a = await create([]).requestAdapter({ powerPreference: 'high-performance' });
    const info = a ? { ...Object.fromEntries(['vendor','architecture','device','description'].map((k) => [k, a.info?.[k]])),
      isFallbackAdapter: a.info?.isFallbackAdapter ?? null, features: [...a.features] } : null;
    process.stdout.write(JSON.stringify({ info }) + '\\n');
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: process.cwd(),
  });
  const dawnLog = (r.stderr ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('at '));
  try {
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { info: Record<string, unknown> | null };
    return { info: out.info, dawnLog };
  } catch {
    return { info: null, dawnLog, error: `the adapter request exited with ${r.status ?? r.signal}` };
  }
}

/** The kernels one training step of `name` runs, on the backend active now. */
async function trainingKernels(name: string): Promise<string[]> {
  const model = makeBenchModel(name);
  const shape = (model.inputs[0].shape as number[]).slice(1);
  const data = randomBenchSet(2, shape, 7);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new Optimizer({ ...DEFAULT_OPTIMIZER, name: 'sgd', momentum: 0.9, weightDecay: 0 }, vars);
  const info = await tf.profile(() => {
    trainStep(model, data, Int32Array.from([0, 1]), vars, optimizer, 0.01);
  });
  optimizer.dispose();
  model.dispose();
  // Profiles also name the ops and custom gradients that wrap kernels ('fusedConv2d__op',
  // 'unnamed scope' for the engine's BatchNorm): kernels only.
  return [...new Set(info.kernelNames)].filter((k) => !k.endsWith('__op') && k !== 'unnamed scope').sort();
}

interface StepResult {
  arch: string;
  loss: { cpu: number; webgpu: number; relDiff: number };
  /** max |Δw_webgpu − Δw_cpu| / max |Δw_cpu| over all variables: the gradient's error at lr scale. */
  updateRelDiff: number;
}

/** One SGD step from the same weights on cpu and on webgpu. */
async function compareStep(name: string, batch: number): Promise<StepResult> {
  const run = async (backendName: string, weights?: Float32Array[]) => {
    await tf.setBackend(backendName);
    const model = makeBenchModel(name);
    if (weights) model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
    const before = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    const shape = (model.inputs[0].shape as number[]).slice(1);
    const data = randomBenchSet(batch, shape, 11);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const optimizer = new Optimizer({ ...DEFAULT_OPTIMIZER, name: 'sgd', momentum: 0, weightDecay: 0 }, vars);
    const [loss] = trainStep(
      model,
      data,
      Int32Array.from({ length: batch }, (_, i) => i),
      vars,
      optimizer,
      0.01,
    );
    const after = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    optimizer.dispose();
    model.dispose();
    return { before, after, loss };
  };
  const cpu = await run('cpu');
  const gpu = await run('webgpu', cpu.before);
  let num = 0;
  let den = 0;
  cpu.after.forEach((a, i) => {
    for (let j = 0; j < a.length; j++) {
      const dc = a[j] - cpu.before[i][j];
      const dg = gpu.after[i][j] - cpu.before[i][j];
      num = Math.max(num, Math.abs(dg - dc));
      den = Math.max(den, Math.abs(dc));
    }
  });
  return {
    arch: name,
    loss: { cpu: cpu.loss, webgpu: gpu.loss, relDiff: Math.abs(gpu.loss - cpu.loss) / Math.abs(cpu.loss) },
    updateRelDiff: num / den,
  };
}

/** Training and inference ex/s on the active backend, median of 3 after 2 warm-ups (data read back each time). */
function throughput(name: string, batch: number) {
  const model = makeBenchModel(name);
  const shape = (model.inputs[0].shape as number[]).slice(1);
  const data = randomBenchSet(batch, shape, 7);
  const idx = Int32Array.from({ length: batch }, (_, i) => i);
  const x = tf.tensor4d(data.images, [batch, shape[0], shape[1], shape[2]]);
  const time = (fn: () => void) => {
    const ts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      fn();
      if (i >= 2) ts.push(performance.now() - t);
    }
    return (batch * 1000) / medianOf(ts);
  };
  const inferExPerSec = time(() => {
    const y = tf.tidy(() => model.predict(x) as tf.Tensor);
    y.dataSync();
    y.dispose();
  });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new Optimizer({ ...DEFAULT_OPTIMIZER, name: 'sgd', momentum: 0.9, weightDecay: 0 }, vars);
  const trainExPerSec = time(() => void trainStep(model, data, idx, vars, optimizer, 0.01));
  optimizer.dispose();
  x.dispose();
  model.dispose();
  return { arch: name, batch, inferExPerSec, trainExPerSec };
}

async function main() {
  const doc: Record<string, unknown> = { measuredAt: new Date().toISOString(), tfjsVersion: tf.version.tfjs };
  const steps: { step: string; ok: boolean; detail: string }[] = [];
  doc.steps = steps;
  const write = () => {
    doc.seconds = (Date.now() - started) / 1000;
    mkdirSync(dirname(resolve(args.out)), { recursive: true });
    writeFileSync(resolve(args.out), `${JSON.stringify(doc, null, 2)}\n`);
  };
  const say = (step: string, ok: boolean, detail: string) => {
    steps.push({ step, ok, detail });
    process.stderr.write(`${ok ? 'ok  ' : 'FAIL'} ${step}: ${detail}\n`);
  };

  doc.machine = machine();
  const m = doc.machine as ReturnType<typeof machine>;
  say('nvidia driver', Boolean(m.nvidiaSmi), m.nvidiaSmi ?? 'nvidia-smi not found or failed');
  say(
    'vulkan loader',
    Boolean(m.vulkanLoader),
    m.vulkanLoader ? `${m.vulkanLoader}; ICDs: ${m.vulkanIcds.join(', ') || 'none'}` : 'libvulkan.so.1 not installed',
  );

  const versions = {
    webgpu: packageVersion('webgpu'),
    'tfjs-backend-webgpu': packageVersion('@tensorflow/tfjs-backend-webgpu'),
    'tfjs-node-gpu': packageVersion('@tensorflow/tfjs-node-gpu'),
  };
  doc.packages = versions;
  say(
    'packages',
    Boolean(versions.webgpu && versions['tfjs-backend-webgpu']),
    `webgpu ${versions.webgpu ?? 'not installed'}, @tensorflow/tfjs-backend-webgpu ${versions['tfjs-backend-webgpu'] ?? 'not installed'}` +
      ` (npm i --no-save webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0); tfjs-node-gpu ${versions['tfjs-node-gpu'] ?? 'not installed'}`,
  );
  if (!versions.webgpu || !versions['tfjs-backend-webgpu']) return write();

  const found = adapter();
  doc.adapter = found;
  say(
    'adapter',
    Boolean(found.info),
    found.info
      ? JSON.stringify(found.info)
      : `none: ${found.dawnLog.join(' | ') || (found.error ?? 'no reason given')}`,
  );

  // Kernel coverage needs the backend's registrations, not a device.
  // Specifiers in variables: the packages are not dependencies, and type-checking must not need them.
  const [dawn, webgpuBackend] = ['webgpu', '@tensorflow/tfjs-backend-webgpu'];
  const { create, globals } = (await import(dawn)) as {
    create: (flags: string[]) => unknown;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
  await import(webgpuBackend);
  const registered = new Set(tf.getKernelsForBackend('webgpu').map((k) => k.kernelName));
  await tf.setBackend('cpu');
  const coverage: { arch: string; kernels: string[]; missing: string[] }[] = [];
  for (const arch of benchModelNames()) {
    const kernels = await trainingKernels(arch);
    coverage.push({ arch, kernels, missing: kernels.filter((k) => !registered.has(k)) });
  }
  doc.kernelCoverage = { registeredOnWebgpu: registered.size, models: coverage };
  const missing = [...new Set(coverage.flatMap((c) => c.missing))];
  say(
    'kernel coverage',
    missing.length === 0,
    missing.length === 0
      ? `every kernel of a training step of ${coverage.map((c) => c.arch).join(', ')} is registered on webgpu`
      : `not registered on webgpu: ${missing.join(', ')}`,
  );
  if (!found.info) return write();

  const steps1: StepResult[] = [];
  doc.numerics = steps1;
  for (const arch of benchModelNames()) steps1.push(await compareStep(arch, 8));
  const worst = Math.max(...steps1.map((s) => s.updateRelDiff));
  say('numerics', worst < 1e-3, `worst SGD update difference webgpu vs cpu: ${worst.toExponential(2)} (bound 1e-3)`);

  await tf.setBackend('webgpu');
  const speeds: ReturnType<typeof throughput>[] = [];
  doc.throughput = speeds;
  for (const arch of benchModelNames()) {
    if (Date.now() - started > budgetMs) {
      say('throughput', false, `stopped at ${arch}: the --seconds budget ran out`);
      return write();
    }
    speeds.push(throughput(arch, 128));
    write();
  }
  say(
    'throughput',
    true,
    speeds
      .map((s) => `${s.arch} train ${s.trainExPerSec.toFixed(0)} ex/s infer ${s.inferExPerSec.toFixed(0)}`)
      .join('; '),
  );
  write();
}

main()
  .then(() => {
    process.stderr.write(`wrote ${resolve(args.out)}\n`);
    process.exit(0);
  })
  .catch((e: unknown) => {
    process.stderr.write(`gpu probe failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
