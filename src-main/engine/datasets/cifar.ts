/**
 * CIFAR-10 / CIFAR-100 binary versions: fixed-size records of label byte(s) followed by a
 * 32x32 RGB image stored channel-major (1024 R, 1024 G, 1024 B). CIFAR-100 records carry a
 * coarse and a fine label; the fine one (100 classes) is used.
 */
import { AuditError } from '../errors';
import type { RawSplit } from './types';

export const CIFAR_SIDE = 32;
export const CIFAR_IMAGE_BYTES = 3 * CIFAR_SIDE * CIFAR_SIDE;

export interface CifarVariant {
  labelBytes: 1 | 2;
  numClasses: number;
}

export const CIFAR10: CifarVariant = { labelBytes: 1, numClasses: 10 };
export const CIFAR100: CifarVariant = { labelBytes: 2, numClasses: 100 };

/** Parses CIFAR binary batch files (concatenated in the given order) into uint8 NHWC. */
export function parseCifarBatches(parts: { data: Uint8Array; file: string }[], variant: CifarVariant): RawSplit {
  const record = variant.labelBytes + CIFAR_IMAGE_BYTES;
  let count = 0;
  for (const { data, file } of parts) {
    if (data.length === 0 || data.length % record !== 0) {
      throw new AuditError(
        'DATASET_CORRUPT',
        `CIFAR file is ${data.length} bytes, not a multiple of the ${record}-byte record length`,
        {
          path: file,
          hint:
            variant.labelBytes === 1
              ? 'The file is truncated or is not a CIFAR-10 binary batch; re-download "CIFAR-10 binary version".'
              : 'The file is truncated or is not a CIFAR-100 binary file; re-download "CIFAR-100 binary version".',
        },
      );
    }
    count += data.length / record;
  }
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  const pixels = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = new Int32Array(count);
  let n = 0;
  for (const { data, file } of parts) {
    const records = data.length / record;
    for (let r = 0; r < records; r++, n++) {
      const base = r * record;
      const coarse = data[base];
      const label = data[base + variant.labelBytes - 1];
      if (label >= variant.numClasses || (variant.labelBytes === 2 && coarse >= 20)) {
        throw new AuditError(
          'DATASET_CORRUPT',
          `CIFAR record ${r} has label ${label}${variant.labelBytes === 2 ? ` (coarse ${coarse})` : ''}, outside 0..${variant.numClasses - 1}`,
          { path: file, hint: 'The file is damaged or belongs to another CIFAR variant; re-download it.' },
        );
      }
      labels[n] = label;
      const src = base + variant.labelBytes;
      const dst = n * CIFAR_IMAGE_BYTES;
      for (let p = 0; p < plane; p++) {
        pixels[dst + p * 3] = data[src + p];
        pixels[dst + p * 3 + 1] = data[src + plane + p];
        pixels[dst + p * 3 + 2] = data[src + 2 * plane + p];
      }
    }
  }
  return { pixels, labels, count, height: CIFAR_SIDE, width: CIFAR_SIDE, channels: 3 };
}
