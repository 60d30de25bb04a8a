/**
 * One source of truth per attack and defence: outside its own files (the one that declares
 * it, and files named after it such as removalnet-latent.ts), the registries and the tests,
 * no code spells an attack's or a defence's id. Everything else asks the registries (or,
 * in the renderer, the catalog) and acts on names, roles and labels. Comments may still
 * use an id as an example.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { ATTACKS } from '../../src-main/engine/attacks/registry';
import { DEFENSES } from '../../src-main/engine/defenses/registry';

const ROOTS = ['src-main', 'src-shared', 'src-renderer', 'scripts'];
const EXTENSIONS = /\.(ts|mjs|js|svelte)$/;
const REGISTRIES = ['src-main/engine/attacks/registry.ts', 'src-main/engine/defenses/registry.ts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return EXTENSIONS.test(e.name) ? [p] : [];
  });
}

/** The code without comments (block comments, and line comments that start a line or follow whitespace). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|\s)\/\/.*$/gm, '$1');
}

/** Files that may spell an id: the declaring file (`id: 'x'` or `X_ID = 'x'`) and files named after it. */
function ownFiles(id: string, files: readonly string[], texts: ReadonlyMap<string, string>): Set<string> {
  const declares = new RegExp(`(\\bid:\\s*|_ID\\s*=\\s*)['"]${id}['"]`);
  return new Set(
    files.filter(
      (f) =>
        (f.includes('/engine/attacks/') || f.includes('/engine/defenses/')) &&
        (basename(f).startsWith(id) || declares.test(texts.get(f) ?? '')),
    ),
  );
}

const files = ROOTS.flatMap((r) => sourceFiles(r)).map((f) => relative('.', f));
const texts = new Map(files.map((f) => [f, withoutComments(readFileSync(f, 'utf8'))]));

function literalsOutsideOwners(ids: readonly string[]): string[] {
  const found: string[] = [];
  for (const id of ids) {
    const own = ownFiles(id, files, texts);
    expect(own.size, `the file declaring "${id}"`).toBeGreaterThan(0);
    const literal = new RegExp(`(['"\`])${id}\\1`);
    for (const f of files) {
      if (own.has(f) || REGISTRIES.includes(f)) continue;
      (texts.get(f) ?? '').split('\n').forEach((line, i) => {
        if (literal.test(line)) found.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  return found;
}

it('no attack id is spelled outside its own files, the registries and tests', () => {
  expect(literalsOutsideOwners(ATTACKS.map((a) => a.id))).toEqual([]);
});

it('no defence id is spelled outside its own files, the registries and tests', () => {
  expect(literalsOutsideOwners(DEFENSES.map((d) => d.id))).toEqual([]);
});

it('the scan finds a planted id literal', () => {
  texts.set('src-main/runner/planted.ts', "if (job.attack === 'knockoff') stealing();\n");
  files.push('src-main/runner/planted.ts');
  try {
    expect(literalsOutsideOwners(['knockoff'])).toEqual([
      "src-main/runner/planted.ts:1: if (job.attack === 'knockoff') stealing();",
    ]);
  } finally {
    files.pop();
    texts.delete('src-main/runner/planted.ts');
  }
});
