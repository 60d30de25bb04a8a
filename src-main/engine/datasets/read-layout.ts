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
import { decodeImages, listImageFolderSplit, probeImageShape } from './image-folder';
import { balancedPrefixIndices } from './transform';
import type { InputShape, LoadDatasetOptions, RawSplit } from './types';

export interface RawDataset {
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

export async function readCifar10(d: Extract<DetectedLayout, { layout: 'cifar10-binary' }>): Promise<RawDataset> {
  const [train, test, classNames] = await Promise.all([
    readCifar(d.trainFiles, CIFAR10),
    readCifar([d.testFile], CIFAR10),
    readCifarNames(path.join(d.root, 'batches.meta.txt'), CIFAR10.numClasses),
  ]);
  return { train, test, numClasses: CIFAR10.numClasses, classNames };
}

export async function readCifar100(d: Extract<DetectedLayout, { layout: 'cifar100-binary' }>): Promise<RawDataset> {
  const [train, test, classNames] = await Promise.all([
    readCifar([d.trainFile], CIFAR100),
    readCifar([d.testFile], CIFAR100),
    readCifarNames(path.join(d.root, 'fine_label_names.txt'), CIFAR100.numClasses),
  ]);
  return { train, test, numClasses: CIFAR100.numClasses, classNames };
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
