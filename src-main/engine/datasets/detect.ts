/**
 * Which data set layout a directory holds, from its file names alone (nothing is parsed
 * here), so that the data step of the workbench can say what it found, or what is missing,
 * before a possibly long load. The layouts are described in load.ts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AuditError } from '../errors';
import { listDir } from './files';

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
