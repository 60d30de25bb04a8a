/**
 * `ownership-audit`: the headless entry point. Every command accepts --json, printing one
 * JSON object on stdout; progress goes to stderr.
 */
import { Command, CommanderError } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { registerAttack } from './commands/attack';
import { registerBench } from './commands/bench';
import { registerEvaluate } from './commands/evaluate';
import { registerEvidence } from './commands/evidence';
import { registerInfo } from './commands/info';
import { registerQueries } from './commands/queries';
import { registerReport } from './commands/report';
import { registerRun } from './commands/run';
import { registerRuns } from './commands/runs';
import { registerServe } from './commands/serve';
import { registerTrain } from './commands/train';
import { registerVerification } from './commands/verification';
import { registerWorker } from './commands/worker';
import { commanderToAuditError } from './options';
import { fail } from './output';

// Keeps TF.js's "install tfjs-node" banner out of the output; backends are chosen on purpose.
tf.env().set('PROD', true);

const program = new Command()
  .name('ownership-audit')
  .description('Audit whether DNN ownership verification (fingerprinting) survives removal attacks such as RemovalNet.')
  .option(
    '--backend <name>',
    'compute backend: tensorflow-gpu | tensorflow | wasm | cpu (default: best available; env OWNERSHIP_AUDIT_BACKEND)',
  )
  .showHelpAfterError()
  // Option and argument errors come back here as CommanderErrors (subcommands inherit this),
  // so that under --json they are the JSON error like every other one.
  .exitOverride();

registerInfo(program);
registerTrain(program);
registerEvaluate(program);
registerVerification(program);
registerEvidence(program);
registerQueries(program);
registerAttack(program);
registerBench(program);
registerRun(program);
registerRuns(program);
registerReport(program);
registerServe(program);
registerWorker(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // --help and --version end here too, with exit code 0; commander printed the message.
    if (e.exitCode === 0) process.exit(0);
    if (process.argv.includes('--json')) fail({ json: true }, commanderToAuditError(e));
    process.exit(e.exitCode);
  }
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
