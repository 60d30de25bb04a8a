import { defineConfig } from 'vitest/config';

// Tests run in forked processes: TF.js keeps one global engine per process, and the wasm
// backend is single-threaded, so two forks use both cores of the CI machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
