import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

// Main and preload are Node bundles with npm packages left external (TF.js finds its wasm
// binaries next to its own files); the renderer is a Svelte app with no Node access.
export default defineConfig({
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
  renderer: {
    root: 'src-renderer',
    plugins: [svelte()],
    build: { outDir: 'out/renderer', rollupOptions: { input: { index: resolve('src-renderer/index.html') } } },
  },
});
