/**
 * Atomic replacement of a file or a directory: the new content is written to a hidden
 * temporary sibling (in the same directory, so that the final rename stays on one file
 * system and is atomic) and then renamed over the target. A crash or a failed write leaves
 * either the previous content or the new one under the target's name, never half of each,
 * and a failed write removes its temporary.
 *
 * Why one module: models, checkpoints, fingerprints, calibrations and reports all need this,
 * and a hand-rolled copy per writer drifts (fixed temp names that two writers share, no
 * clean-up on failure, no fsync before the rename).
 *
 * Temporaries are named `.<name>.tmp-<pid>-<random>`, previous directories set aside during a
 * swap `.<name>.old-<pid>-<random>`: hidden, unique per call, and the pid says whose they are,
 * so that the next directory replace can remove what a killed process left behind.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { processAlive } from '../process-alive';

/** `pid-random`: unique per call; the pid part lets a later call tell a dead writer's leftovers. */
function uniqueTag(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

function sibling(target: string, kind: 'tmp' | 'old', tag: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${kind}-${tag}`);
}

// ---------------------------------------------------------------------------------------
// single files

/**
 * Replaces `file` with `content` atomically. `content` may also be a function that writes
 * the temporary path it is given (for writers that only write to a path of their own, e.g. a
 * PDF printer); whatever it throws aborts the write and leaves `file` as it was. The parent
 * directory must exist.
 */
export function writeFileAtomicSync(file: string, content: string | Uint8Array | ((tmpPath: string) => void)): void {
  const tmp = sibling(file, 'tmp', uniqueTag());
  try {
    if (typeof content === 'function') {
      content(tmp);
      fsyncFileSync(tmp);
    } else {
      const fd = openSync(tmp, 'wx');
      try {
        writeFileSync(fd, content);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    renameSync(tmp, file);
  } catch (e) {
    removeQuietlySync(tmp);
    throw e;
  }
  fsyncDirSync(path.dirname(file));
}

/** The asynchronous form of writeFileAtomicSync (same contract). */
export async function writeFileAtomic(
  file: string,
  content: string | Uint8Array | ((tmpPath: string) => Promise<void>),
): Promise<void> {
  const tmp = sibling(file, 'tmp', uniqueTag());
  try {
    if (typeof content === 'function') {
      await content(tmp);
      await fsyncFile(tmp);
    } else {
      await writeFileDurable(tmp, content);
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await fsyncDir(path.dirname(file));
}

/** Writes a new file (failing if it exists) and flushes it to disk before returning. */
export async function writeFileDurable(filePath: string, data: string | Uint8Array): Promise<void> {
  const fh = await fsp.open(filePath, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------
// directories

/** Where a directory replace failed; the target is unchanged after any of them. */
export type ReplaceDirStep = 'write' | 'set-aside' | 'move-in';

export interface ReplaceDirOptions {
  /** Turns a failure into the error to throw (default: the underlying error as it is). */
  fail?: (step: ReplaceDirStep, cause: unknown) => unknown;
  /**
   * Runs once the new directory is in place, with the previous one (set aside) still on
   * disk: the place to carry over files that should survive the replace. Returns whether the
   * previous directory may now be deleted. Without it, the previous directory is deleted.
   */
  salvage?: (previousDir: string) => Promise<boolean>;
}

/**
 * Replaces the directory `target` with one that `fill` writes (it gets the empty temporary
 * directory). Creates the parent directory when missing. Between the two renames of a swap
 * the target is briefly absent, but never half-written; after a crash there the previous
 * directory is intact under `.<name>.old-*` (see interruptedReplaceBackups).
 */
export async function replaceDirAtomic(
  target: string,
  fill: (tmpDir: string) => Promise<void>,
  opts: ReplaceDirOptions = {},
): Promise<void> {
  const parent = path.dirname(target);
  const tag = uniqueTag();
  const tmp = sibling(target, 'tmp', tag);
  const fail = (step: ReplaceDirStep, e: unknown): unknown => (opts.fail ? opts.fail(step, e) : e);
  const dropTmp = () => fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);

  const existing = await exists(target);
  await removeStaleTemps(parent, path.basename(target));

  try {
    await fsp.mkdir(parent, { recursive: true });
    await fsp.mkdir(tmp);
    await fill(tmp);
    await fsyncDir(tmp);
  } catch (e) {
    await dropTmp();
    throw fail('write', e);
  }

  if (!existing) {
    try {
      await fsp.rename(tmp, target);
    } catch (e) {
      await dropTmp();
      throw fail('move-in', e);
    }
    await fsyncDir(parent);
    return;
  }

  // Swap: old -> backup, new -> target.
  const backup = sibling(target, 'old', tag);
  try {
    await fsp.rename(target, backup);
  } catch (e) {
    await dropTmp();
    throw fail('set-aside', e);
  }
  try {
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rename(backup, target).catch(() => undefined);
    await dropTmp();
    throw fail('move-in', e);
  }
  await fsyncDir(parent);

  const drop = opts.salvage ? await opts.salvage(backup) : true;
  if (drop) await fsp.rm(backup, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Previous directories that a replace of `target` set aside and never got to delete (the
 * process died between its renames), oldest name first; empty when there are none.
 */
export async function interruptedReplaceBackups(target: string): Promise<string[]> {
  const parent = path.dirname(target);
  const prefix = `.${path.basename(target)}.old-`;
  const entries = await fsp.readdir(parent).catch(() => [] as string[]);
  return entries.filter((e) => e.startsWith(prefix)).map((e) => path.join(parent, e));
}

/** Temporary directories left by replaces whose process died. */
async function removeStaleTemps(parent: string, base: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fsp.readdir(parent);
  } catch {
    return;
  }
  const prefix = `.${base}.tmp-`;
  for (const e of entries) {
    if (!e.startsWith(prefix)) continue;
    const pid = Number(e.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) {
      await fsp.rm(path.join(parent, e), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.stat(p);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------
// durability

async function fsyncFile(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function fsyncFileSync(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Not supported everywhere (Windows); durability of the rename is best effort there.
  }
}

function fsyncDirSync(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // As fsyncDir.
  }
}

function removeQuietlySync(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // The write's own error is the one to report.
  }
}
