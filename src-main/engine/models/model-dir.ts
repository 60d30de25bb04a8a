/**
 * The model directory on disk: its file names, and the atomic write of a whole directory
 * with the carry-over of files that are not part of the model. Kept apart from save and load
 * because both need it: a save writes the directory, a load that finds nothing points to the
 * backup an interrupted save left.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { AuditError } from '../errors';
import { parseModelJson } from './validate';

export const MODEL_JSON_FILE = 'model.json';

export async function durableWriteFile(filePath: string, data: Uint8Array): Promise<void> {
  const fh = await fsp.open(filePath, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
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

/** Files of the old model that a new save replaces; everything else in the directory is kept. */
const MODEL_FILE_RE = /^(model\.json|ownership-audit\.json|weights\.bin|group\d+-shard\d+of\d+\.bin)$/;

export async function writeDirAtomically(
  target: string,
  files: Array<[string, Uint8Array]>,
  writeFile: (filePath: string, data: Uint8Array) => Promise<void>,
): Promise<void> {
  const parent = path.dirname(target);
  const base = path.basename(target);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = path.join(parent, `.${base}.tmp-${tag}`);
  const ioError = (what: string, e: unknown) =>
    new AuditError('MODEL_WRITE', `Could not save the model: ${what}: ${(e as Error)?.message ?? String(e)}`, {
      hint: `Check free disk space and write permission in ${parent}. Any model previously saved there is unchanged.`,
      path: target,
      cause: e,
    });

  const existing = await statOrUndefined(target);
  if (existing && !existing.isDirectory()) {
    throw new AuditError('INVALID_ARGUMENT', 'Cannot save a model here: the path is a file, not a directory', {
      hint: 'Choose a directory path for the model.',
      path: target,
    });
  }
  await removeStaleTemps(parent, base);

  try {
    await fsp.mkdir(parent, { recursive: true });
    await fsp.mkdir(tmp);
    for (const [name, data] of files) await writeFile(path.join(tmp, name), data);
    await fsyncDir(tmp);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw ioError('writing the new files failed', e);
  }

  const referenced = existing ? await referencedShards(target) : new Set<string>();
  if (!existing) {
    try {
      await fsp.rename(tmp, target);
    } catch (e) {
      await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw ioError('moving the new model into place failed', e);
    }
    await fsyncDir(parent);
    return;
  }

  // Swap: old -> backup, new -> target. Between the two renames the target is briefly absent,
  // but never half-written; after a crash there the old model is intact in the backup.
  const backup = path.join(parent, `.${base}.old-${tag}`);
  try {
    await fsp.rename(target, backup);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw ioError('moving the previous model aside failed', e);
  }
  try {
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rename(backup, target).catch(() => undefined);
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw ioError('moving the new model into place failed', e);
  }
  await fsyncDir(parent);

  // Carry over whatever else lived in the directory; drop the old model's own files.
  const newNames = new Set(files.map(([n]) => n));
  let keepBackup = false;
  for (const entry of await fsp.readdir(backup)) {
    if (MODEL_FILE_RE.test(entry) || referenced.has(entry) || newNames.has(entry)) continue;
    try {
      await fsp.rename(path.join(backup, entry), path.join(target, entry));
    } catch {
      keepBackup = true;
    }
  }
  if (!keepBackup) await fsp.rm(backup, { recursive: true, force: true }).catch(() => undefined);
}

/** Top-level shard names the old model.json references (custom names, not just the usual ones). */
async function referencedShards(dir: string): Promise<Set<string>> {
  const out = new Set<string>();
  try {
    const json: unknown = JSON.parse(await fsp.readFile(path.join(dir, MODEL_JSON_FILE), 'utf8'));
    const parsed = parseModelJson(json);
    if (parsed.ok) {
      for (const g of parsed.value.weightsManifest) {
        for (const p of g.paths) if (!p.includes('/') && !p.includes('\\')) out.add(p);
      }
    }
  } catch {
    // An unreadable old model.json: only the usual names count as model files.
  }
  return out;
}

/** Temp directories left by saves whose process died. */
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

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function statOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.stat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw e;
  }
}

export async function interruptedSaveHint(target: string): Promise<string | undefined> {
  const parent = path.dirname(target);
  const prefix = `.${path.basename(target)}.old-`;
  const backups = (await fsp.readdir(parent).catch(() => [] as string[])).filter((e) => e.startsWith(prefix));
  if (backups.length === 0) return undefined;
  return `A save to this path was interrupted. The previous model is in ${path.join(parent, backups[backups.length - 1])}; rename it back to ${path.basename(target)}.`;
}
