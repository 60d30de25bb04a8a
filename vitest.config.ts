import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';
import { TEST_CEILING_MS } from './test/helpers/ceilings';

// Tests run in forked processes: TF.js keeps one global engine per process, and the wasm
// backend is single-threaded, so two forks use both cores of the CI machine.
//
// Three projects: the engine, CLI, store and report tests (Node, as before); the renderer's
// state and component tests (Svelte compiled for the browser, jsdom where a file asks for
// it); and the end-to-end tests of the browser mode (their own config, run last so the
// audit they start does not compete with the other tests for the two cores).
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    // Hang detectors, not speed checks (test/helpers/ceilings.ts).
    testTimeout: TEST_CEILING_MS,
    hookTimeout: TEST_CEILING_MS,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/renderer/**', 'test/e2e/**'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        extends: true,
        // svelteTesting: Svelte's browser build in jsdom, and DOM clean-up after each test.
        plugins: [svelte(), svelteTesting()],
        test: { name: 'renderer', include: ['test/renderer/**/*.test.ts'], environment: 'jsdom' },
      },
      'test/e2e/vitest.config.ts',
    ],
  },
});
