/**
 * Loads a data set directory (train + test split) in one of the supported layouts, detected
 * from the file names:
 *
 * - `idx`: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
 *   `t10k-labels-idx1-ubyte`, each optionally `.gz` (MNIST, Fashion-MNIST); optional
 *   `classes.txt` with one class name per line.
 * - `cifar10-binary`: `data_batch_1.bin` .. `data_batch_5.bin`, `test_batch.bin`, optional
 *   `batches.meta.txt` (class names).
 * - `cifar100-binary`: `train.bin`, `test.bin`, optional `fine_label_names.txt`.
 * - `image-folder`: `train/<class>/*.png|jpg|jpeg` and `test/<class>/...`.
 *
 * The files may also sit in a single sub-folder (e.g. `cifar-10-batches-bin/`).
 * Pixels are scaled to [0, 1] and then normalised per channel with the train split's mean
 * and (population) std, or with `opts.normalization` when given.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AuditError } from '../errors';
import { CIFAR10, CIFAR100, parseCifarBatches, type CifarVariant } from './cifar';
import { listDir, readMaybeGz, readNameList } from './files';
import { parseIdxImages, parseIdxLabels } from './idx';
import { decodeImages, listImageFolderSplit, probeImageShape } from './image-folder';
import {
  balancedPrefixIndices,
  checkNormalization,
  computeNormalization,
  copyNormalization,
  gatherRaw,
  normalizeInPlace,
  resizeImages,
  scaleToUnit,
} from './transform';
import type {
  Dataset,
  DatasetLayout,
  ImageSet,
  InputShape,
  LoadDatasetOptions,
  Normalization,
  RawSplit,
} from './types';

const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

type IdxKey = keyof typeof IDX_FILES;

export const EXPECTED_LAYOUTS =
  'IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], ' +
  't10k-labels-idx1-ubyte[.gz]); CIFAR-10 binary (data_batch_1.bin..data_batch_5.bin, test_batch.bin); ' +
  'CIFAR-100 binary (train.bin, test.bin); or image folders (train/<class>/*.png|jpg|jpeg and test/<class>/...)';

export type DetectedLayout =
  | { layout: 'idx'; root: string; files: Record<IdxKey, string> }
  | { layout: 'cifar10-binary'; root: string; trainFiles: string[]; testFile: string }
  | { layout: 'cifar100-binary'; root: string; trainFile: string; testFile: string }
  | { layout: 'image-folder'; root: string; trainDir: string; testDir: string };

type Probe = { found: DetectedLayout } | { partial: AuditError } | { none: true; subdirs: string[]; names: string[] };

async function probeDir(dir: string): Promise<Probe> {
  const entries = await listDir(dir);
  const files = new Set(entries.filter((e) => e.isFile).map((e) => e.name));
  const dirs = new Set(entries.filter((e) => e.isDir).map((e) => e.name));
  const incomplete = (what: string, missing: string[]): { partial: AuditError } => ({
    partial: new AuditError('DATASET_FORMAT', `Incomplete ${what} data set: missing ${missing.join(', ')}`, {
      path: dir,
      hint: `Add the missing file(s) to this folder; a data set needs both a train and a test split.`,
    }),
  });

  // IDX (plain file preferred over .gz when both are present).
  const idx: Partial<Record<IdxKey, string>> = {};
  const idxMissing: string[] = [];
  for (const key of Object.keys(IDX_FILES) as IdxKey[]) {
    const base = IDX_FILES[key];
    if (files.has(base)) idx[key] = path.join(dir, base);
    else if (files.has(`${base}.gz`)) idx[key] = path.join(dir, `${base}.gz`);
    else idxMissing.push(`${base}[.gz]`);
  }
  if (idxMissing.length === 0) return { found: { layout: 'idx', root: dir, files: idx as Record<IdxKey, string> } };
  if (idxMissing.length < 4) return incomplete('IDX', idxMissing);

  // CIFAR-10 binary.
  const batches = [...files]
    .map((f) => /^data_batch_(\d+)\.bin$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => path.join(dir, m[0]));
  if (batches.length > 0 || files.has('test_batch.bin')) {
    const missing: string[] = [];
    if (batches.length === 0) missing.push('data_batch_1.bin..data_batch_5.bin');
    if (!files.has('test_batch.bin')) missing.push('test_batch.bin');
    if (missing.length > 0) return incomplete('CIFAR-10 binary', missing);
    return {
      found: { layout: 'cifar10-binary', root: dir, trainFiles: batches, testFile: path.join(dir, 'test_batch.bin') },
    };
  }

  // CIFAR-100 binary.
  if (files.has('train.bin') || files.has('test.bin')) {
    if (!files.has('train.bin')) return incomplete('CIFAR-100 binary', ['train.bin']);
    if (!files.has('test.bin')) return incomplete('CIFAR-100 binary', ['test.bin']);
    return {
      found: {
        layout: 'cifar100-binary',
        root: dir,
        trainFile: path.join(dir, 'train.bin'),
        testFile: path.join(dir, 'test.bin'),
      },
    };
  }

  // Image folders.
  if (dirs.has('train') || dirs.has('test')) {
    if (!dirs.has('train')) return incomplete('image-folder', ['train/<class>/']);
    if (!dirs.has('test')) return incomplete('image-folder', ['test/<class>/']);
    return {
      found: { layout: 'image-folder', root: dir, trainDir: path.join(dir, 'train'), testDir: path.join(dir, 'test') },
    };
  }
  return { none: true, subdirs: [...dirs], names: entries.map((e) => (e.isDir ? `${e.name}/` : e.name)) };
}

async function checkDirectory(dir: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch (e) {
    throw new AuditError('DATASET_NOT_FOUND', 'Data set directory does not exist', {
      path: dir,
      hint: 'Check the path; pass the folder that holds the train and test files.',
      cause: e,
    });
  }
  if (!stat.isDirectory()) {
    throw new AuditError('DATASET_FORMAT', 'Data set path is a file, not a directory', {
      path: dir,
      hint: 'Pass the folder that holds the train and test files (unpack archives first).',
    });
  }
}

/** Works out which layout a directory holds (looking one level into a single sub-folder). */
export async function detectLayout(dir: string): Promise<DetectedLayout> {
  const root = path.resolve(dir);
  await checkDirectory(root);
  const probe = await probeDir(root);
  if ('found' in probe) return probe.found;
  if ('partial' in probe) throw probe.partial;
  if (probe.subdirs.length === 1) {
    const inner = await probeDir(path.join(root, probe.subdirs[0]));
    if ('found' in inner) return inner.found;
    if ('partial' in inner) throw inner.partial;
  }
  const shown = probe.names.slice(0, 8).join(', ') + (probe.names.length > 8 ? ', ...' : '');
  throw new AuditError('DATASET_FORMAT', `Not a recognised data set layout (found: ${shown || 'nothing'})`, {
    path: root,
    hint: `Expected one of: ${EXPECTED_LAYOUTS}. Files may also sit in a single sub-folder.`,
  });
}

