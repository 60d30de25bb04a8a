/**
 * The content-addressed artifact store (issue 18; the shared ground of the evidence and
 * distributed issues): immutable folders named by their tree hash, and an index from a
 * recipe key (everything that determines an artifact) to the object it produced.
 *
 *   <root>/objects/<tree hash>/...   the artifact's files, never changed once written
 *   <root>/index/<recipe key>.json   { object, kind, recipe, createdAt }
 *
 * The tree hash is the sha256 over the folder's files in sorted path order, each as
 * `<relative path>\0<size>\0<sha256 of its bytes>\n`, so a renamed, added, removed or edited
 * file changes it. Every read checks it again: a damaged object is removed with its index
 * entry and reported as a miss (the artifact is rebuilt), never used. Writes go to a
 * temporary folder first and are renamed into place, so a killed process leaves no
 * half-written object. Other stores (an S3 bucket, a network folder) would implement the
 * same three calls: lookup, put and materialize.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { canonicalJson } from '../calibration/content-hash';
import { writeFileAtomicSync } from '../files/atomic-write';

export interface IndexEntry {
  object: string;
  kind: string;
  recipe: Record<string, unknown>;
  createdAt: string;
}

/** sha256 (hex) of the canonical JSON of everything that determines an artifact. */
export function recipeKey(recipe: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(recipe)).digest('hex');
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** The tree hash of a folder (see the module comment). */
export function treeHash(dir: string): string {
  const h = createHash('sha256');
  for (const f of files(dir)) {
    const bytes = readFileSync(join(dir, f));
    h.update(`${f}\0${bytes.length}\0${createHash('sha256').update(bytes).digest('hex')}\n`);
  }
  return h.digest('hex');
}

export class ArtifactStore {
  constructor(
    readonly root: string,
    private readonly log: (line: string) => void = () => {},
  ) {}

  private objectDir(hash: string): string {
    return join(this.root, 'objects', hash);
  }

  private indexFile(key: string): string {
    return join(this.root, 'index', `${key}.json`);
  }

  /** The object a recipe produced, checked against its hash; undefined when absent or damaged (then removed). */
  lookup(key: string): { hash: string; dir: string; entry: IndexEntry } | undefined {
    const file = this.indexFile(key);
    if (!existsSync(file)) return undefined;
    let entry: IndexEntry;
    try {
      entry = JSON.parse(readFileSync(file, 'utf8')) as IndexEntry;
    } catch {
      rmSync(file, { force: true });
      return undefined;
    }
    const dir = this.objectDir(entry.object);
    if (!/^[0-9a-f]{64}$/.test(entry.object) || !existsSync(dir) || treeHash(dir) !== entry.object) {
      this.log(`artifact store: object ${entry.object} for ${entry.kind} is missing or damaged; it will be rebuilt`);
      rmSync(dir, { recursive: true, force: true });
      rmSync(file, { force: true });
      return undefined;
    }
    return { hash: entry.object, dir, entry };
  }

  /** Stores a finished folder under its tree hash and indexes it under `key`; returns the hash. */
  put(key: string, dir: string, kind: string, recipe: Record<string, unknown>): string {
    const hash = treeHash(dir);
    const target = this.objectDir(hash);
    if (!existsSync(target)) {
      const staging = `${target}.tmp-${process.pid}`;
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(join(this.root, 'objects'), { recursive: true });
      cpSync(dir, staging, { recursive: true });
      // Another process may have stored the same object meanwhile: identical content, keep theirs.
      if (existsSync(target)) rmSync(staging, { recursive: true, force: true });
      else renameSync(staging, target);
    }
    mkdirSync(join(this.root, 'index'), { recursive: true });
    const entry: IndexEntry = { object: hash, kind, recipe, createdAt: new Date().toISOString() };
    writeFileAtomicSync(this.indexFile(key), `${JSON.stringify(entry, null, 2)}\n`);
    return hash;
  }

  /**
   * Copies the object a recipe produced to `target` (which must not exist yet); false on a
   * miss. The copy is checked against the hash before it is renamed into place.
   */
  materialize(key: string, target: string): boolean {
    const found = this.lookup(key);
    if (!found) return false;
    const staging = `${target}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    cpSync(found.dir, staging, { recursive: true });
    if (treeHash(staging) !== found.hash) {
      rmSync(staging, { recursive: true, force: true });
      return false;
    }
    renameSync(staging, target);
    return true;
  }
}

/** Tree hashes of data folders, cached per process by path and the files' sizes and times. */
const dataHashes = new Map<string, { stamp: string; hash: string }>();

export function dataTreeHash(dir: string): string {
  const stamp = files(dir)
    .map((f) => {
      const st = statSync(join(dir, f));
      return `${f}:${st.size}:${st.mtimeMs}`;
    })
    .join('|');
  const cached = dataHashes.get(dir);
  if (cached?.stamp === stamp) return cached.hash;
  const hash = treeHash(dir);
  dataHashes.set(dir, { stamp, hash });
  return hash;
}
