/**
 * The import boundaries of eslint.config.js, checked on planted code: a forbidden import in
 * each zone must be an error of no-restricted-imports, and the imports each zone relies on
 * must pass. Virtual files (lintText with a path inside the zone): nothing is written.
 */
import { ESLint, type Linter } from 'eslint';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

/** The import as a module (.ts) or a component's script (.svelte) at `filePath`. */
function source(filePath: string, specifier: string): string {
  const line = `import * as m from '${specifier}';\nexport const used = m;\n`;
  return filePath.endsWith('.svelte') ? `<script lang="ts">\n  ${line}</script>\n\n<p>{String(m)}</p>\n` : line;
}

async function lint(filePath: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const fatal = result.messages.filter((m) => m.fatal);
  expect(fatal, `${filePath} did not parse`).toEqual([]);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports');
}

/** Zone file -> imports it must not have. */
const FORBIDDEN: Record<string, string[]> = {
  'src-shared/domain/x.ts': [
    'node:os',
    'child_process',
    'os',
    'fs',
    'fs/promises',
    'path',
    'crypto',
    'worker_threads',
    'http',
    'net',
    'url',
    '../../src-main/engine/rng',
    '../../src-renderer/src/lib/format',
    'electron',
    '@tensorflow/tfjs',
    '@tensorflow/tfjs-node',
    'better-sqlite3',
  ],
  'src-main/engine/x.ts': [
    '../store/store',
    '../runner/plan',
    '../api/service',
    '../report/data',
    '../cli/index',
    '../app/main',
    'electron',
    'better-sqlite3',
    '../../src-renderer/src/lib/format',
  ],
  'src-main/engine/models/zoo/x.ts': ['../../../store/types', '../../../../src-main/runner/plan', 'electron/main'],
  'src-main/runner/x.ts': ['electron'],
  'src-main/store/x.ts': ['electron'],
  'src-main/api/x.ts': ['electron', '../../src-renderer/src/lib/client'],
  'src-main/cli/x.ts': ['electron'],
  'src-renderer/src/lib/x.ts': [
    '../../../src-main/api/service',
    '../../../src-main/engine/rng',
    'node:fs',
    'path',
    'os',
    'electron',
    '@tensorflow/tfjs',
    'better-sqlite3',
  ],
  'src-renderer/src/lib/x.svelte.ts': ['../../../src-main/store/types', 'node:events'],
  'src-renderer/src/screens/X.svelte': ['../../../src-main/engine/rng', 'node:os', 'electron'],
};

/** Zone file -> imports it relies on. */
const ALLOWED: Record<string, string[]> = {
  'src-shared/domain/x.ts': ['zod', './metrics', '../audit/spec', './path', './os'],
  'src-main/engine/x.ts': ['node:fs', 'os', '@tensorflow/tfjs', './rng', '../../src-shared/audit/spec'],
  'src-main/engine/models/zoo/x.ts': ['../../training/train', '../../files/atomic-write'],
  'src-main/runner/x.ts': ['../store/store', '../engine/rng', 'node:child_process'],
  'src-main/store/x.ts': ['better-sqlite3', 'node:fs'],
  'src-main/app/x.ts': ['electron', '../api/service'],
  'src-main/preload/x.ts': ['electron'],
  'src-renderer/src/lib/x.ts': ['../../../src-shared/contract/api', './format', 'svelte', 'echarts', 'zod'],
  'src-renderer/src/lib/x.svelte.ts': ['./format', 'svelte/reactivity'],
  'src-renderer/src/screens/X.svelte': [
    '../lib/format',
    '../../../src-shared/audit/spec',
    '../components/Chart.svelte',
  ],
};

describe('import boundaries (eslint.config.js)', () => {
  it.each(Object.entries(FORBIDDEN))('%s: each forbidden import is an error', async (file, specifiers) => {
    for (const spec of specifiers) {
      const found = await lint(file, source(file, spec));
      expect(
        found.map((m) => m.severity),
        `${file} importing '${spec}'`,
      ).toEqual([2]);
    }
  });

  it('also forbids type-only imports and re-exports', async () => {
    const typeOnly = "import type { AuditStore } from '../../src-main/store/types';\nexport type S = AuditStore;\n";
    expect(await lint('src-shared/domain/x.ts', typeOnly)).toHaveLength(1);
    expect(await lint('src-main/runner/x.ts', "export { app } from 'electron';\n")).toHaveLength(1);
  });

  it.each(Object.entries(ALLOWED))('%s: the imports it relies on pass', async (file, specifiers) => {
    for (const spec of specifiers) {
      const found = await lint(file, source(file, spec));
      expect(
        found.map((m) => m.message),
        `${file} importing '${spec}'`,
      ).toEqual([]);
    }
  });
});
