/**
 * `ownership-audit`: the headless entry point. Every command accepts --json, printing one
 * JSON object on stdout; progress goes to stderr.
 */
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { registerAttack } from './commands/attack';
import { registerBench } from './commands/bench';
import { registerEvaluate } from './commands/evaluate';
import { registerInfo } from './commands/info';
import { registerReport } from './commands/report';
import { registerRun } from './commands/run';
import { registerRuns } from './commands/runs';
import { registerServe } from './commands/serve';
import { registerTrain } from './commands/train';
import { registerVerification } from './commands/verification';
import { registerWorker } from './commands/worker';

// Keeps TF.js's "install tfjs-node" banner out of the output; backends are chosen on purpose.
tf.env().set('PROD', true);

const program = new Command()
  .name('ownership-audit')
  .description('Audit whether DNN ownership verification (fingerprinting) survives removal attacks such as RemovalNet.')
  .option(
    '--backend <name>',
    'compute backend: tensorflow-gpu | tensorflow | wasm | cpu (default: best available; env OWNERSHIP_AUDIT_BACKEND)',
  )
  .showHelpAfterError();

registerInfo(program);
registerTrain(program);
registerEvaluate(program);
registerVerification(program);
registerAttack(program);
registerBench(program);
registerRun(program);
registerRuns(program);
registerReport(program);
registerServe(program);
registerWorker(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
