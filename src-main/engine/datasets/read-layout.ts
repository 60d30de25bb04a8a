/**
 * Reading each detected layout (IDX, CIFAR-10/100 binary, image folders) into raw train and
 * test splits with their class names, checking that labels, counts, shapes and class sets
 * agree. What the splits become (subset, resize, normalisation) is load.ts's business.
 */
import path from 'node:path';
import { AuditError } from '../errors';
import { CIFAR10, CIFAR100, parseCifarBatches, type CifarVariant } from './cifar';
import type { DetectedLayout } from './detect';
import { readMaybeGz, readNameList } from './files';
import { parseIdxImages, parseIdxLabels } from './idx';
import { decodeImages, listImageFolderSplit, majorityShape } from './image-folder';
import { balancedPrefixIndices } from './transform';
import type { InputShape, LoadDatasetOptions, RawSplit } from './types';

export interface RawDataset {
  train: RawSplit;
  test: RawSplit;
  numClasses: number;
  classNames: string[];
  /** The images' own [height, width, channels] before any resize (image folders: the majority's). */
  nativeShape: InputShape;
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

export async function readIdx(d: Extract<DetectedLayout, { layout: 'idx' }>): Promise<RawDataset> {
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
  if (names === undefined) checkEveryClassPresent(train.labels, numClasses, f.trainLabels);
  return {
    train,
    test,
    numClasses,
    classNames: names ?? indexNames(numClasses),
    nativeShape: [train.height, train.width, train.channels],
  };
}

/**
 * Without classes.txt the classes are inferred as 0..K-1 from the largest label, so every one
 * of them must have a training image: one stray label 200 among 0 and 1 would otherwise make
 * a 201-class model.
 */
function checkEveryClassPresent(labels: Int32Array, numClasses: number, file: string): void {
  const seen = new Uint8Array(numClasses);
  for (let i = 0; i < labels.length; i++) seen[labels[i]] = 1;
  const missing = seen.indexOf(0);
  if (missing < 0) return;
  let absent = 0;
  for (const s of seen) if (!s) absent++;
  const largest = numClasses - 1;
  throw new AuditError(
    'DATASET_CORRUPT',
    `Labels run up to ${largest}, but ${absent} of the classes 0..${largest} (e.g. ${missing}) have no training image`,
    {
      path: file,
      hint: `Classes must be numbered 0..K-1 with every class in the training split. Fix the stray label ${largest}, or list the class names in classes.txt.`,
    },
  );
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

export async function readCifar10(d: Extract<DetectedLayout, { layout: 'cifar10-binary' }>): Promise<RawDataset> {
  const [train, test, classNames] = await Promise.all([
    readCifar(d.trainFiles, CIFAR10),
    readCifar([d.testFile], CIFAR10),
    readCifarNames(path.join(d.root, 'batches.meta.txt'), CIFAR10.numClasses),
  ]);
  return {
    train,
    test,
    numClasses: CIFAR10.numClasses,
    classNames,
    nativeShape: [train.height, train.width, train.channels],
  };
}

export async function readCifar100(d: Extract<DetectedLayout, { layout: 'cifar100-binary' }>): Promise<RawDataset> {
  const [train, test, classNames] = await Promise.all([
    readCifar([d.trainFile], CIFAR100),
    readCifar([d.testFile], CIFAR100),
    readCifarNames(path.join(d.root, 'fine_label_names.txt'), CIFAR100.numClasses),
  ]);
  return {
    train,
    test,
    numClasses: CIFAR100.numClasses,
    classNames,
    nativeShape: [train.height, train.width, train.channels],
  };
}

export async function readImageFolders(
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
  const kept = (listing: typeof train, max: number | undefined) => {
    const idx = balancedPrefixIndices(listing.labels, numClasses, max);
    return { files: Array.from(idx, (i) => listing.files[i]), labels: Int32Array.from(idx, (i) => listing.labels[i]) };
  };
  const trainKept = kept(train, opts.maxTrain);
  const testKept = kept(test, opts.maxTest);
  // Headers only: the set's own size is its most common one, and every image is checked against the cap.
  const nativeShape = await majorityShape(trainKept.files);
  const shape: InputShape = opts.inputShape ?? nativeShape;
  const decode = async ({ files, labels }: typeof trainKept): Promise<RawSplit> => {
    const pixels = await decodeImages(files, shape);
    return { pixels, labels, count: files.length, height: shape[0], width: shape[1], channels: shape[2] };
  };
  return {
    train: await decode(trainKept),
    test: await decode(testKept),
    numClasses,
    classNames: train.classNames,
    nativeShape,
  };
}
