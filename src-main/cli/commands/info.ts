import { type Command } from 'commander';
import { initBackend } from '../../engine/backend';
import { machineThreads } from '../../engine/wasm-threads';
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
        // Threads a job left alone may use: the wasm backend's threaded build (native
        // TensorFlow sizes its own pools, the cpu backend has one).
        const jobThreads = info.backend === 'wasm' ? machineThreads() : null;
        emit(
          mode,
          {
            backend: info.backend,
            available: info.available,
            jobThreads,
            tfjsVersion: info.tfjsVersion,
            node: process.version,
          },
          () =>
            [
              `backend:   ${info.backend}`,
              `available: ${info.available.join(', ')}`,
              ...(jobThreads === null ? [] : [`threads:   up to ${jobThreads} per job`]),
              `tfjs:      ${info.tfjsVersion}`,
            ].join('\n'),
        );
      } catch (e) {
        fail(mode, e);
      }
    });
}
