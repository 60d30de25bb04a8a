import { type Command } from 'commander';
import { allCores, initBackend } from '../../engine/backend';
import { ATTACKS } from '../../engine/attacks/registry';
import { runAttack } from '../../engine/attacks/run-attack';
import { intArg, modelOutFolder, positiveNumber } from '../options';
import { emit, fail, progress } from '../output';
import { collectParam, paramsObject } from '../params-flag';

export function registerAttack(program: Command): void {
  program
    .command('attack')
    .description('run a removal attack on the victim and save the surrogate')
    .requiredOption('--name <attack>', ATTACKS.map((a) => a.id).join(' | '))
    .requiredOption('--victim <dir>', 'victim model directory')
    .requiredOption('--substitute <dir>', "the attacker's data set directory")
    .option(
      '--fraction <f>',
      'S_LTD: use this share of the substitute training split (class-balanced); without it the whole split (S_LSD)',
      positiveNumber,
    )
    .option('--test <dir>', 'test data for fidelity (default: the substitute directory)')
    .option('--param <key=value>', 'attack parameter (repeatable); see `ownership-audit attacks`', collectParam, [])
    .requiredOption('--iterations <n>', 'attack iterations', intArg(1))
    .option('--batch <n>', 'batch size', intArg(1), 128)
    .option('--seed <n>', 'seed', intArg(0), 0)
    .option('--block <name>', "split block for latent-level attacks (default: the victim's)")
    .requiredOption('--out <dir>', 'where to save the surrogate')
    .option('--checkpoint-every <n>', 'checkpoint every n iterations into <out>.work', intArg(1))
    .option('--trajectory', 'keep the surrogate of every checkpoint (for trajectory figures)')
    .option('--resume', 'continue an interrupted run from <out>.work')
    .option('--max-test <n>', 'class-balanced prefix of the test split', intArg(1))
    .option('--json', 'print { model, fidelity, compute } as JSON')
    .action(
      async (f: {
        name: string;
        victim: string;
        substitute: string;
        fraction?: number;
        test?: string;
        param: string[];
        iterations: number;
        batch: number;
        seed: number;
        block?: string;
        out: string;
        checkpointEvery?: number;
        trajectory?: boolean;
        resume?: boolean;
        maxTest?: number;
        json?: boolean;
      }) => {
        const mode = { json: Boolean(f.json) };
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          modelOutFolder(f.out);
          const backend = await initBackend(program.opts<{ backend?: string }>().backend, allCores());
          progress(`${f.name} on ${f.victim} (backend ${backend.backend})`);
          let last = 0;
          const r = await runAttack(
            {
              seed: f.seed,
              signal: controller.signal,
              log: progress,
              progress: (e) => {
                if (Date.now() - last < 3000 && e.iteration !== e.total) return;
                last = Date.now();
                const values = Object.entries(e.values ?? {})
                  .map(([k, v]) => `${k} ${Number(v).toPrecision(4)}`)
                  .join('  ');
                progress(
                  `${e.stage} ${e.iteration}/${e.total}  ${values}${e.etaSeconds !== undefined ? `  eta ${e.etaSeconds.toFixed(0)} s` : ''}`,
                );
              },
            },
            {
              attack: f.name,
              victimDir: f.victim,
              substituteDir: f.substitute,
              testDir: f.test,
              fraction: f.fraction,
              params: paramsObject(f.param),
              iterations: f.iterations,
              batchSize: f.batch,
              outDir: f.out,
              checkpointEvery: f.checkpointEvery,
              keepTrajectory: f.trajectory,
              resume: f.resume,
              block: f.block,
              maxTest: f.maxTest,
            },
          );
          emit(
            mode,
            r,
            () =>
              `saved ${r.model} (${r.lineage})\nfidelity: accuracy ${(100 * r.fidelity.accuracy).toFixed(2)}% (victim ${(100 * r.fidelity.victimAccuracy).toFixed(2)}%), agreement ${(100 * r.fidelity.agreement).toFixed(2)}%\ncompute: ${r.compute.iterations} iterations, ${r.compute.passes} passes, ${r.compute.seconds.toFixed(1)} s`,
          );
        } catch (e) {
          fail(mode, e);
        }
      },
    );

  program
    .command('attacks')
    .description('list the attacks and their parameters')
    .option('--json', 'print JSON')
    .action((f: { json?: boolean }) => {
      const list = ATTACKS.map((a) => ({ id: a.id, title: a.title, paper: a.paper, needs: a.needs, params: a.params }));
      emit({ json: Boolean(f.json) }, { attacks: list }, () =>
        list
          .map((a) =>
            [
              `${a.id}: ${a.title}`,
              ...a.params.map((p) => `  ${p.key} (${p.type}, default ${String(p.default)}): ${p.help}`),
            ].join('\n'),
          )
          .join('\n\n'),
      );
    });
}