function checkOptions(dir: string, opts: LoadDatasetOptions): void {
  const bad = (message: string, hint: string): AuditError =>
    new AuditError('INVALID_ARGUMENT', message, { path: dir, hint });
  if (opts.inputShape !== undefined) {
    const s = opts.inputShape;
    const ok =
      Array.isArray(s) &&
      s.length === 3 &&
      s.every((v) => Number.isInteger(v)) &&
      s[0] >= 1 &&
      s[0] <= 4096 &&
      s[1] >= 1 &&
      s[1] <= 4096 &&
      (s[2] === 1 || s[2] === 3);
    if (!ok) {
      throw bad(
        `Invalid input shape ${JSON.stringify(s)}`,
        'Give [height, width, channels] with sizes 1..4096 and channels 1 (grayscale) or 3 (RGB).',
      );
    }
  }
  for (const key of ['maxTrain', 'maxTest'] as const) {
    const v = opts[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw bad(
        `Invalid ${key} ${String(v)}`,
        `Give ${key} as a positive whole number, or leave it out to use every image.`,
      );
    }
  }
}

interface RawDataset {
  train: RawSplit;
  test: RawSplit;
  numClasses: number;
  classNames: string[];
}

function checkLabelRange(labels: Int32Array, numClasses: number, file: string, why: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new AuditError(
        'DATASET_CORRUPT',
        `Label ${labels[i]} at index ${i} is not below the class count ${numClasses}`,
        {
          path: file,
          hint: why,
        },
      );
    }
  }
}

