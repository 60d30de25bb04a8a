// Builds the embedded demo data set, resources/datasets/fashion-mnist-demo/, from the full
// Fashion-MNIST in ../shared/datasets/fashion-mnist (gzipped IDX). Keeps a deterministic,
// class-balanced subset: the first 2,000 training and 500 test images of each of the 10
// classes in file order (20,000 + 5,000 images), in file order, written as gzipped IDX with
// the data set's LICENSE, a classes.txt and a README.md. Same input, same output bytes.
//
// Usage: node scripts/make-demo-dataset.mjs [sourceDir] [outDir]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.resolve(process.argv[2] ?? path.join(repo, '..', 'shared', 'datasets', 'fashion-mnist'));
const out = path.resolve(process.argv[3] ?? path.join(repo, 'resources', 'datasets', 'fashion-mnist-demo'));

const NUM_CLASSES = 10;
const TRAIN_PER_CLASS = 2000;
const TEST_PER_CLASS = 500;
const CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

function fail(message) {
  console.error(`make-demo-dataset: ${message}`);
  process.exit(1);
}

if (!existsSync(src)) fail(`source folder not found: ${src} (it should hold Fashion-MNIST's gzipped IDX files)`);

function readIdx(name, magic) {
  const file = path.join(src, name);
  if (!existsSync(file)) fail(`missing ${file}`);
  const data = gunzipSync(readFileSync(file));
  if (data.readUInt32BE(0) !== magic) fail(`bad magic number in ${file}`);
  return data;
}

function subsetSplit(prefix, perClass) {
  const images = readIdx(`${prefix}-images-idx3-ubyte.gz`, 0x00000803);
  const labels = readIdx(`${prefix}-labels-idx1-ubyte.gz`, 0x00000801);
  const count = images.readUInt32BE(4);
  const rows = images.readUInt32BE(8);
  const cols = images.readUInt32BE(12);
  const size = rows * cols;
  if (images.length !== 16 + count * size) fail(`${prefix} images: size does not match header`);
  if (labels.readUInt32BE(4) !== count || labels.length !== 8 + count)
    fail(`${prefix} labels: count does not match images`);
  const taken = new Array(NUM_CLASSES).fill(0);
  const keep = [];
  for (let i = 0; i < count; i++) {
    const c = labels[8 + i];
    if (c >= NUM_CLASSES) fail(`${prefix} labels: label ${c} out of range`);
    if (taken[c] < perClass) {
      taken[c]++;
      keep.push(i);
    }
  }
  if (taken.some((t) => t < perClass))
    fail(`${prefix}: fewer than ${perClass} images in some class (${taken.join(', ')})`);
  const n = keep.length;
  const outImages = Buffer.alloc(16 + n * size);
  outImages.writeUInt32BE(0x00000803, 0);
  outImages.writeUInt32BE(n, 4);
  outImages.writeUInt32BE(rows, 8);
  outImages.writeUInt32BE(cols, 12);
  const outLabels = Buffer.alloc(8 + n);
  outLabels.writeUInt32BE(0x00000801, 0);
  outLabels.writeUInt32BE(n, 4);
  keep.forEach((i, j) => {
    images.copy(outImages, 16 + j * size, 16 + i * size, 16 + (i + 1) * size);
    outLabels[8 + j] = labels[8 + i];
  });
  // gzip output is deterministic: Node writes mtime 0 and a fixed header.
  writeFileSync(path.join(out, `${prefix}-images-idx3-ubyte.gz`), gzipSync(outImages, { level: 9 }));
  writeFileSync(path.join(out, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(outLabels, { level: 9 }));
  return { n, rows, cols };
}

mkdirSync(out, { recursive: true });
const train = subsetSplit('train', TRAIN_PER_CLASS);
const test = subsetSplit('t10k', TEST_PER_CLASS);
writeFileSync(path.join(out, 'classes.txt'), `${CLASS_NAMES.join('\n')}\n`);
// Copy the contents, not the mode: the source may be read-only, the copy must stay writable.
if (existsSync(path.join(src, 'LICENSE')))
  writeFileSync(path.join(out, 'LICENSE'), readFileSync(path.join(src, 'LICENSE')));
else fail(`missing ${path.join(src, 'LICENSE')}: the licence must ship with the subset`);

writeFileSync(
  path.join(out, 'README.md'),
  `# Fashion-MNIST demo subset

A class-balanced subset of [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist)
by Zalando Research (Copyright 2017 Zalando SE; MIT/Expat licence, see \`LICENSE\`), shipped
so the embedded demo runs without downloading anything.

- ${train.n.toLocaleString('en-US')} training images (${TRAIN_PER_CLASS.toLocaleString('en-US')} per class) and ${test.n.toLocaleString('en-US')} test images (${TEST_PER_CLASS} per class),
  ${train.rows}x${train.cols} grayscale, 10 classes (names in \`classes.txt\`, one per label index).
- Format: the original gzipped IDX files (\`train-images-idx3-ubyte.gz\`,
  \`train-labels-idx1-ubyte.gz\`, \`t10k-images-idx3-ubyte.gz\`, \`t10k-labels-idx1-ubyte.gz\`).
- Made by \`scripts/make-demo-dataset.mjs\` from the full data set (60,000 + 10,000 images):
  for each split it keeps the first ${TRAIN_PER_CLASS} (train) / ${TEST_PER_CLASS} (test) images of every class
  in file order, in their original order. Deterministic: rerunning gives the same files.
`,
);
console.log(`wrote ${out}: ${train.n} train + ${test.n} test images (${train.rows}x${train.cols})`);
