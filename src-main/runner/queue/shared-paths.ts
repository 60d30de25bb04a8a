/**
 * Paths between machines. The coordinator plans a distributed run with every artifact
 * under its shared root (`--shared`); each worker mounts the same location, perhaps at
 * another path, and names its mount with its own `--shared`. Job data and results are JSON
 * with absolute paths inside: these functions rewrite every string that is the root or lies
 * under it from one mount to the other, and list such paths. Strings elsewhere (a path
 * outside the shared location) pass unchanged.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';

function underRoot(value: string, root: string): string | undefined {
  if (!isAbsolute(value)) return undefined;
  const rel = relative(root, value);
  if (rel === '') return '';
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/** Deep copy of `value` with every path under `from` moved to the same place under `to`. */
export function rebasePaths<T>(value: T, from: string, to: string): T {
  const a = resolve(from);
  const b = resolve(to);
  if (a === b) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const rel = underRoot(v, a);
      return rel === undefined ? v : rel === '' ? b : resolve(b, rel);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** Every distinct string in `value` that is a path strictly under `root`, relative to it ('/'-separated). */
export function pathsUnder(value: unknown, root: string): string[] {
  const a = resolve(root);
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      const rel = underRoot(v, a);
      if (rel) found.add(rel);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return [...found].sort();
}