async function readIdx(d: Extract<DetectedLayout, { layout: 'idx' }>): Promise<RawDataset> {
  const f = d.files;
  const [ti, tl, vi, vl] = await Promise.all(
    [f.trainImages, f.trainLabels, f.testImages, f.testLabels].map(readMaybeGz),
  );
  const split = (imgs: Uint8Array, labs: Uint8Array, imgFile: string, labFile: string): RawSplit => {
    const images = parseIdxImages(imgs, imgFile);
    const labels = parseIdxLabels(labs, labFile);
    if (labels.length !== images.count) {
      throw new AuditError(
        'DATASET_MISMATCH',
        `Label file has ${labels.length} labels but the image file has ${images.count} images`,
        {
          path: labFile,
          hint: `Use the labels file that belongs to ${path.basename(imgFile)} (re-download both).`,
        },
      );
    }
    return { ...images, labels };
  };
  const train = split(ti, tl, f.trainImages, f.trainLabels);
  const test = split(vi, vl, f.testImages, f.testLabels);
  if (train.height !== test.height || train.width !== test.width) {
    throw new AuditError(
      'DATASET_MISMATCH',
      `Test images are ${test.height}x${test.width} but training images are ${train.height}x${train.width}`,
      { path: f.testImages, hint: 'Both splits must come from the same data set; check the files.' },
    );
  }
  const namesFile = path.join(d.root, 'classes.txt');
  const names = await readNameList(namesFile);
  let numClasses = 0;
  for (let i = 0; i < train.labels.length; i++) numClasses = Math.max(numClasses, train.labels[i] + 1);
  if (names !== undefined) {
    checkLabelRange(
      train.labels,
      names.length,
      f.trainLabels,
      `classes.txt lists ${names.length} classes; fix it or the labels file.`,
    );
    numClasses = names.length;
  }
  checkLabelRange(
    test.labels,
    numClasses,
    f.testLabels,
    'The test split has a class the training split lacks; check that both label files belong to the same data set.',
  );
  return { train, test, numClasses, classNames: names ?? indexNames(numClasses) };
}

function indexNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i));
}

async function readCifar(files: string[], variant: CifarVariant): Promise<RawSplit> {
  const parts = await Promise.all(files.map(async (file) => ({ file, data: await readMaybeGz(file) })));
  return parseCifarBatches(parts, variant);
}

async function readCifarNames(file: string, numClasses: number): Promise<string[]> {
  const names = await readNameList(file);
  if (names === undefined) return indexNames(numClasses);
  if (names.length !== numClasses) {
    throw new AuditError('DATASET_CORRUPT', `Class name file lists ${names.length} names, expected ${numClasses}`, {
      path: file,
      hint: 'Fix the file (one class name per line) or delete it to use class indices as names.',
    });
  }
  return names;
}

async function readCifar10(d: Extract<DetectedLayout, { layout: 'cifar10-binary' }>): Promise<RawDataset> {
  const [train, test, classNames] = await Promise.all([
    readCifar(d.trainFiles, CIFAR10),
    readCifar([d.testFile], CIFAR10),
    readCifarNames(path.join(d.root, 'batches.meta.txt'), CIFAR10.numClasses),
  ]);
  return { train, test, numClasses: CIFAR10.numClasses, classNames };
}

async function readCifar100(d: Extract<DetectedLayout, { layout: 'cifar100-binary' }>): Promise<RawDataset> {
  const [train, test, classNames] = await Promise.all([
    readCifar([d.trainFile], CIFAR100),
    readCifar([d.testFile], CIFAR100),
    readCifarNames(path.join(d.root, 'fine_label_names.txt'), CIFAR100.numClasses),
  ]);
  return { train, test, numClasses: CIFAR100.numClasses, classNames };
}

