/**
 * The content hash of a calibration document (formatVersion 2): SHA-256, in hex, of its
 * canonical JSON (object keys sorted by UTF-16 code units, no whitespace, numbers and
 * strings as JSON.stringify writes them) with the top-level `contentHash` and `signature`
 * left out. Canonical, so that re-indenting a file does not change it and a second
 * implementation can recompute it (docs/calibration-format.md).
 */
import { createHash } from 'node:crypto';

/** The fields the hash does not cover: the hash itself, and the signature made over it. */
export const UNHASHED_FIELDS: readonly string[] = ['contentHash', 'signature'];

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The hash of a parsed document (as JSON.parse returns it). */
export function calibrationContentHash(doc: Record<string, unknown>): string {
  const body = Object.fromEntries(Object.entries(doc).filter(([k]) => !UNHASHED_FIELDS.includes(k)));
  return createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');
}
