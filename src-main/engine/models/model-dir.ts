/**
 * The model directory on disk: its file names, and the atomic write of a whole directory
 * with the carry-over of files that are not part of the model. Kept apart from save and load
 * because both need it: a save writes the directory, a load that finds nothing points to the
 * backup an interrupted save left.
 */
import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { AuditError } from '../errors';
import { interruptedReplaceBackups, replaceDirAtomic, type ReplaceDirStep } from '../files/atomic-write';
import { parseModelJson } from './validate';

export const MODEL_JSON_FILE = 'model.json';

/** Files of the old model that a new save replaces; everything else in the directory is kept. */
const MODEL_FILE_RE = /^(model\.json|ownership-audit\.json|weights\.bin|group\d+-shard\d+of\d+\.bin)$/;

/** What the MODEL_WRITE message says failed, per step of the directory replace. */
const FAILED_STEP: Record<ReplaceDirStep, string> = {
  write: 'writing the new files failed',
  'set-aside': 'moving the previous model aside failed',
  'move-in': 'moving the new model into place failed',
};

/**
 * Writes `files` as the model directory `target`, atomically (replaceDirAtomic): a crash or a
 * failed write never leaves a half-written model where a good one was. Files of the previous
 * directory that are not part of the model (reports, notes) are carried over.
 */
export async function writeDirAtomically(
  target: string,
  files: Array<[string, Uint8Array]>,
  writeFile: (filePath: string, data: Uint8Array) => Promise<void>,
): Promise<void> {
  const parent = path.dirname(target);
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

  const newNames = new Set(files.map(([n]) => n));
  await replaceDirAtomic(
    target,
    async (tmp) => {
      for (const [name, data] of files) await writeFile(path.join(tmp, name), data);
    },
    {
      fail: (step, e) => ioError(FAILED_STEP[step], e),
      // Carry over whatever else lived in the directory; drop the old model's own files.
      salvage: async (backup) => {
        const referenced = await referencedShards(backup);
        let keepBackup = false;
        for (const entry of await fsp.readdir(backup)) {
          if (MODEL_FILE_RE.test(entry) || referenced.has(entry) || newNames.has(entry)) continue;
          try {
            await fsp.rename(path.join(backup, entry), path.join(target, entry));
          } catch {
            keepBackup = true;
          }
        }
        return !keepBackup;
      },
    },
  );
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
  const backups = await interruptedReplaceBackups(target);
  if (backups.length === 0) return undefined;
  return `A save to this path was interrupted. The previous model is in ${backups[backups.length - 1]}; rename it back to ${path.basename(target)}.`;
}
