// Lint rules also guard the boundaries of the architecture (test/lint/boundaries.test.ts
// plants a violation in each zone):
// - src-shared runs on both sides: no src-main, src-renderer, Node, Electron, TF.js or SQLite;
// - src-renderer runs in a browser: no src-main, Node, Electron, TF.js or SQLite;
// - src-main/engine: none of the main side's other layers (store, runner, api, report, cli,
//   app), no Electron, no SQLite;
// - Electron only in the desktop shell, src-main/app and src-main/preload.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';

/** One zone's forbidden imports: exact names (`paths`) and patterns, each with its reason. */
const forbid = (reason, { names = [], groups = [], regexes = [] }) => ({
  paths: names.map((name) => ({ name, message: reason })),
  patterns: [
    ...(groups.length ? [{ group: groups, message: reason }] : []),
    ...regexes.map((regex) => ({ regex, caseSensitive: true, message: reason })),
  ],
});

const NODE = forbid('Node built-ins are not available here (browser code, or code shared with it).', {
  // Bare names ('fs', 'os', 'fs/promises', ...) exactly, so that a relative './path' stays legal.
  names: builtinModules.filter((m) => !m.startsWith('_')),
  groups: ['node:*'],
});
const ELECTRON = forbid('Electron is for the desktop shell only (src-main/app, src-main/preload).', {
  names: ['electron'],
  groups: ['electron/*'],
});
const TFJS = forbid('TF.js runs in the engine (src-main/engine), not here.', { groups: ['@tensorflow/*'] });
const SQLITE = forbid("The database is the store's (src-main/store).", { names: ['better-sqlite3'] });
const SRC_MAIN = forbid('src-main is the main side: reach it through the API (src-shared/contract).', {
  regexes: ['(^|/)src-main(/|$)'],
});
const SRC_RENDERER = forbid('src-renderer is the browser side: the main side and shared code never import it.', {
  regexes: ['(^|/)src-renderer(/|$)'],
});
// A relative path that climbs out of the engine into a sibling layer, or names it from the root.
const MAIN_LAYERS = forbid(
  'The engine must not depend on the layers that use it (store, runner, api, report, cli, app).',
  {
    regexes: [
      '^(\\.\\./)+(store|runner|api|report|cli|app)(/|$)',
      '(^|/)src-main/(store|runner|api|report|cli|app)(/|$)',
    ],
  },
);

/** The no-restricted-imports setting for a zone: every restriction it is under. */
const restrictImports = (...zones) => [
  'error',
  { paths: zones.flatMap((z) => z.paths), patterns: zones.flatMap((z) => z.patterns) },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'tmp/**', 'resources/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The renderer's components and rune modules: svelte-eslint-parser for the markup, with
  // typescript-eslint's parser for `<script lang="ts">` and the .svelte.ts modules.
  ...svelte.configs.recommended,
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
    rules: {
      // Undefined names in TypeScript are the compiler's to find (svelte-check, npm run
      // check:svelte); the core rule knows neither the DOM globals nor type-only names there.
      'no-undef': 'off',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Boundaries: each zone gets one no-restricted-imports entry listing everything it may not
  // import (a later entry for the same file would replace an earlier one, not add to it).
  {
    // Shared code runs on both sides, the browser included.
    files: ['src-shared/**/*.ts'],
    rules: { 'no-restricted-imports': restrictImports(SRC_MAIN, SRC_RENDERER, NODE, ELECTRON, TFJS, SQLITE) },
  },
  {
    // The renderer runs sandboxed in a browser: it talks to the main side only through the API client.
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.svelte'],
    rules: { 'no-restricted-imports': restrictImports(SRC_MAIN, NODE, ELECTRON, TFJS, SQLITE) },
  },
  {
    // The engine computes; it knows nothing of how runs are stored, scheduled, served or shown.
    files: ['src-main/engine/**/*.ts'],
    rules: { 'no-restricted-imports': restrictImports(MAIN_LAYERS, SRC_RENDERER, ELECTRON, SQLITE) },
  },
  {
    // Electron belongs to the desktop shell (src-main/app) and its preload script.
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/engine/**', 'src-main/app/**', 'src-main/preload/**'],
    rules: { 'no-restricted-imports': restrictImports(SRC_RENDERER, ELECTRON) },
  },
  {
    files: ['scripts/**/*.mjs', 'bench/**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        performance: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
  {
    // CommonJS preloads (node --require) used by tests.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
