// better-sqlite3 for Electron's ABI, kept beside the Node build: the CLI and the tests load
// node_modules/better-sqlite3 (built for Node by `npm install`), the desktop app loads this
// copy through OWNERSHIP_AUDIT_SQLITE_BINDING (src-main/store/store.ts). Made once per
// Electron version by `npm start`, at set-up, from better-sqlite3's own prebuilt binary for
// Electron (prebuild-install) or, failing that, compiled against Electron's headers
// (node-gyp). Both need internet; the app itself never downloads anything.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** Where the Electron build of better-sqlite3 lives for this Electron version. */
export function electronSqlitePath(electronVersion) {
  const { version } = require('better-sqlite3/package.json');
  return join(
    ROOT,
    'out',
    'electron-sqlite',
    `better-sqlite3-${version}-electron-${electronVersion}-${process.platform}-${process.arch}.node`,
  );
}

function run(args, cwd) {
  return spawnSync(process.execPath, args, { cwd, stdio: 'inherit' }).status === 0;
}

/** npm's own node-gyp: npm passes its path to lifecycle scripts (npm start). */
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  return fromNpm && existsSync(fromNpm) ? fromNpm : undefined;
}

/** The path of the Electron build, made now if missing; undefined (with a message) when it cannot be made. */
export function ensureElectronSqlite(electronVersion) {
  const target = electronSqlitePath(electronVersion);
  if (existsSync(target)) return target;
  process.stderr.write(`> building better-sqlite3 for Electron ${electronVersion} (once; needs internet)\n`);
  const work = join(ROOT, 'out', 'electron-sqlite', 'work');
  rmSync(work, { recursive: true, force: true });
  cpSync(dirname(require.resolve('better-sqlite3/package.json')), work, {
    recursive: true,
    filter: (src) => !src.includes(`${join('better-sqlite3', 'build')}`),
  });
  const prebuilt = run(
    [
      require.resolve('prebuild-install/bin.js'),
      '--runtime',
      'electron',
      '--target',
      electronVersion,
      '--arch',
      process.arch,
    ],
    work,
  );
  const gyp = nodeGyp();
  const built =
    prebuilt ||
    (gyp !== undefined &&
      run(
        [
          gyp,
          'rebuild',
          '--release',
          '--runtime=electron',
          `--target=${electronVersion}`,
          '--dist-url=https://electronjs.org/headers',
        ],
        work,
      ));
  const binary = join(work, 'build', 'Release', 'better_sqlite3.node');
  if (!built || !existsSync(binary)) {
    rmSync(work, { recursive: true, force: true });
    process.stderr.write(
      'could not get better-sqlite3 for Electron (no internet?); the desktop app needs it to open its database.\n',
    );
    return undefined;
  }
  mkdirSync(dirname(target), { recursive: true });
  cpSync(binary, target);
  rmSync(work, { recursive: true, force: true });
  return target;
}
