import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import rendererConfig from './vite.renderer.config';

// Main and preload are Node bundles with npm packages left external (TF.js finds its wasm
// binaries next to its own files). The renderer has one build path, plain vite
// (vite.renderer.config.ts, run by `npm install` and scripts/build-app.mjs); electron-vite
// only serves it with hot reload under `electron-vite dev`.
export default defineConfig(({ command }) => ({
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: true,
      rollupOptions: { input: { index: resolve('src-main/app/main.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: true,
      rollupOptions: { input: { index: resolve('src-main/preload/index.ts') }, output: { format: 'cjs' } },
    },
  },
  renderer: command === 'serve' ? { ...rendererConfig, root: resolve('src-renderer') } : undefined,
}));
