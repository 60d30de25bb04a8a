// Bundles the CLI (src-main/cli/main.ts) into dist/cli.cjs with esbuild. Runs from the
// `prepare` lifecycle script, so `npx ownership-audit` works right after `npm install`.
// npm packages stay external: TF.js locates its wasm binaries next to its own files.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

await build({
  entryPoints: ['src-main/cli/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  outfile: 'dist/cli.cjs',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
chmodSync('dist/cli.cjs', 0o755);
