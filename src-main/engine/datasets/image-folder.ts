/**
 * Image folders: `<split>/<class>/*.png|jpg|jpeg`, decoded with sharp. Class names are the
 * folder names in code-point order; files inside a class are taken in the same order.
 *
 * Size rule (issue 16): no image may exceed MAX_IMAGE_SIDE on either side; a larger one is
 * refused with DATASET_FORMAT naming the file, read from its header before anything is
 * decoded (and sharp's limitInputPixels refuses a decompression bomb whose header lies).
 * Every image is resized to the set's size: the model's input size when a model is given,
 * otherwise the most common size among the training images (ties: the first in file order),
 * so one odd image can no longer set the size of the whole set.
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

/**
 * Largest image side accepted: images are classified at their model's input size (CIFAR 32,
 * ImageNet 224), and one 1024x1024 RGB image is 12 MiB as float32; an 8000x8000 one set the
 * training input size and took over 8 GB.
 */
export const MAX_IMAGE_SIDE = 1024;
/** sharp refuses to decode more pixels than this, whatever the header claimed when probed. */
const LIMIT_INPUT_PIXELS = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE;

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

function tooLarge(file: string, size: string): AuditError {
  return new AuditError(
    'DATASET_FORMAT',
    `Image is ${size}, above the ${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE} cap for image folders`,
    {
      path: file,
      hint: `Downscale the image to at most ${MAX_IMAGE_SIDE} pixels a side (images are resized to the set's size anyway), or remove it.`,
    },
  );
}

/**
 * Size (after EXIF orientation) and 1 or 3 channels (grayscale or colour) of an image, from its
 * header only: nothing is decoded, and an image above MAX_IMAGE_SIDE is refused here.
 */
export async function probeImageShape(file: string): Promise<InputShape> {
  let meta: SharpModule.Metadata;
  try {
    const sharp = await loadSharp();
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw corrupt(file, e);
  }
  const { width, height } = meta;
  if (width === undefined || height === undefined) throw corrupt(file, new Error('the header gives no size'));
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) throw tooLarge(file, `${width}x${height} pixels`);
  const rotated = (meta.orientation ?? 1) >= 5;
  return [rotated ? width : height, rotated ? height : width, (meta.channels ?? 3) <= 2 ? 1 : 3];
}

/**
 * The set's size when no model gives one: the most common [height, width, channels] among
 * `files` (ties: the first in file order). Every file's header is checked against the cap.
 */
export async function majorityShape(files: string[]): Promise<InputShape> {
  const counts = new Map<string, { shape: InputShape; n: number; first: number }>();
  for (const [i, f] of files.entries()) {
    const shape = await probeImageShape(f);
    const key = shape.join('x');
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { shape, n: 1, first: i });
  }
  let best: { shape: InputShape; n: number; first: number } | undefined;
  for (const c of counts.values()) if (!best || c.n > best.n || (c.n === best.n && c.first < best.first)) best = c;
  if (!best) throw new Error('majorityShape needs at least one file');
  return best.shape;
}

/** Decodes one image to uint8 HWC of exactly `shape` (resized with sharp's default kernel). */
export async function decodeImage(file: string, shape: InputShape): Promise<Uint8Array> {
  const [h, w, c] = shape;
  let data: Buffer;
  let info: SharpModule.OutputInfo;
  let sizeError: AuditError | undefined;
  try {
    const sharp = await loadSharp();
    const image = sharp(file, { limitInputPixels: LIMIT_INPUT_PIXELS });
    const meta = await image.metadata();
    if ((meta.width ?? 0) > MAX_IMAGE_SIDE || (meta.height ?? 0) > MAX_IMAGE_SIDE) {
      sizeError = tooLarge(file, `${meta.width}x${meta.height} pixels`);
      throw sizeError;
    }
    let pipeline = image.autoOrient().resize(w, h, { fit: 'fill' }).removeAlpha();
    pipeline = c === 1 ? pipeline.greyscale() : pipeline.toColourspace('srgb');
    ({ data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true }));
  } catch (e) {
    if (sizeError) throw sizeError;
    if (/exceeds pixel limit/.test(String((e as Error)?.message)))
      throw tooLarge(file, `more than ${LIMIT_INPUT_PIXELS} pixels`);
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
