// `npm run build:app`: the renderer (plain vite, out/renderer), then the desktop shell's main
// and preload bundles (electron-vite, out/main and out/preload) where Electron's package is
// installed. Without it the shell is skipped with one line and the renderer alone is built:
// that is everything `serve` (the browser mode) needs.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRenderer } from './build-renderer.mjs';
import { ELECTRON_ABSENT_NOTE, electronPackageVersion } from './electron-presence.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

await buildRenderer();
process.stderr.write('renderer built into out/renderer\n');
if (!electronPackageVersion()) {
  process.stderr.write(
    `desktop shell build skipped: ${ELECTRON_ABSENT_NOTE}; the browser mode (npx ownership-audit serve) is ready.\n`,
  );
  process.exit(0);
}
const cli = join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
const r = spawnSync(process.execPath, [cli, 'build'], { cwd: ROOT, stdio: 'inherit' });
process.exit(r.status ?? 1);
