/**
 * The wizard's data set preview: layout, image shape, class names, images per class in each
 * split and a few sample images as PNG data URLs. Reads the raw files with the engine's
 * parsers (no normalisation, no TF.js) and decodes only the sampled images of image
 * folders, so previewing CIFAR-10 or a large folder stays quick.
 */
import path from 'node:path';
import type { DatasetPreview } from '../../src-shared/contract/api';
import { CIFAR10, CIFAR100, parseCifarBatches } from '../engine/datasets/cifar';
import { readMaybeGz, readNameList } from '../engine/datasets/files';
import { parseIdxImages, parseIdxLabels } from '../engine/datasets/idx';
import { decodeImage, listImageFolderSplit, probeImageShape } from '../engine/datasets/image-folder';
import { detectLayout } from '../engine/datasets/load';
import type { RawSplit } from '../engine/datasets/types';
import { pngDataUrl } from './png';

type Split = 'train' | 'test';

/** One split as the preview needs it: labels, and a way to get the pixels of image i. */
interface SplitSource {
  labels: Int32Array;
  image(i: number): Promise<Uint8Array>;
}

function countPerClass(labels: Int32Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const l of labels) if (l >= 0 && l < numClasses) counts[l]++;
  return counts;
}

/** Round-robin over classes: the first image of class 0, of class 1, ..., then the second of each. */
export function sampleIndices(labels: Int32Array, numClasses: number, n: number): number[] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  const perClass = Math.ceil(n / Math.max(1, numClasses));
  for (let i = 0; i < labels.length; i++) {
    const list = byClass[labels[i]];
    if (list && list.length < perClass) list.push(i);
  }
  const out: number[] = [];
  for (let round = 0; out.length < n && round < perClass; round++) {
    for (const list of byClass) {
      if (out.length >= n) break;
      if (round < list.length) out.push(list[round]);
    }
  }
  return out;
}

function rawSource(raw: RawSplit): SplitSource {
  const size = raw.height * raw.width * raw.channels;
  return { labels: raw.labels, image: async (i) => raw.pixels.subarray(i * size, (i + 1) * size) };
}

function indexNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i));
}

export async function previewDataset(dir: string, samplesPerSplit = 8): Promise<DatasetPreview> {
  const detected = await detectLayout(dir);
  let shape: [number, number, number];
  let numClasses: number;
  let classNames: string[] | undefined;
  let splits: Record<Split, SplitSource>;

  if (detected.layout === 'idx') {
    const f = detected.files;
    const [ti, tl, vi, vl] = await Promise.all(
      [f.trainImages, f.trainLabels, f.testImages, f.testLabels].map(readMaybeGz),
    );
    const train = { ...parseIdxImages(ti, f.trainImages), labels: parseIdxLabels(tl, f.trainLabels) };
    const test = { ...parseIdxImages(vi, f.testImages), labels: parseIdxLabels(vl, f.testLabels) };
    classNames = await readNameList(path.join(detected.root, 'classes.txt'));
    numClasses = classNames?.length ?? train.labels.reduce((m, l) => Math.max(m, l + 1), 0);
    shape = [train.height, train.width, 1];
    splits = { train: rawSource(train), test: rawSource(test) };
  } else if (detected.layout === 'cifar10-binary' || detected.layout === 'cifar100-binary') {
    const variant = detected.layout === 'cifar10-binary' ? CIFAR10 : CIFAR100;
    const trainFiles = detected.layout === 'cifar10-binary' ? detected.trainFiles : [detected.trainFile];
    const read = async (files: string[]) =>
      parseCifarBatches(
        await Promise.all(files.map(async (file) => ({ file, data: await readMaybeGz(file) }))),
        variant,
      );
    const [train, test] = await Promise.all([read(trainFiles), read([detected.testFile])]);
    classNames = await readNameList(
      path.join(detected.root, detected.layout === 'cifar10-binary' ? 'batches.meta.txt' : 'fine_label_names.txt'),
    );
    numClasses = variant.numClasses;
    shape = [32, 32, 3];
    splits = { train: rawSource(train), test: rawSource(test) };
  } else {
    const [train, test] = await Promise.all([
      listImageFolderSplit(detected.trainDir),
      listImageFolderSplit(detected.testDir),
    ]);
    classNames = train.classNames;
    numClasses = classNames.length;
    shape = await probeImageShape(train.files[0]);
    // Test class folders are matched to train's by name, as the loader does.
    const testLabels = Int32Array.from(test.labels, (l) => train.classNames.indexOf(test.classNames[l]));
    splits = {
      train: { labels: train.labels, image: (i) => decodeImage(train.files[i], shape) },
      test: { labels: testLabels, image: (i) => decodeImage(test.files[i], shape) },
    };
  }

  const samples: DatasetPreview['samples'] = [];
  for (const split of ['train', 'test'] as const) {
    const source = splits[split];
    for (const i of sampleIndices(source.labels, numClasses, samplesPerSplit)) {
      samples.push({
        split,
        label: source.labels[i],
        png: pngDataUrl(await source.image(i), shape[1], shape[0], shape[2] === 1 ? 1 : 3),
      });
    }
  }
  return {
    path: detected.root,
    layout: detected.layout,
    shape,
    numClasses,
    classNames: classNames ?? indexNames(numClasses),
    counts: {
      train: countPerClass(splits.train.labels, numClasses),
      test: countPerClass(splits.test.labels, numClasses),
    },
    samples,
  };
}
