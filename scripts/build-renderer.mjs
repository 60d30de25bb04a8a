// Builds the workbench renderer (src-renderer) into out/renderer with plain vite: the one
// build that `serve`, the e2e tests and the desktop shell all use. Runs from the `prepare`
// lifecycle script, so `npm install && npx ownership-audit serve` shows the wizard at once.
// --if-stale: skip the build when out/renderer is newer than every source it is made from.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILT = join(ROOT, 'out', 'renderer', 'index.html');
const SOURCES = ['src-renderer', 'src-shared', 'vite.renderer.config.ts', 'package-lock.json'];

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function rendererIsCurrent() {
  if (!existsSync(BUILT)) return false;
  const sources = Math.max(
    ...SOURCES.map((p) => join(ROOT, p))
      .filter(existsSync)
      .map(newestMtime),
  );
  return statSync(BUILT).mtimeMs >= sources;
}

export async function buildRenderer() {
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'vite.renderer.config.ts'), logLevel: 'warn' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--if-stale') && rendererIsCurrent()) process.exit(0);
  const started = Date.now();
  await buildRenderer();
  process.stderr.write(`renderer built into out/renderer (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}
