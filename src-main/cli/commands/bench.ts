import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type Command } from 'commander';
import { initBackend } from '../../engine/backend';
import { benchEngine, benchModelNames } from '../../engine/bench/engine-bench';
import { compareRounds, type BenchRound, type PytorchFigure } from '../../engine/bench/engine-compare';
import { benchVerify } from '../../engine/bench/verify-bench';
import { benchAttacks } from '../../engine/bench/attack-bench';
import { PARITY_ARCH_OPTIONS, PYTHON, runParitySuite, torchAvailable } from '../../engine/bench/parity';
import { ATTACKS } from '../../engine/attacks/registry';
import { classBalancedFraction, loadDataset } from '../../engine/datasets';
import { loadModel } from '../../engine/models/io';
import { machineThreads } from '../../engine/wasm-threads';
import { multiplyAddFlavour } from '../../engine/wasm-kernels/simd-module';
import { benchRunner } from '../../runner/runner-bench';
import { intArg } from '../options';
import { emit, fail, progress } from '../output';
import { AuditError } from '../../engine/errors';
import { DEMO_DATASET, DEMO_VICTIM, packageRoot } from '../paths';

/** One round of PyTorch's reference bench (1 and 2 threads) where Debian's python3-torch is installed; [] otherwise. */
function pytorchRound(script: string, batch: number, reps: number): { figures: PytorchFigure[]; note?: string } {
  if (!existsSync(script)) return { figures: [], note: `no PyTorch reference script at ${script}` };
  const figures: PytorchFigure[] = [];
  for (const threads of [1, 2]) {
    const res = spawnSync(
      '/usr/bin/python3',
      [script, '--threads', String(threads), '--batch', String(batch), '--reps', String(reps), '--json'],
      { encoding: 'utf8', timeout: 600_000 },
    );
    if (res.status !== 0)
      return {
        figures,
        note: `PyTorch not available: ${(res.stderr || res.error?.message || '').trim().split('\n').pop()}`,
      };
    for (const line of res.stdout.trim().split('\n')) figures.push(JSON.parse(line) as PytorchFigure);
  }
  return { figures };
}

