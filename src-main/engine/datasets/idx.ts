/**
 * IDX files as MNIST and Fashion-MNIST ship them: a big-endian header (magic 0x00000803 and
 * count, rows, cols for images; 0x00000801 and count for labels) followed by unsigned bytes.
 */
import { AuditError } from '../errors';
import type { RawSplit } from './types';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

function readU32(data: Uint8Array, offset: number): number {
  return ((data[offset] << 24) | (data[offset + 1] << 16) | (data[offset + 2] << 8) | data[offset + 3]) >>> 0;
}

function checkMagic(data: Uint8Array, expected: number, file: string, what: string, headerBytes: number): void {
  if (data.length < 4) {
    throw new AuditError('DATASET_CORRUPT', `IDX ${what} file is too short for a header (${data.length} bytes)`, {
      path: file,
      hint: 'The file is empty or truncated; re-download it.',
    });
  }
  const magic = readU32(data, 0);
  if (magic !== expected) {
    const hex = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;
    throw new AuditError(
      'DATASET_CORRUPT',
      `IDX ${what} file has magic number ${hex(magic)}, expected ${hex(expected)}`,
      {
        path: file,
        hint:
          magic === (expected === IDX_IMAGES_MAGIC ? IDX_LABELS_MAGIC : IDX_IMAGES_MAGIC)
            ? 'The images and labels files seem swapped; check the file names.'
            : 'This is not an unsigned-byte IDX file (or it is damaged); re-download it.',
      },
    );
  }
  if (data.length < headerBytes) {
    throw new AuditError('DATASET_CORRUPT', `IDX ${what} file is too short for its header (${data.length} bytes)`, {
      path: file,
      hint: 'The file is truncated; re-download it.',
    });
  }
}

function checkLength(data: Uint8Array, expected: number, file: string, what: string): void {
  if (data.length !== expected) {
    throw new AuditError(
      'DATASET_CORRUPT',
      `IDX ${what} file is ${data.length} bytes but its header implies ${expected} bytes` +
        (data.length < expected ? ' (truncated)' : ' (trailing data)'),
      { path: file, hint: 'The file is truncated or damaged; re-download it.' },
    );
  }
}

/** Parses an IDX image file into uint8 NHWC (channels = 1). */
export function parseIdxImages(data: Uint8Array, file: string): Omit<RawSplit, 'labels'> {
  checkMagic(data, IDX_IMAGES_MAGIC, file, 'images', 16);
  const count = readU32(data, 4);
  const height = readU32(data, 8);
  const width = readU32(data, 12);
  if (count === 0 || height === 0 || width === 0 || height > 65536 || width > 65536) {
    throw new AuditError(
      'DATASET_CORRUPT',
      `IDX images header has invalid dimensions ${count} x ${height} x ${width}`,
      {
        path: file,
        hint: 'The header is damaged; re-download the file.',
      },
    );
  }
  checkLength(data, 16 + count * height * width, file, 'images');
  return { pixels: data.subarray(16), count, height, width, channels: 1 };
}

/** Parses an IDX label file. */
export function parseIdxLabels(data: Uint8Array, file: string): Int32Array {
  checkMagic(data, IDX_LABELS_MAGIC, file, 'labels', 8);
  const count = readU32(data, 4);
  checkLength(data, 8 + count, file, 'labels');
  return Int32Array.from(data.subarray(8));
}
