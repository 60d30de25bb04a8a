import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { SqliteAuditStore } from '../../src-main/store';

/**
 * A fresh temp folder per test, removed (with every store opened through `track`) after
 * it. Call once at the top level of a test file.
 */
export function useTempDirs(): { dir: () => string; track: (s: SqliteAuditStore) => SqliteAuditStore } {
  const dirs: string[] = [];
  const stores: SqliteAuditStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    dir: () => {
      const d = mkdtempSync(path.join(tmpdir(), 'oa-store-'));
      dirs.push(d);
      return d;
    },
    track: (s) => {
      stores.push(s);
      return s;
    },
  };
}
