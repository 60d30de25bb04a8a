/**
 * Where a path that arrives through the API may point. The API's callers (the renderer, a
 * page in the browser mode) are less trusted than the user at a terminal, so:
 *
 * - reads (a model, a data set, a spec's paths) only under the read roots: the home, the
 *   bundled resources, and what the host adds (the folder `serve` started in, its
 *   `--allow-dir` folders, what the user picked in a native dialog);
 * - writes (report exports; a relative `out` is taken from the home) only inside
 *   `<home>/exports`, or inside a folder the user
 *   picked in a dialog, named by an opaque grant id (never a path string);
 * - the store's own files (the database, its -wal/-shm/-journal, the runs folder) are never
 *   a write target, whatever the path or grant.
 *
 * A path outside the roots is refused lexically, before anything on disk is looked at, with
 * one message whether or not it exists (no probing the machine through the API). Inside,
 * symlinks are resolved (realpath) and the check repeated, so a link cannot lead out.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AuditError } from '../engine/errors';
import { databasePath, runsDir } from '../store';

export const EXPORTS_FOLDER = 'exports';
export const exportsDir = (home: string): string => join(home, EXPORTS_FOLDER);

const GRANT_RE = /^g-[0-9a-f]{32}$/;

export interface PathPolicyOptions {
  home: string;
  /** Relative read paths resolve against this folder (it is not a root by itself). */
  baseDir: string;
  /** The bundled resources (demo model and data). */
  resourcesDir: string;
  /** More read roots: serve's folder and its --allow-dir folders. */
  readRoots?: string[];
}

export interface PathPolicy {
  /** The real path of `p` (resolved against baseDir), or PATH_NOT_ALLOWED naming `field`. */
  readable(p: string, field: string): string;
  /** Whether `p` passes `readable` (for listing problems without throwing). */
  isReadable(p: string): boolean;
  /** The real path for an export `out` (inside exports/ or the granted folder), or PATH_NOT_ALLOWED. */
  writable(out: string, grant?: string): string;
  /** A folder (or a file's folder) the user picked in a dialog becomes readable. */
  addReadRoot(dir: string): void;
  /** A folder the user picked for exports; returns the opaque id that names it. */
  grantFolder(dir: string): string;
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** realpath of the deepest existing ancestor, with the rest of the path appended. */
function realpathLoose(p: string): string {
  const tail: string[] = [];
  let head = p;
  for (;;) {
    try {
      return join(realpathSync.native(head), ...tail);
    } catch {
      const up = dirname(head);
      if (up === head) return p;
      tail.unshift(basename(head));
      head = up;
    }
  }
}

const READ_HINT =
  'Put it under the data folder or the folder `ownership-audit serve` was started in, or restart serve with `--allow-dir <folder>`; in the desktop app, choose it with Browse.';

function notAllowed(field: string, p: string): AuditError {
  return new AuditError('PATH_NOT_ALLOWED', `${field}: ${p} is outside the folders the workbench may read`, {
    hint: READ_HINT,
  });
}

export function createPathPolicy(o: PathPolicyOptions): PathPolicy {
  const home = resolve(o.home);
  const exports = exportsDir(home);
  /** Each root as given and as its real path (either form of a path inside passes the lexical check). */
  const roots: { lexical: string; real: string }[] = [];
  const addReadRoot = (dir: string) => {
    const lexical = resolve(dir);
    roots.push({ lexical, real: realpathLoose(lexical) });
  };
  for (const r of [home, o.resourcesDir, ...(o.readRoots ?? [])]) addReadRoot(r);
  const grants = new Map<string, string>();

  const readable = (p: string, field: string): string => {
    const abs = resolve(o.baseDir, p);
    // Lexical first: nothing outside the roots is looked at on disk.
    if (!roots.some((r) => inside(r.lexical, abs) || inside(r.real, abs))) throw notAllowed(field, abs);
    const real = realpathLoose(abs);
    if (!roots.some((r) => inside(r.real, real))) throw notAllowed(field, abs);
    return real;
  };

  /** The store's files and folders, as real paths (whatever links lead to them). */
  const storeTargets = () => {
    const db = databasePath(home);
    return {
      files: [db, `${db}-wal`, `${db}-shm`, `${db}-journal`].map(realpathLoose),
      runs: realpathLoose(runsDir(home)),
    };
  };

  const writable = (out: string, grant?: string): string => {
    let base = exports;
    if (grant !== undefined) {
      const granted = GRANT_RE.test(grant) ? grants.get(grant) : undefined;
      if (!granted)
        throw new AuditError('PATH_NOT_ALLOWED', 'exportReport.grant: no folder was picked under this id', {
          hint: 'Pick the folder again (grants last until the app closes), or leave grant out to write under the exports folder.',
        });
      base = granted;
    } else {
      mkdirSync(exports, { recursive: true });
    }
    const refuse = (why: string) =>
      new AuditError('PATH_NOT_ALLOWED', `exportReport.out: ${out} ${why}`, {
        hint: `Write reports under ${exports} (e.g. out: "${EXPORTS_FOLDER}/report.pdf"), or in the desktop app under a folder picked with Browse.`,
      });
    // Relative to the home (as `out` always was) or to the granted folder.
    const abs = resolve(grant !== undefined ? base : home, out);
    if (!inside(base, abs) || abs === base) throw refuse(`is not a file inside ${base}`);
    const real = realpathLoose(abs);
    if (!inside(realpathLoose(base), real) || real === realpathLoose(base))
      throw refuse(`leads out of ${base} (through a link)`);
    const store = storeTargets();
    if (store.files.includes(real) || inside(store.runs, real)) throw refuse("names the store's own files");
    return real;
  };

  return {
    readable,
    isReadable: (p) => {
      try {
        readable(p, 'path');
        return true;
      } catch {
        return false;
      }
    },
    writable,
    addReadRoot,
    grantFolder(dir) {
      const id = `g-${randomBytes(16).toString('hex')}`;
      grants.set(id, resolve(dir));
      return id;
    },
  };
}
