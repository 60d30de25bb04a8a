/** Small data-set fixtures written on the fly into temp directories. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { expect } from 'vitest';
import { isAuditError, type AuditErrorCode } from '../../../src-main/engine/errors';

export function makeTempDir(prefix = 'oa-datasets-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function idxImages(count: number, h: number, w: number, pixels: ArrayLike<number>, magic = 0x00000803): Buffer {
  const buf = Buffer.alloc(16 + pixels.length);
  buf.writeUInt32BE(magic, 0);
  buf.writeUInt32BE(count, 4);
  buf.writeUInt32BE(h, 8);
  buf.writeUInt32BE(w, 12);
  Buffer.from(Uint8Array.from(pixels)).copy(buf, 16);
  return buf;
}

export function idxLabels(labels: ArrayLike<number>, magic = 0x00000801): Buffer {
  const buf = Buffer.alloc(8 + labels.length);
  buf.writeUInt32BE(magic, 0);
  buf.writeUInt32BE(labels.length, 4);
  Buffer.from(Uint8Array.from(labels)).copy(buf, 8);
  return buf;
}

export interface IdxSplit {
  pixels: number[];
  labels: number[];
  h: number;
  w: number;
}

/** Writes the four IDX files (gzipped when `gz`) into `dir`; returns their paths. */
export function writeIdx(dir: string, train: IdxSplit, test: IdxSplit, gz = false): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, Buffer> = {
    'train-images-idx3-ubyte': idxImages(train.labels.length, train.h, train.w, train.pixels),
    'train-labels-idx1-ubyte': idxLabels(train.labels),
    't10k-images-idx3-ubyte': idxImages(test.labels.length, test.h, test.w, test.pixels),
    't10k-labels-idx1-ubyte': idxLabels(test.labels),
  };
  const paths: Record<string, string> = {};
  for (const [name, data] of Object.entries(files)) {
    const file = path.join(dir, gz ? `${name}.gz` : name);
    writeFileSync(file, gz ? gzipSync(data) : data);
    paths[name] = file;
  }
  return paths;
}

/** One CIFAR record: label byte(s), then `image(c, p)` for c = 0..2, p = 0..1023 (CHW). */
export function cifarRecords(labels: number[][], image: (n: number, c: number, p: number) => number): Buffer {
  const labelBytes = labels[0].length;
  const record = labelBytes + 3072;
  const buf = Buffer.alloc(labels.length * record);
  labels.forEach((ls, n) => {
    ls.forEach((l, i) => (buf[n * record + i] = l));
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) buf[n * record + labelBytes + c * 1024 + p] = image(n, c, p);
    }
  });
  return buf;
}

/** Writes an RGB (channels 3) or grayscale (channels 1) PNG, or a JPEG when the name ends in .jpg. */
export async function writeImage(
  file: string,
  w: number,
  h: number,
  channels: 1 | 3,
  pixels: ArrayLike<number>,
): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  let img = sharp(Buffer.from(Uint8Array.from(pixels)), { raw: { width: w, height: h, channels } });
  if (channels === 1) img = img.toColourspace('b-w');
  await (file.endsWith('.png') ? img.png() : img.jpeg({ quality: 95 })).toFile(file);
}

/** Awaits `p` and checks it rejects with an AuditError of `code` whose message and path name `file`. */
export async function expectAuditError(p: Promise<unknown>, code: AuditErrorCode, file: string): Promise<void> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  expect(isAuditError(error), `expected an AuditError, got ${String(error)}`).toBe(true);
  if (!isAuditError(error)) return;
  expect(error.code, error.message).toBe(code);
  expect(error.message).toContain(file);
  expect(error.path).toBe(file);
  expect(error.hint.length).toBeGreaterThan(10);
}
