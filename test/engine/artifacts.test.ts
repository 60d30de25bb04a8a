/** The content-addressed artifact store: tree hashes, put/lookup/materialize, and damage never used. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArtifactStore, recipeKey, treeHash } from '../../src-main/engine/artifacts/store';
import { makeTempDir } from './datasets/fixtures';

const tmp = makeTempDir('oa-artifacts-');
afterAll(() => tmp.cleanup());

function folder(name: string, files: Record<string, string>): string {
  const dir = join(tmp.dir, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

describe('tree hashes', () => {
  it('depend on every path and byte, not on where the folder is or the order files were written', () => {
    const a = folder('a', { 'model.json': '{}', 'w/shard1.bin': 'xyz' });
    const b = folder('b', { 'w/shard1.bin': 'xyz', 'model.json': '{}' });
    expect(treeHash(a)).toBe(treeHash(b));
    expect(treeHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(treeHash(folder('c', { 'model.json': '{}', 'w/shard1.bin': 'xyZ' }))).not.toBe(treeHash(a));
    expect(treeHash(folder('d', { 'model.json': '{}', 'w/shard2.bin': 'xyz' }))).not.toBe(treeHash(a));
    expect(treeHash(folder('e', { 'model.json': '{}', 'w/shard1.bin': 'xyz', extra: '' }))).not.toBe(treeHash(a));
  });

  it('recipe keys ignore key order and see every value', () => {
    expect(recipeKey({ seed: 1, victim: 'v' })).toBe(recipeKey({ victim: 'v', seed: 1 }));
    expect(recipeKey({ seed: 1, victim: 'v' })).not.toBe(recipeKey({ seed: 2, victim: 'v' }));
  });
});

describe('the store', () => {
  const store = new ArtifactStore(join(tmp.dir, 'store'));
  const key = recipeKey({ kind: 'reference', seed: 10000 });

  it('gives back what was put, under its hash, as an independent copy', () => {
    const src = folder('trained', { 'model.json': '{"a":1}', 'weights.bin': 'abc' });
    const hash = store.put(key, src, 'reference', { seed: 10000 });
    expect(hash).toBe(treeHash(src));
    expect(store.lookup(key)?.hash).toBe(hash);
    expect(store.lookup(recipeKey({ kind: 'reference', seed: 10001 }))).toBeUndefined();
    const out = join(tmp.dir, 'copy');
    expect(store.materialize(key, out)).toBe(true);
    expect(treeHash(out)).toBe(hash);
    // Putting the same content again (another process, another run) keeps one object.
    expect(store.put(key, out, 'reference', { seed: 10000 })).toBe(hash);
  });

  it('never uses a damaged object: it is removed with its index entry and reported as a miss', () => {
    const found = store.lookup(key)!;
    writeFileSync(join(found.dir, 'weights.bin'), 'abd');
    const lines: string[] = [];
    const watching = new ArtifactStore(store.root, (l) => lines.push(l));
    expect(watching.lookup(key)).toBeUndefined();
    expect(lines.join('\n')).toMatch(/missing or damaged; it will be rebuilt/);
    expect(watching.materialize(key, join(tmp.dir, 'never'))).toBe(false);
  });

  it('treats an unreadable index entry as a miss', () => {
    const src = folder('trained2', { 'model.json': '{"b":2}' });
    const k = recipeKey({ kind: 'reference', seed: 3 });
    store.put(k, src, 'reference', { seed: 3 });
    const index = join(store.root, 'index', `${k}.json`);
    writeFileSync(index, readFileSync(index, 'utf8').slice(0, 10));
    expect(store.lookup(k)).toBeUndefined();
    rmSync(src, { recursive: true });
  });
});
