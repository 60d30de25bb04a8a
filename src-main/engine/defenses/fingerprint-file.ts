/**
 * Fingerprints on disk: one JSON document with the float arrays base64-encoded
 * (little-endian float32), and a content hash so a calibration can pin the exact set.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuditError } from '../errors';
import { writeFileAtomicSync } from '../files/atomic-write';
import type { FingerprintArray, Fingerprints } from './types';

/** A float32 array as JSON: its shape and its little-endian bytes in base64. */
export interface StoredArray {
  shape: number[];
  base64: string;
}

interface StoredFingerprints extends Omit<Fingerprints, 'arrays'> {
  formatVersion: 1;
  arrays: Record<string, StoredArray>;
}

export function encodeArray(a: FingerprintArray): StoredArray {
  return {
    shape: a.shape,
    base64: Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).toString('base64'),
  };
}

export function decodeArray(s: StoredArray, file: string): FingerprintArray {
  const bytes = Buffer.from(s.base64, 'base64');
  const count = s.shape.reduce((p, d) => p * d, 1);
  if (bytes.byteLength !== count * 4) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `A fingerprint array holds ${bytes.byteLength / 4} values where its shape [${s.shape}] needs ${count}`,
      {
        path: file,
        hint: 'The fingerprint file is damaged; extract the fingerprints again.',
      },
    );
  }
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(bytes);
  return { shape: s.shape, data };
}

export function serializeFingerprints(fp: Fingerprints): string {
  const stored: StoredFingerprints = {
    formatVersion: 1,
    ...fp,
    arrays: Object.fromEntries(Object.entries(fp.arrays).map(([k, a]) => [k, encodeArray(a)])),
  };
  return JSON.stringify(stored);
}

export function deserializeFingerprints(text: string, file = '<memory>'): Fingerprints {
  let stored: StoredFingerprints;
  try {
    stored = JSON.parse(text) as StoredFingerprints;
  } catch (cause) {
    throw new AuditError('INVALID_ARGUMENT', 'The fingerprint file is not valid JSON', {
      path: file,
      hint: 'Extract the fingerprints again.',
      cause,
    });
  }
  if (stored.formatVersion !== 1 || typeof stored.defense !== 'string' || typeof stored.arrays !== 'object') {
    throw new AuditError('INVALID_ARGUMENT', 'The file is not an Ownership Audit fingerprint set', {
      path: file,
      hint: 'Pass a file written by extract or calibrate.',
    });
  }
  const { formatVersion: _v, ...rest } = stored;
  return {
    ...rest,
    arrays: Object.fromEntries(Object.entries(stored.arrays).map(([k, a]) => [k, decodeArray(a, file)])),
  };
}

/** sha256 of the serialised fingerprints: what a calibration pins. */
export function fingerprintHash(fp: Fingerprints): string {
  return createHash('sha256').update(serializeFingerprints(fp)).digest('hex');
}

export function writeFingerprints(file: string, fp: Fingerprints): void {
  writeFileAtomicSync(file, serializeFingerprints(fp));
}

export function readFingerprints(file: string): Fingerprints {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AuditError('INVALID_ARGUMENT', 'The fingerprint file cannot be read', {
      path: file,
      hint: 'Check the path.',
      cause,
    });
  }
  return deserializeFingerprints(text, file);
}
