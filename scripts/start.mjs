// `npm start`: the desktop app. Where Electron is missing it says what is missing and points
// at the browser mode (the same workbench) before building anything; otherwise it builds the
// CLI (workers, engine probe, reports) and the app (renderer, main, preload), makes sure an
// Electron build of better-sqlite3 exists (once, scripts/electron-sqlite.mjs), then launches
// Electron with it.
import { spawn, spawnSync } from 'node:child_process';
import { ELECTRON_ABSENT_NOTE, electronBinary, electronPackageVersion } from './electron-presence.mjs';
import { ensureElectronSqlite } from './electron-sqlite.mjs';

const BROWSER_MODE = 'The same workbench runs in a browser:  npx ownership-audit serve --open';

function stop(lines) {
  process.stderr.write(['', ...lines, ''].join('\n'));
  process.exit(1);
}

if (!electronPackageVersion()) {
  stop([
    `${ELECTRON_ABSENT_NOTE}.`,
    BROWSER_MODE,
    'To get the desktop app, run `npm install` again on a machine with internet access.',
  ]);
}
const electron = electronBinary();
if (!electron) {
  stop([
    `Electron ${electronPackageVersion()} is installed without its binary (ELECTRON_SKIP_BINARY_DOWNLOAD, or its download failed).`,
    BROWSER_MODE,
    'To get the desktop app: `npm rebuild electron` with internet access downloads the binary.',
  ]);
}

function step(label, args) {
  process.stderr.write(`> ${label}\n`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
step('npm run build:cli', ['scripts/build-cli.mjs']);
step('npm run build:app', ['scripts/build-app.mjs']);

// ELECTRON_RUN_AS_NODE would make the binary a plain Node and not open the app.
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE;
if (!env.OWNERSHIP_AUDIT_SQLITE_BINDING) {
  const binding = ensureElectronSqlite(electronPackageVersion());
  if (!binding) stop([BROWSER_MODE]);
  env.OWNERSHIP_AUDIT_SQLITE_BINDING = binding;
}
const child = spawn(electron, ['.'], { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
