/**
 * Image folders: `<split>/<class>/*.png|jpg|jpeg`, decoded with sharp. Class names are the
 * folder names in code-point order; files inside a class are taken in the same order.
 */
import path from 'node:path';
import type SharpModule from 'sharp';

/** sharp (a native addon) loads only when image folders are read, not for IDX or CIFAR. */
let sharpModule: typeof SharpModule | undefined;
async function loadSharp(): Promise<typeof SharpModule> {
  sharpModule ??= (await import('sharp')).default;
  return sharpModule;
}
import { AuditError } from '../errors';
import { listDir } from './files';
import type { InputShape } from './types';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

export interface ImageFolderListing {
  classNames: string[];
  /** Absolute image paths, class by class. */
  files: string[];
  labels: Int32Array;
}

/** Lists `<splitDir>/<class>/*.png|jpg|jpeg`; every class folder must hold at least one image. */
export async function listImageFolderSplit(splitDir: string): Promise<ImageFolderListing> {
  const entries = await listDir(splitDir);
  const classDirs = entries.filter((e) => e.isDir).map((e) => e.name);
  if (classDirs.length === 0) {
    const loose = entries.some((e) => e.isFile && isImageFile(e.name));
    throw new AuditError('DATASET_FORMAT', 'Image folder split has no class folders', {
      path: splitDir,
      hint: loose
        ? `Move the images into one sub-folder per class, e.g. ${path.join(splitDir, '<class>', 'image.png')}.`
        : `Put the images in one sub-folder per class: ${path.join(splitDir, '<class>', '*.png|jpg|jpeg')}.`,
    });
  }
  const files: string[] = [];
  const labels: number[] = [];
  for (let c = 0; c < classDirs.length; c++) {
    const classDir = path.join(splitDir, classDirs[c]);
    const images = (await listDir(classDir)).filter((e) => e.isFile && isImageFile(e.name));
    if (images.length === 0) {
      throw new AuditError('DATASET_FORMAT', `Class folder "${classDirs[c]}" holds no .png/.jpg/.jpeg images`, {
        path: classDir,
        hint: 'Add images to this class folder or remove it (in both train/ and test/).',
      });
    }
    for (const img of images) {
      files.push(path.join(classDir, img.name));
      labels.push(c);
    }
  }
  return { classNames: classDirs, files, labels: Int32Array.from(labels) };
}

function corrupt(file: string, e: unknown): AuditError {
  const reason = e instanceof Error ? e.message : String(e);
  return new AuditError('DATASET_CORRUPT', `Cannot decode image: ${reason}`, {
    path: file,
    hint: 'Replace or delete this file; it is not a readable PNG or JPEG image.',
    cause: e,
  });
}

/** Native size of an image (after EXIF orientation) and 1 or 3 channels (grayscale or colour). */
export async function probeImageShape(file: string): Promise<InputShape> {
  try {
    const sharp = await loadSharp();
    const { info } = await sharp(file).autoOrient().raw().toBuffer({ resolveWithObject: true });
    const meta = await sharp(file).metadata();
    const gray = meta.channels !== undefined ? meta.channels <= 2 : info.channels <= 2;
    return [info.height, info.width, gray ? 1 : 3];
  } catch (e) {
    throw corrupt(file, e);
  }
}

/** Decodes one image to uint8 HWC of exactly `shape` (resized with sharp's default kernel). */
export async function decodeImage(file: string, shape: InputShape): Promise<Uint8Array> {
  const [h, w, c] = shape;
  let data: Buffer;
  let info: SharpModule.OutputInfo;
  try {
    const sharp = await loadSharp();
    let pipeline = sharp(file).autoOrient().resize(w, h, { fit: 'fill' }).removeAlpha();
    pipeline = c === 1 ? pipeline.greyscale() : pipeline.toColourspace('srgb');
    ({ data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw corrupt(file, e);
  }
  if (info.width !== w || info.height !== h || info.channels !== c || data.length !== h * w * c) {
    throw new AuditError(
      'DATASET_CORRUPT',
      `Image decoded to ${info.height}x${info.width}x${info.channels}, expected ${h}x${w}x${c}`,
      { path: file, hint: 'Convert this image to an 8-bit grayscale or RGB PNG/JPEG.' },
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Decodes `files` into one uint8 NHWC array, a few at a time. */
export async function decodeImages(files: string[], shape: InputShape, concurrency = 4): Promise<Uint8Array> {
  const size = shape[0] * shape[1] * shape[2];
  const out = new Uint8Array(files.length * size);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      out.set(await decodeImage(files[i], shape), i * size);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return out;
}
