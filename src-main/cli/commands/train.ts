import { type Command, Option } from 'commander';
import { allCores, initBackend } from '../../engine/backend';
import { AuditError } from '../../engine/errors';
import { trainModel } from '../../engine/training/train-model';
import { intArg, modelOutFolder, positiveNumber } from '../options';
import { emit, fail, progress } from '../output';
import { DEMO_DATASET } from '../paths';

/**
 * The demo victim's recipe: a 16/32/64-channel cnn (the 32-wide default needs more time per
 * epoch than a 5-minute budget allows; see bench/results/demo-cnn-accuracy.json).
 */
export const DEMO_RECIPE = { width: 16, epochs: 8 } as const;

interface TrainFlags {
  arch: string;
  data?: string;
  partition?: string;
  epochs?: number;
  iterations?: number;
  seed: number;
  out?: string;
  batch: number;
  lr: number;
  optimizer: 'sgd' | 'adam';
  schedule: 'cosine' | 'constant';
  weightDecay?: number;
  blocks?: number;
  width?: number;
  depth?: number;
  hidden?: number;
  maxTrain?: number;
  maxTest?: number;
  checkpointEvery: number;
  evalEvery?: number;
  resume?: boolean;
  demo?: boolean;
  json?: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a zoo architecture on a data set and save it with its metadata')
    .option('--arch <name>', 'cnn | vgg | resnet', 'cnn')
    .option('--data <dir>', 'data-set directory (IDX, CIFAR binary or image folders)')
    .option('--partition <k/n>', 'train on partition k of n of the training split (e.g. 0/2)')
    .option('--epochs <n>', 'passes over the training data', positiveNumber)
    .option('--iterations <n>', 'training iterations (overrides --epochs)', intArg(1))
    .option('--seed <n>', 'seed for initialisation and batch order', intArg(0), 0)
    .option('--out <dir>', 'where to write model.json, weights and ownership-audit.json')
    .option('--batch <n>', 'batch size', intArg(1), 128)
    .option('--lr <x>', 'base learning rate', positiveNumber, 0.05)
    .addOption(new Option('--optimizer <name>', 'optimiser').choices(['sgd', 'adam']).default('sgd'))
    .addOption(
      new Option('--schedule <name>', 'learning-rate schedule').choices(['cosine', 'constant']).default('cosine'),
    )
    .option(
      '--weight-decay <x>',
      'L2 weight decay on every trained weight, as PyTorch SGD weight_decay (default 5e-4)',
      Number,
    )
    .option('--blocks <n>', 'downsampling blocks', intArg(1))
    .option('--width <n>', 'channels of the first block', intArg(1))
    .option('--depth <n>', 'convs per block (vgg) or units per stage (resnet)', intArg(1))
    .option('--hidden <n>', 'units of the hidden dense layer', intArg(1))
    .option('--max-train <n>', 'use a class-balanced prefix of the training split', intArg(1))
    .option('--max-test <n>', 'use a class-balanced prefix of the test split', intArg(1))
    .option('--checkpoint-every <n>', 'checkpoint every n iterations (into <out>.checkpoint)', intArg(1), 200)
    .option('--resume', 'continue an interrupted run from its checkpoint')
    .option(
      '--demo',
      'the embedded Fashion-MNIST demo data with the demo recipe (defaults: --width 16 --epochs 8 --out demo-victim)',
    )
    .option(
      '--eval-every <n>',
      'also measure test accuracy every n iterations and at the end (a learning curve: "curve" in --json)',
      intArg(1),
    )
    .option('--json', 'print the result as JSON ({ model, testAccuracy, ... })')
    .action(async (flags: TrainFlags) => {
      const mode = { json: Boolean(flags.json) };
      const controller = new AbortController();
      const onSignal = () => {
        progress('stopping: writing a checkpoint (Ctrl-C again to quit at once)');
        process.off('SIGINT', onSignal);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const data = flags.data ?? (flags.demo ? DEMO_DATASET() : undefined);
        const out = flags.out ?? (flags.demo ? 'demo-victim' : undefined);
        if (!data || !out) {
          throw new AuditError('INVALID_ARGUMENT', 'train needs --data and --out', {
            hint: 'Pass --data DIR --out DIR, or --demo to use the embedded Fashion-MNIST subset.',
          });
        }
        const epochs =
          flags.epochs ?? (flags.iterations === undefined ? (flags.demo ? DEMO_RECIPE.epochs : 1) : undefined);
        const width = flags.width ?? (flags.demo ? DEMO_RECIPE.width : undefined);
        modelOutFolder(out);
        const backend = await initBackend(program.opts<{ backend?: string }>().backend, allCores());
        progress(`training ${flags.arch} on ${data} (backend ${backend.backend})`);
        const result = await trainModel({
          arch: flags.arch,
          dataDir: data,
          partition: flags.partition,
          outDir: out,
          seed: flags.seed,
          epochs,
          iterations: flags.iterations,
          batchSize: flags.batch,
          learningRate: flags.lr,
          optimizer: flags.optimizer,
          schedule: flags.schedule,
          weightDecay: flags.weightDecay,
          blocks: flags.blocks,
          width,
          depth: flags.depth,
          hidden: flags.hidden,
          maxTrain: flags.maxTrain,
          maxTest: flags.maxTest,
          checkpointEvery: flags.checkpointEvery,
          evaluateEvery: flags.evalEvery,
          resume: flags.resume,
          signal: controller.signal,
          onProgress: (p) =>
            progress(
              `iter ${p.iteration}/${p.totalIterations}  loss ${p.loss.toFixed(4)}  acc ${(100 * p.accuracy).toFixed(1)}%  ` +
                `lr ${p.learningRate.toPrecision(3)}  ${p.examplesPerSec.toFixed(0)} ex/s`,
            ),
        });
        emit(
          mode,
          {
            model: result.model,
            testAccuracy: result.testAccuracy,
            backend: backend.backend,
            arch: flags.arch,
            seed: flags.seed,
            iterations: result.iterations,
            trainSeconds: result.trainSeconds,
            trainExamplesPerSec: result.trainExamplesPerSec,
            lineage: result.meta.lineage,
            contentHash: result.meta.contentHash,
            ...(result.curve ? { curve: result.curve } : {}),
          },
          () =>
            `saved ${result.model}\ntest accuracy ${(100 * result.testAccuracy).toFixed(2)}% after ${result.iterations} iterations (${result.trainSeconds.toFixed(0)} s)`,
        );
      } catch (e) {
        fail(mode, e);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
