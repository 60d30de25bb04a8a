/**
 * Paths as the engine will read them. The renderer cannot ask Node's path module, and a
 * relative path is read from the folder the engine started in (EngineInfo.baseDir), which in
 * the browser mode is wherever `serve` was launched: the form says so instead of guessing.
 */

/** A POSIX absolute path, a Windows drive path (C:\ or C:/) or a UNC path. */
export function isAbsolutePath(p: string): boolean {
  return /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(p);
}

/** `rel` under `base`, in base's separator; '.' and '..' segments resolved. */
export function resolveAgainst(base: string, rel: string): string {
  const sep = base.includes('\\') && !base.includes('/') ? '\\' : '/';
  const parts = base.split(/[\\/]+/);
  if (parts.length > 1 && parts.at(-1) === '') parts.pop(); // a trailing separator
  for (const seg of rel.split(/[\\/]+/)) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length > 1) parts.pop();
    } else parts.push(seg);
  }
  const joined = parts.join(sep);
  return joined === '' ? sep : joined;
}
