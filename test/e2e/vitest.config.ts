import { defineConfig } from 'vitest/config';
import { TEST_CEILING_MS } from '../helpers/ceilings';

// The browser-mode end-to-end tests: `ownership-audit serve` on a fresh data folder, driven
// through Debian's Chromium by playwright-core. `npm run test:e2e` runs them alone; the
// root config runs them last (groupOrder), after the other projects have finished.
export default defineConfig({
  test: {
    name: 'e2e',
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: TEST_CEILING_MS,
    hookTimeout: TEST_CEILING_MS,
    sequence: { groupOrder: 1 },
  },
});
