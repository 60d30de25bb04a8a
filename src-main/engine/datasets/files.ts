/** File helpers shared by the layout readers: reading (with gunzip) and small listings. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { AuditError } from '../errors';

const gunzipAsync = promisify(gunzip);

/** Reads a file, gunzipping it when the name ends in `.gz`. */
export async function readMaybeGz(file: string): Promise<Uint8Array> {
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (e) {
    throw new AuditError('DATASET_NOT_FOUND', 'Cannot read data set file', {
      path: file,
      hint: 'Check that the file exists and is readable.',
      cause: e,
    });
  }
  if (!file.endsWith('.gz')) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 2 || data[0] !== 0x1f || data[1] !== 0x8b) {
    throw new AuditError('DATASET_CORRUPT', 'File ends in .gz but is not gzip data', {
      path: file,
      hint: 'Re-download the file, or remove the .gz suffix if it is already uncompressed.',
    });
  }
  try {
    const out = await gunzipAsync(data);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new AuditError('DATASET_CORRUPT', 'Cannot decompress gzip file (truncated or damaged)', {
      path: file,
      hint: 'Re-download the file; the archive is incomplete or damaged.',
      cause: e,
    });
  }
}

export interface DirEntry {
  name: string;
  isDir: boolean;
  isFile: boolean;
}

/**
 * Directory entries sorted by name (code-point order), hidden entries (".x") left out.
 * Symbolic links count as what they point to (broken links are left out).
 */
export async function listDir(dir: string): Promise<DirEntry[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new AuditError('DATASET_NOT_FOUND', 'Cannot list data set directory', {
      path: dir,
      hint: 'Check that the folder exists and is readable.',
      cause: e,
    });
  }
  const out: DirEntry[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isSymbolicLink()) {
      try {
        const st = await fs.stat(path.join(dir, e.name));
        out.push({ name: e.name, isDir: st.isDirectory(), isFile: st.isFile() });
      } catch {
        // Broken link: ignore it like any other non-file entry.
      }
    } else {
      out.push({ name: e.name, isDir: e.isDirectory(), isFile: e.isFile() });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Non-empty trimmed lines of an optional text file (class names); undefined if absent. */
export async function readNameList(file: string): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}
