// `npm start`: builds the CLI (workers, engine probe, reports) and the app (main, preload,
// renderer), then launches Electron where its binary is installed. Where it is not (the
// package is installed with ELECTRON_SKIP_BINARY_DOWNLOAD, or without internet), it says
// so and points at the browser mode, which serves the same workbench.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function step(label, cmd, args) {
  process.stderr.write(`> ${label}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** The Electron binary, or undefined: require('electron') throws when the download was skipped. */
function electronBinary() {
  try {
    const p = require('electron');
    return typeof p === 'string' && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

step('npm run build:cli', process.execPath, ['scripts/build-cli.mjs']);
step('npm run build:app', process.platform === 'win32' ? 'npx.cmd' : 'npx', ['electron-vite', 'build']);

const electron = electronBinary();
if (!electron) {
  process.stderr.write(
    [
      '',
      'Electron is not installed here: its binary was not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD, or no internet at install time).',
      'The same workbench runs in a browser:  npx ownership-audit serve --open',
      'To get the desktop app: reinstall Electron with internet access (npm rebuild electron), then build better-sqlite3',
      "for Electron's ABI with `npx @electron/rebuild -f -w better-sqlite3` (or set OWNERSHIP_AUDIT_SQLITE_BINDING to such a build).",
      '',
    ].join('\n'),
  );
  process.exit(1);
}

// ELECTRON_RUN_AS_NODE would make the binary a plain Node and not open the app.
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE;
const child = spawn(electron, ['.'], { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
