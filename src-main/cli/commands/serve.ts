/**
 * `ownership-audit serve`: the workbench in a browser. Serves the built renderer and the
 * app's API on a loopback address, guarded by a random token that is printed with the
 * address. Runs started here live in this process (their jobs in worker processes);
 * Ctrl-C pauses them cleanly (jobs checkpoint) before it exits.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { type Command } from 'commander';
import { createAuditService } from '../../api/service';
import { startServer } from '../../api/server';
import { isLoopbackHost } from '../../api/security';
import { NOT_BUILT_MESSAGE, rendererBuilt } from '../../api/static-files';
import { initBackend } from '../../engine/backend';
import { resolveHome } from '../../store';
import { intArg } from '../options';
import { fail, progress } from '../output';
import { packageRoot } from '../paths';

interface ServeFlags {
  port: number;
  host: string;
  home?: string;
  open?: boolean;
  allowRemote?: boolean;
  allowDir: string[];
  json?: boolean;
}

/** Opens the address in the desktop's browser (best effort: a headless machine has none). */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => progress(`could not open a browser (${cmd}); open the address above by hand`));
    child.unref();
  } catch {
    progress('could not open a browser; open the address above by hand');
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the workbench to a browser: the desktop UI and its API on a loopback address, guarded by a printed token',
    )
    .option('--port <n>', 'port (0: any free port)', intArg(0), 0)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--allow-remote',
      'allow an address that is not loopback (the token then travels unencrypted: prefer an SSH tunnel)',
    )
    .option(
      '--home <dir>',
      'data folder with the run history (default: env OWNERSHIP_AUDIT_HOME or the per-user app data folder)',
    )
    .option(
      '--allow-dir <dir>',
      'a folder the workbench may read models and data from, besides the data folder, the bundled demo and the folder serve starts in (repeatable)',
      (dir: string, prev: string[]) => [...prev, dir],
      [] as string[],
    )
    .option('--open', 'open the address in the default browser')
    .option('--json', 'print { url, origin, token, port, host } as one JSON line once listening')
    .action(async (f: ServeFlags) => {
      const mode = { json: Boolean(f.json) };
      try {
        if (!isLoopbackHost(f.host) && f.allowRemote) {
          progress(
            `warning: listening on ${f.host}, which is not a loopback address: anyone who can reach it and learns the token controls audits on this machine, and the token travels unencrypted. Prefer --host 127.0.0.1 with an SSH tunnel.`,
          );
        }
        const rendererDir = join(packageRoot(), 'out', 'renderer');
        if (!rendererBuilt(rendererDir)) progress(`warning: ${NOT_BUILT_MESSAGE}`);
        const info = await initBackend(program.opts<{ backend?: string }>().backend);
        const home = resolveHome(f.home);
        const service = createAuditService({
          home,
          backend: { backend: info.backend, available: info.available, tfjsVersion: info.tfjsVersion },
          workerEntry: process.argv[1],
          workerArgs: ['worker', 'job'],
          // What pages may read: this folder and the --allow-dir ones (the home and resources always).
          readRoots: [process.cwd(), ...f.allowDir.map((d) => resolve(d))],
        });
        const server = await startServer({
          service,
          host: f.host,
          port: f.port,
          allowRemote: f.allowRemote,
          rendererDir,
        });
        if (mode.json)
          process.stdout.write(
            `${JSON.stringify({ url: server.url, origin: server.origin, token: server.token, port: server.port, host: server.host })}\n`,
          );
        else process.stdout.write(`Ownership Audit workbench: ${server.url}\n`);
        progress(
          `backend ${info.backend}, data folder ${home}, reports under ${join(home, 'exports')}. Keep the address private: the token in it grants full control. Ctrl-C stops the server (running audits pause and can be resumed).`,
        );
        if (f.open) openBrowser(server.url);

        let stopping = false;
        const stop = () => {
          if (stopping) process.exit(130);
          stopping = true;
          progress('stopping: pausing running audits (jobs checkpoint first; Ctrl-C again to leave at once)');
          void server
            .close()
            .then(() => service.close())
            .finally(() => process.exit(0));
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      } catch (e) {
        fail(mode, e);
      }
    });
}
