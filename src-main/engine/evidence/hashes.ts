/** sha256 helpers for verification records and evidence bundles. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ImageSet } from '../datasets/types';

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function fileSha256(file: string): string {
  return sha256Hex(readFileSync(file));
}

/**
 * The data a verification actually used: sha256 of the split's images as loaded (float32,
 * little-endian, after the victim's normalisation) followed by its labels (int32). Two runs
 * on the same files and --max-test give the same hash; any changed pixel or label changes it.
 */
export function imageSetSha256(set: ImageSet): string {
  const per = set.height * set.width * set.channels;
  const images = set.images.subarray(0, set.count * per);
  const labels = Int32Array.from(set.labels.subarray(0, set.count));
  return createHash('sha256')
    .update(Buffer.from(images.buffer, images.byteOffset, images.byteLength))
    .update(Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength))
    .digest('hex');
}