/** bench/results/engine-<UTC date and time>.json: a new file per run, so the committed figures stay as they are. */
function datedResultsFile(): string {
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return join('bench', 'results', `engine-${stamp}.json`);
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks that print figures and write bench/results/*.json');
  registerVerifyBench(bench, program);
  registerAttackBench(bench, program);
  registerParityBench(bench);
  bench
    .command('runner')
    .description(
      'job-runner speed-up: the same grid of equal jobs with 1 and 2 worker processes, and one job alone on 1 and all threads (median of 3)',
    )
    .option('--jobs <n>', 'equal jobs in the grid', intArg(1), 4)
    .option('--iterations <n>', 'fine-tuning iterations per job', intArg(1), 300)
    .option('--reps <n>', 'repetitions per worker count (median reported)', intArg(1), 3)
    .option('--out <file>', 'results file', join('bench', 'results', 'runner.json'))
    .option('--json', 'print the results as JSON')
    .action(async (flags: { jobs: number; iterations: number; reps: number; out: string; json?: boolean }) => {
      const mode = { json: Boolean(flags.json) };
      try {
        const backend = await initBackend(program.opts<{ backend?: string }>().backend);
        const result = await benchRunner({
          entry: process.argv[1],
          backend: backend.backend,
          victimDir: DEMO_VICTIM(),
          dataDir: DEMO_DATASET(),
          jobs: flags.jobs,
          iterations: flags.iterations,
          workers: [1, 2],
          reps: flags.reps,
          // A job left alone gets every core from the runner: measured on the wasm backend.
          ...(backend.backend === 'wasm' && machineThreads() > 1 ? { loneThreads: [1, machineThreads()] } : {}),
          onLog: progress,
        });
        const doc = {
          backend: backend.backend,
          machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
          measuredAt: new Date().toISOString(),
          ...result,
        };
        mkdirSync(dirname(resolve(flags.out)), { recursive: true });
        writeFileSync(flags.out, `${JSON.stringify(doc, null, 2)}\n`);
        emit(
          mode,
          doc,
          () =>
            `${result.byWorkers.map((b) => `${b.workers} worker(s): ${b.medianSeconds.toFixed(1)} s`).join(', ')}; speed-up ${result.speedup.toFixed(2)}x` +
            (result.loneJob
              ? `\none job alone: ${result.loneJob.byThreads.map((b) => `${b.threads} thread(s) ${b.medianSeconds.toFixed(1)} s`).join(', ')}; speed-up ${result.loneJob.speedup.toFixed(2)}x`
              : ''),
        );
      } catch (e) {
        fail(mode, e);
      }
    });
  bench
    .command('engine')
    .description(
      'inference and training examples/s and GFLOP/s per architecture on the active backend, interleaved with PyTorch on the same models',
    )
    .option('--batch <n>', 'batch size', intArg(1), 128)
    .option('--reps <n>', 'timed repetitions per round (median of the round)', intArg(1), 5)
    .option('--rounds <n>', 'interleaved rounds of engine and PyTorch (median over rounds)', intArg(1), 3)
    .option('--models <list>', `comma-separated subset of ${benchModelNames().join(',')}`)
    .option(
      '--threads <list>',
      "the engine's thread counts, each measured every round (wasm's threaded build; default: 1 and the machine's cores, at most 2, as PyTorch)",
    )
    .option('--out <file>', 'results file (default: a new bench/results/engine-<date>.json)')
    .option(
      '--pytorch <script>',
      'PyTorch reference bench.py to run beside (needs /usr/bin/python3 with torch)',
      join('..', 'shared', 'tools', 'pytorch-reference', 'bench.py'),
    )
    .option('--no-pytorch', 'skip the PyTorch comparison')
    .option('--json', 'print the results as JSON')
    .action(
      async (flags: {
        batch: number;
        reps: number;
        rounds: number;
        models?: string;
        threads?: string;
        out?: string;
        pytorch: string | false;
        json?: boolean;
      }) => {
        const mode = { json: Boolean(flags.json) };
        try {
          const threadCounts = flags.threads
            ? flags.threads.split(',').map((t) => intArg(1)(t.trim()))
            : [...new Set([1, Math.min(2, machineThreads())])];
          const backend = await initBackend(program.opts<{ backend?: string }>().backend, { threads: 1 });
          // Only the wasm backend's pool is resized; elsewhere one measurement stands for all.
          const engineThreads = backend.tfjsBackend === 'wasm' ? threadCounts : [backend.threads];
          progress(`engine bench on ${backend.backend}, batch ${flags.batch}, ${flags.rounds} interleaved round(s)`);
          const script = flags.pytorch ? resolve(packageRoot(), flags.pytorch) : undefined;
          let pytorchNote = script ? undefined : 'skipped (--no-pytorch)';
          const rounds: BenchRound[] = [];
          for (let round = 1; round <= flags.rounds; round++) {
            // Alternating order (1,2 then 2,1...) so neither count always runs first in a round.
            const order = round % 2 ? engineThreads : [...engineThreads].reverse();
            const engine = order.flatMap((threads) =>
              benchEngine({
                threads,
                batch: flags.batch,
                reps: flags.reps,
                models: flags.models?.split(',').map((s) => s.trim()),
                onModel: (r) =>
                  progress(
                    `[${round}] ${r.arch.padEnd(8)} ${r.forwardMflopsPerExample.toFixed(1).padStart(6)} MFLOP  infer ${r.inferExPerSec.toFixed(0).padStart(6)} ex/s ` +
                      `${r.inferGflops.toFixed(1).padStart(5)} GFLOP/s   train ${r.trainExPerSec.toFixed(0).padStart(5)} ex/s ${r.trainGflops.toFixed(1).padStart(5)} GFLOP/s  (${r.threads} thread${r.threads > 1 ? 's' : ''})`,
                  ),
              }),
            );
            // A PyTorch that failed once is not asked again; its note says why.
            const pytorch: { figures: PytorchFigure[]; note?: string } =
              script && !pytorchNote ? pytorchRound(script, flags.batch, flags.reps) : { figures: [] };
            pytorchNote ??= pytorch.note;
            for (const f of pytorch.figures)
              progress(
                `[${round}] pytorch ${f.arch.padEnd(8)} threads ${f.threads}  infer ${f.inferExPerSec.toFixed(0)} ex/s  train ${f.trainExPerSec.toFixed(0)} ex/s`,
              );
            rounds.push({ engine, pytorch: pytorch.figures });
          }
          if (pytorchNote) progress(pytorchNote);
          const comparison = compareRounds(rounds);
          for (const r of comparison.ratios)
            progress(
              `${r.arch.padEnd(8)} engine / PyTorch (${r.threads} thread${r.threads > 1 ? 's' : ''}): train ${r.train.toFixed(2)}x, infer ${r.infer.toFixed(2)}x`,
            );
          for (const t of comparison.targets)
            progress(
              `${t.met ? 'met    ' : 'NOT MET'} ${t.arch.padEnd(8)} ${t.target}: ${t.measured.toFixed(2)} (needs ${t.required})`,
            );
          const cpu = cpus();
          const result = {
            backend: backend.backend,
            machine: {
              cpu: cpu[0]?.model ?? 'unknown',
              cores: cpu.length,
              memoryGiB: Math.round(totalmem() / 2 ** 30),
              node: process.version,
              platform: `${process.platform}-${process.arch}`,
            },
            measuredAt: new Date().toISOString(),
            tfjsVersion: backend.tfjsVersion,
            ...(backend.tfjsBackend === 'wasm' ? { wasmMultiplyAdd: multiplyAddFlavour() } : {}),
            // One job trains in one process; each ratio is against PyTorch on as many threads.
            engineThreads,
            batch: flags.batch,
            repsPerRound: flags.reps,
            ...comparison,
            ...(pytorchNote ? { pytorchNote } : {}),
            perRound: rounds,
          };
          const out = resolve(flags.out ?? datedResultsFile());
          mkdirSync(dirname(out), { recursive: true });
          writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
          progress(`wrote ${out}`);
          emit(mode, result, () =>
            comparison.models
              .map(
                (m) =>
                  `${m.arch}: infer ${m.inferGflops.toFixed(1)} GFLOP/s, train ${m.trainGflops.toFixed(1)} GFLOP/s (${m.trainOverInferGflops.toFixed(2)}x)`,
              )
              .join('\n'),
          );
        } catch (e) {
          fail(mode, e);
        }
      },
    );
}

export function registerVerifyBench(bench: Command, program: Command): void {
  bench
    .command('verify')
    .description(
      'per defence: fingerprint extraction time and queries, and the time to score one suspect, on the demo victim',
    )
    .option('--victim <dir>', 'victim model (default: the demo victim)')
    .option('--suspect <dir>', 'suspect model (default: the victim itself)')
    .option('--data <dir>', 'data set (default: the demo data)')
    .option('--defenses <list>', 'comma-separated defence ids', 'deepjudge,zest,modeldiff,ipguard')
    .option('--out <file>', 'results file', join('bench', 'results', 'verify.json'))
    .option('--json', 'print the results as JSON')
    .action(
      async (f: {
        victim?: string;
        suspect?: string;
        data?: string;
        defenses: string;
        out: string;
        json?: boolean;
      }) => {
        const mode = { json: Boolean(f.json) };
        try {
          const backend = await initBackend(program.opts<{ backend?: string }>().backend);
          const victimDir = f.victim ?? DEMO_VICTIM();
          const victim = await loadModel(victimDir);
          const suspect = await loadModel(f.suspect ?? victimDir);
          const data = await loadDataset(f.data ?? DEMO_DATASET(), {
            inputShape: victim.meta.inputShape,
            normalization: victim.meta.normalization,
            maxTrain: 1,
          });
          const defenses = await benchVerify(victim, suspect, data.test, f.defenses.split(','));
          for (const d of defenses) {
            progress(
              `${d.defense.padEnd(10)} extract ${d.extractSeconds.toFixed(2)} s (${d.extractQueries} queries)   score ${d.scoreSeconds.toFixed(2)} s (${d.scoreQueries} queries; forward passes alone ${d.forwardSecondsForScoreQueries.toFixed(2)} s, overhead ${d.scoreOverhead.toFixed(2)}x)`,
            );
          }
          const cpu = cpus();
          const result = {
            backend: backend.backend,
            machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length },
            measuredAt: new Date().toISOString(),
            victim: victim.meta.lineage,
            defenses,
          };
          mkdirSync(dirname(resolve(f.out)), { recursive: true });
          writeFileSync(resolve(f.out), `${JSON.stringify(result, null, 2)}\n`);
          emit(mode, result, () => `wrote ${resolve(f.out)}`);
        } catch (e) {
          fail(mode, e);
        }
      },
    );
}

export function registerAttackBench(bench: Command, program: Command): void {
  bench
    .command('attacks')
    .description('iterations/s and passes/s of every attack on the demo victim (S_LTD 10%), and a full RemovalNet run')
    .option('--iterations <n>', 'iterations per attack for the rate', intArg(1), 30)
    .option('--removalnet-iterations <n>', 'length of the timed full RemovalNet run (0 to skip)', intArg(0), 1000)
    .option('--out <file>', 'results file', join('bench', 'results', 'attacks.json'))
    .option('--json', 'print the results as JSON')
    .action(async (f: { iterations: number; removalnetIterations: number; out: string; json?: boolean }) => {
      const mode = { json: Boolean(f.json) };
      try {
        const backend = await initBackend(program.opts<{ backend?: string }>().backend);
        const victim = await loadModel(DEMO_VICTIM());
        const data = await loadDataset(DEMO_DATASET(), {
          inputShape: victim.meta.inputShape,
          normalization: victim.meta.normalization,
        });
        const substitute = classBalancedFraction(data.train, 0.1, 1);
        const perAttack = Object.fromEntries(ATTACKS.map((a) => [a.id, f.iterations]));
        const rates = await benchAttacks(victim, substitute, perAttack, (r) =>
          progress(
            `${r.attack.padEnd(11)} ${r.iterationsPerSec.toFixed(2)} it/s  ${r.passesPerSec.toFixed(0)} passes/s  (${r.iterations} iterations in ${r.seconds.toFixed(1)} s)`,
          ),
        );
        let full: { iterations: number; seconds: number } | undefined;
        if (f.removalnetIterations > 0) {
          const [r] = await benchAttacks(victim, substitute, { removalnet: f.removalnetIterations });
          full = { iterations: r.iterations, seconds: r.seconds };
          progress(`removalnet ${r.iterations} iterations: ${r.seconds.toFixed(0)} s`);
        }
        victim.model.dispose();
        const cpu = cpus();
        const result = {
          backend: backend.backend,
          machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length },
          measuredAt: new Date().toISOString(),
          victim: victim.meta.lineage,
          substitute: 'S_LTD 10% of the demo training split',
          attacks: rates,
          removalnetFullRun: full,
        };
        mkdirSync(dirname(resolve(f.out)), { recursive: true });
        writeFileSync(resolve(f.out), `${JSON.stringify(result, null, 2)}\n`);
        emit(mode, result, () => `wrote ${resolve(f.out)}`);
      } catch (e) {
        fail(mode, e);
      }
    });
}

export function registerParityBench(bench: Command): void {
  bench
    .command('parity')
    .description(
      'training parity with PyTorch: same initial weights and batches, per-step loss, step-1 gradients, final weights (needs /usr/bin/python3 with torch)',
    )
    .option(
      '--archs <list>',
      `comma-separated subset of ${Object.keys(PARITY_ARCH_OPTIONS).join(',')}`,
      Object.keys(PARITY_ARCH_OPTIONS).join(','),
    )
    .option('--backends <list>', 'comma-separated subset of cpu,wasm', 'cpu,wasm')
    .option('--iterations <n>', 'SGD iterations compared', intArg(1), 50)
    .option('--batch <n>', 'batch size', intArg(1), 32)
    .option('--width <n>', 'channels of the first block', intArg(1), 4)
    .option('--side <n>', "input side in pixels (20: odd sizes downstream exercise 'same' padding)", intArg(4), 20)
    .option('--images <n>', 'training images (class-balanced prefix)', intArg(1), 1024)
    .option('--data <dir>', 'data set (default: the embedded Fashion-MNIST demo data)')
    .option('--reference-dtype <dtype>', 'PyTorch arithmetic: float64 (exact reference) or float32', 'float64')
    .option('--out <file>', 'results file', join('bench', 'results', 'parity.json'))
    .option('--json', 'print the results as JSON')
    .action(
      async (f: {
        archs: string;
        backends: string;
        iterations: number;
        batch: number;
        width: number;
        side: number;
        images: number;
        data?: string;
        referenceDtype: string;
        out: string;
        json?: boolean;
      }) => {
        const mode = { json: Boolean(f.json) };
        try {
          if (!torchAvailable()) {
            throw new AuditError('BACKEND_UNAVAILABLE', `${PYTHON} cannot import torch`, {
              hint: "Install Debian's PyTorch: apt-get install -y python3-torch.",
            });
          }
          const backends = f.backends.split(',').map((b) => b.trim());
          const bad = backends.find((b) => b !== 'cpu' && b !== 'wasm');
          if (bad)
            throw new AuditError('INVALID_ARGUMENT', `Unknown parity backend "${bad}"`, {
              hint: 'Use cpu and/or wasm.',
            });
          const archs = f.archs.split(',').map((a) => a.trim());
          const unknown = archs.find((a) => !(a in PARITY_ARCH_OPTIONS));
          if (unknown)
            throw new AuditError('UNKNOWN_ARCH', `Unknown parity architecture "${unknown}"`, {
              hint: `Use ${Object.keys(PARITY_ARCH_OPTIONS).join(', ')}.`,
            });
          if (f.referenceDtype !== 'float64' && f.referenceDtype !== 'float32')
            throw new AuditError('INVALID_ARGUMENT', `Unknown reference dtype "${f.referenceDtype}"`, {
              hint: 'Use float64 or float32.',
            });
          const data = await loadDataset(f.data ?? DEMO_DATASET(), {
            maxTrain: f.images,
            maxTest: 1,
            inputShape: [f.side, f.side, 1],
          });
          const result = await runParitySuite(data.train, {
            archs,
            backends: backends as ('cpu' | 'wasm')[],
            iterations: f.iterations,
            batchSize: f.batch,
            width: f.width,
            root: packageRoot(),
            referenceDtype: f.referenceDtype,
            onCase: (r) =>
              progress(
                `${r.arch.padEnd(7)} ${r.backend.padEnd(5)} loss ${r.lossMaxRelDiff.toExponential(2)}  step-1 grad ${r.gradMaxRelDiff.toExponential(2)} (${r.gradWorst})  ` +
                  `weights@${r.config.iterations} ${r.weightMaxRelDiff.toExponential(2)} (${r.weightWorst})  lockstep grad median ${r.lockstep.gradMedianRelDiff.toExponential(2)} ` +
                  `max ${r.lockstep.gradMaxRelDiff.toExponential(2)}  ${r.pass ? 'ok' : 'FAIL'}${r.note ? `\n  ${r.note}` : ''}`,
              ),
          });
          const cpu = cpus();
          const doc = { machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length }, ...result };
          mkdirSync(dirname(resolve(f.out)), { recursive: true });
          writeFileSync(resolve(f.out), `${JSON.stringify(doc, null, 2)}\n`);
          progress(`wrote ${resolve(f.out)}`);
          emit(mode, doc, () =>
            result.pass ? 'parity: every case within tolerance' : 'parity: some cases outside tolerance',
          );
          if (!result.pass) process.exitCode = 1;
        } catch (e) {
          fail(mode, e);
        }
      },
    );
}
