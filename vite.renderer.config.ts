import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The workbench renderer, built once by plain vite into out/renderer: `npm install` builds it
// (prepare), `serve` and the e2e tests serve it, and the desktop shell loads the same files.
// Relative asset URLs so the page works both from file:// (Electron) and from `serve`'s '/'.
export const RENDERER_ROOT = resolve(import.meta.dirname, 'src-renderer');
export const RENDERER_OUT = resolve(import.meta.dirname, 'out', 'renderer');

export default defineConfig({
  root: RENDERER_ROOT,
  base: './',
  plugins: [svelte()],
  logLevel: 'warn',
  build: {
    outDir: RENDERER_OUT,
    emptyOutDir: true,
    // echarts is most of the bundle; the page is read from disk or loopback, never a network.
    chunkSizeWarningLimit: 2048,
    rolldownOptions: { input: { index: resolve(RENDERER_ROOT, 'index.html') } },
  },
});