async function readImageFolders(
  d: Extract<DetectedLayout, { layout: 'image-folder' }>,
  opts: LoadDatasetOptions,
): Promise<RawDataset> {
  const train = await listImageFolderSplit(d.trainDir);
  const test = await listImageFolderSplit(d.testDir);
  const missing = train.classNames.filter((c) => !test.classNames.includes(c));
  const extra = test.classNames.filter((c) => !train.classNames.includes(c));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [
      missing.length > 0 ? `missing ${missing.join(', ')}` : '',
      extra.length > 0 ? `extra ${extra.join(', ')}` : '',
    ].filter(Boolean);
    throw new AuditError('DATASET_MISMATCH', `Test split class folders differ from train/ (${parts.join('; ')})`, {
      path: d.testDir,
      hint: 'train/ and test/ must contain the same class folders.',
    });
  }
  const numClasses = train.classNames.length;
  const shape: InputShape = opts.inputShape ?? (await probeImageShape(train.files[0]));
  const pick = async (listing: typeof train, max: number | undefined): Promise<RawSplit> => {
    const idx = balancedPrefixIndices(listing.labels, numClasses, max);
    const files = Array.from(idx, (i) => listing.files[i]);
    const labels = Int32Array.from(idx, (i) => listing.labels[i]);
    const pixels = await decodeImages(files, shape);
    return { pixels, labels, count: files.length, height: shape[0], width: shape[1], channels: shape[2] };
  };
  return {
    train: await pick(train, opts.maxTrain),
    test: await pick(test, opts.maxTest),
    numClasses,
    classNames: train.classNames,
  };
}

function toImageSet(raw: RawSplit, numClasses: number, shape: InputShape): ImageSet {
  const [height, width, channels] = shape;
  const images = resizeImages(scaleToUnit(raw.pixels), raw.count, raw, { height, width, channels });
  return { images, labels: raw.labels, count: raw.count, height, width, channels, numClasses };
}

/**
 * Reads the data set in `dir` (layout detected automatically, see the module comment).
 *
 * `opts.maxTrain` / `opts.maxTest` keep a deterministic class-balanced prefix of each split:
 * every class gets an equal share (as far as it has images; leftover places go to the lowest
 * class indices) and its first images in file order are kept, in file order. Images of
 * image folders are only decoded when kept.
 *
 * Errors (AuditError): DATASET_NOT_FOUND (no such directory or unreadable file),
 * DATASET_FORMAT (no / incomplete layout, empty class folder), DATASET_CORRUPT (bad header,
 * magic number, size, label or undecodable image), DATASET_MISMATCH (label / image counts,
 * train / test shapes or class sets differ), INVALID_ARGUMENT (bad options).
 */
export async function loadDataset(dir: string, opts: LoadDatasetOptions = {}): Promise<Dataset> {
  const root = path.resolve(dir);
  checkOptions(root, opts);
  const detected = await detectLayout(root);
  let raw: RawDataset;
  switch (detected.layout) {
    case 'idx':
      raw = await readIdx(detected);
      break;
    case 'cifar10-binary':
      raw = await readCifar10(detected);
      break;
    case 'cifar100-binary':
      raw = await readCifar100(detected);
      break;
    case 'image-folder':
      raw = await readImageFolders(detected, opts);
      break;
  }
  const layout: DatasetLayout = detected.layout;
  let { train, test } = raw;
  if (layout !== 'image-folder') {
    train = gatherRaw(train, balancedPrefixIndices(train.labels, raw.numClasses, opts.maxTrain));
    test = gatherRaw(test, balancedPrefixIndices(test.labels, raw.numClasses, opts.maxTest));
  }
  const shape: InputShape = opts.inputShape ?? [train.height, train.width, train.channels];
  if (opts.normalization) {
    try {
      checkNormalization(opts.normalization, shape[2]);
    } catch (e) {
      throw new AuditError('INVALID_ARGUMENT', (e as Error).message, {
        path: root,
        hint: `Pass one mean and one positive std per channel (${shape[2]} here), e.g. the victim data set's \`normalization\`.`,
      });
    }
  }
  const trainSet = toImageSet(train, raw.numClasses, shape);
  const testSet = toImageSet(test, raw.numClasses, shape);
  const normalization: Normalization = opts.normalization
    ? copyNormalization(opts.normalization)
    : computeNormalization(trainSet.images, shape[2]);
  normalizeInPlace(trainSet.images, shape[2], normalization);
  normalizeInPlace(testSet.images, shape[2], normalization);
  trainSet.normalization = copyNormalization(normalization);
  testSet.normalization = copyNormalization(normalization);
  return { path: root, layout, classNames: raw.classNames, train: trainSet, test: testSet, normalization };
}
