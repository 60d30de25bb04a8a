import { type Command } from 'commander';
import { initBackend } from '../../engine/backend';
import { emit, fail } from '../output';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('report the compute backend this machine uses and which ones load')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const mode = { json: Boolean(opts.json) };
      try {
        const info = await initBackend(program.opts<{ backend?: string }>().backend);
        emit(
          mode,
          { backend: info.backend, available: info.available, tfjsVersion: info.tfjsVersion, node: process.version },
          () =>
            [
              `backend:   ${info.backend}`,
              `available: ${info.available.join(', ')}`,
              `tfjs:      ${info.tfjsVersion}`,
            ].join('\n'),
        );
      } catch (e) {
        fail(mode, e);
      }
    });
}
