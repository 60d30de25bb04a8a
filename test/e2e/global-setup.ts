/**
 * The browser-mode tests need the bundled CLI (the `serve` command and its workers) and the
 * built renderer (out/renderer, what `serve` serves). The CLI builds in a second; the
 * renderer is rebuilt with electron-vite only when it is missing or older than its sources,
 * so `npm test` before `npm run build:app` (as CI runs them) still finds a current app.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, ROOT } from './env';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`\n[e2e] skipped: ${CHROMIUM} is absent (install Debian's chromium: apt-get install -y chromium)\n\n`);
    return;
  }
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const built = join(ROOT, 'out', 'renderer', 'index.html');
  const sources = Math.max(newestMtime(join(ROOT, 'src-renderer')), newestMtime(join(ROOT, 'src-shared')), statSync(join(ROOT, 'electron.vite.config.ts')).mtimeMs);
  if (!existsSync(built) || statSync(built).mtimeMs < sources) {
    process.stderr.write('[e2e] building the renderer (electron-vite build)\n');
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
}
