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
import path from 'node:path';
import { AuditError } from '../errors';
import { detectLayout } from './detect';
import { readCifar10, readCifar100, readIdx, readImageFolders, type RawDataset } from './read-layout';
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

// Detection (detect.ts) and reading each layout (read-layout.ts) live beside this module, which
// checks the options and turns the raw splits into normalised image sets.
export { detectLayout, EXPECTED_LAYOUTS, type DetectedLayout } from './detect';

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

/** A set fits its model when channels and classes agree, and (IDX, CIFAR) height and width too. */
function checkFit(
  root: string,
  raw: RawDataset,
  layout: DatasetLayout,
  fit: NonNullable<LoadDatasetOptions['fit']>,
): void {
  const [h, w, c] = raw.nativeShape;
  const [mh, mw, mc] = fit.inputShape;
  const mismatch = (message: string, hint: string) => new AuditError('DATASET_MISMATCH', message, { path: root, hint });
  if (c !== mc) {
    throw mismatch(
      `The data set's images have ${c} channel${c === 1 ? '' : 's'}, the model takes ${mc} (data ${h}x${w}x${c}, model ${mh}x${mw}x${mc})`,
      'Use data of the task the model was trained for (grayscale for a 1-channel model, RGB for a 3-channel one).',
    );
  }
  if (layout !== 'image-folder' && (h !== mh || w !== mw)) {
    throw mismatch(
      `The data set's images are ${h}x${w}, the model takes ${mh}x${mw}`,
      'Use data of the size the model was trained on; only image folders are resized to the model.',
    );
  }
  if (raw.numClasses !== fit.numClasses) {
    throw mismatch(
      `The data set has ${raw.numClasses} classes, the model ${fit.numClasses}`,
      'Use data with the classes the model was trained for.',
    );
  }
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
      raw = await readImageFolders(detected, { ...opts, inputShape: opts.inputShape ?? opts.fit?.inputShape });
      break;
  }
  const layout: DatasetLayout = detected.layout;
  if (opts.fit) checkFit(root, raw, layout, opts.fit);
  let { train, test } = raw;
  if (layout !== 'image-folder') {
    train = gatherRaw(train, balancedPrefixIndices(train.labels, raw.numClasses, opts.maxTrain));
    test = gatherRaw(test, balancedPrefixIndices(test.labels, raw.numClasses, opts.maxTest));
  }
  const shape: InputShape = opts.inputShape ?? opts.fit?.inputShape ?? [train.height, train.width, train.channels];
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
