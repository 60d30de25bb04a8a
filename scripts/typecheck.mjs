// `npm run typecheck`: everything but the desktop shell (tsconfig.json), then the desktop
// shell, src-main/app and src-main/preload with their tests (tsconfig.desktop.json), whose
// types come from Electron's package. Where npm dropped that package (an offline install)
// the second step is skipped with one line: the shell cannot run there either.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ELECTRON_ABSENT_NOTE, electronPackageVersion } from './electron-presence.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function check(project) {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

check('tsconfig.json');
if (electronPackageVersion()) check('tsconfig.desktop.json');
else
  process.stderr.write(
    `typecheck of the desktop shell (src-main/app, src-main/preload) skipped: ${ELECTRON_ABSENT_NOTE}.\n`,
  );
