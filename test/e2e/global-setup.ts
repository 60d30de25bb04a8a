/**
 * The browser-mode tests need the bundled CLI (the `serve` command and its workers) and the
 * built renderer (out/renderer, what `serve` serves). Both come from `npm install`; the CLI
 * is rebuilt here in a second, and the renderer, by the same plain-vite build as the install
 * step (scripts/build-renderer.mjs), only when it is missing or older than its sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM, ROOT } from './env';

export default function setup(): void {
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(
      `\n[e2e] skipped: ${CHROMIUM} is absent (install Debian's chromium: apt-get install -y chromium)\n\n`,
    );
    return;
  }
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/build-renderer.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
}
