/**
 * `queries export`: the inputs a suspect known only through its API must answer, as files a
 * verifier can send with any client (issue 19). The query sets are exactly those `verify`
 * scores (verificationQuerySets over the calibrated fingerprints, plus the test split for
 * fidelity), so answers to them go straight into `verify --responses`.
 *
 * The folder holds:
 *   queries.json     the manifest (QueriesManifest below): hashes, input shape, preprocessing
 *   <set>.f32        the set's inputs, raw little-endian float32, [n, h, w, c] (NHWC),
 *                    already normalised as the victim expects; sha256 = the set's inputsSha256
 *   png/<set>/<i>.png  with --png: each input de-normalised to [0, 1] and rounded to 8 bits
 *
 * White-box sets (DeepJudge answers a block's activations) are listed with a note and not
 * written: an API cannot answer them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type SharpModule from 'sharp';
import { loadCalibration, type ReadCalibrationOptions } from '../calibration/calibration-file';
import { verificationQuerySets } from '../calibration/score-answers';
import { loadCalibratedFingerprints } from '../calibration/verify';
import { loadDataset } from '../datasets';
import { allImages } from '../defenses/probe-data';
import type { QuerySet, ResponseOutput } from '../defenses/responses';
import type { FingerprintArray } from '../defenses/types';
import { AuditError } from '../errors';
import { writeFileAtomicSync } from '../files/atomic-write';
import { loadModel } from '../models/io';
import { inputsSha256 } from './responses-file';

export const QUERIES_FORMAT = 'ownership-audit-queries';
export const QUERIES_MANIFEST = 'queries.json';

export interface Normalization {
  mean: number[];
  std: number[];
}

const SetEntrySchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  count: z.number().int().nonnegative(),
  needs: z.enum(['activations', 'logits', 'probabilities', 'labels']),
  exported: z.boolean(),
  /** `<id>.f32`, relative to the folder; null for a white-box set. */
  file: z.string().nullable(),
  inputsSha256: z.string().regex(/^[0-9a-f]{64}$/),
  note: z.string().optional(),
});

export const QueriesManifestSchema = z.object({
  format: z.literal(QUERIES_FORMAT),
  formatVersion: z.literal(1),
  createdAt: z.string(),
  victim: z.object({ contentHash: z.string(), lineage: z.string() }),
  calibration: z.object({ contentHash: z.string().nullable(), fileSha256: z.string() }),
  /** The test split the fidelity set is, when --data was given (verify needs the same --data and --max-test). */
  data: z.object({ path: z.string(), maxTest: z.number().int().positive().nullable(), count: z.number() }).nullable(),
  inputShape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  layout: z.literal('NHWC'),
  dtype: z.literal('float32-le'),
  normalization: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }).nullable(),
  preprocessing: z.string(),
  png: z.boolean(),
  sets: z.array(SetEntrySchema),
});
export type QueriesManifest = z.infer<typeof QueriesManifestSchema>;
export type QueriesSetEntry = z.infer<typeof SetEntrySchema>;

export interface ExportQueriesRequest {
  calibrationFile: string;
  victimDir: string;
  /** The test split for the fidelity set, loaded as `verify` loads it. */
  dataDir?: string;
  maxTest?: number;
  outDir: string;
  png?: boolean;
  trust?: ReadCalibrationOptions;
}

/** The sentence the manifest states the model's preprocessing with. */
export function preprocessingSentence(norm: Normalization | null): string {
  if (!norm)
    return (
      'none recorded: the victim states no normalization, so the inputs are taken to be pixels in [0, 1] as the ' +
      'model takes them (a PNG is each value clamped to [0, 1], times 255, rounded).'
    );
  return (
    'pixels in [0, 1], then (x - mean) / std per channel with the normalization below; the .f32 files are ' +
    'already normalised (send them as they are to a model that takes normalised inputs), the PNGs are not.'
  );
}

/**
 * One input of a set as 8-bit pixels: de-normalised to [0, 1], clamped, times 255, rounded.
 * The PNG export and the PNG route of the adapter both use it, so both send the same bytes.
 */
export function toPixels(
  inputs: FingerprintArray,
  index: number,
  norm: Normalization | null,
): { pixels: Uint8Array; width: number; height: number; channels: number } {
  const [, height, width, channels] = inputs.shape;
  const per = height * width * channels;
  const pixels = new Uint8Array(per);
  const base = index * per;
  for (let i = 0; i < per; i++) {
    const c = i % channels;
    const x = norm ? inputs.data[base + i] * norm.std[c] + norm.mean[c] : inputs.data[base + i];
    pixels[i] = Math.round(Math.min(1, Math.max(0, x)) * 255);
  }
  return { pixels, width, height, channels };
}

/**
 * A whole set through the PNG route, back in model units: every input quantised as `toPixels`
 * does, then /255 and normalised again exactly as the data loader normalises.
 */
export function quantisedInputs(inputs: FingerprintArray, norm: Normalization | null): FingerprintArray {
  const [n, , , channels] = inputs.shape;
  const per = inputs.shape[1] * inputs.shape[2] * channels;
  const out = new Float32Array(n * per);
  const inv = norm?.std.map((s) => 1 / s);
  for (let k = 0; k < n; k++) {
    const { pixels } = toPixels(inputs, k, norm);
    for (let i = 0; i < per; i++) {
      const c = i % channels;
      const x = Math.fround(pixels[i] / 255);
      out[k * per + i] = norm && inv ? (x - norm.mean[c]) * inv[c] : x;
    }
  }
  return { shape: inputs.shape, data: out };
}

/** sharp (a native addon) loads only when PNGs are written. */
let sharpModule: typeof SharpModule | undefined;
async function loadSharp(): Promise<typeof SharpModule> {
  sharpModule ??= (await import('sharp')).default;
  return sharpModule;
}

/** PNG bytes of one input (8-bit gray or RGB: the forms an image API takes). */
export async function pngOf(inputs: FingerprintArray, index: number, norm: Normalization | null): Promise<Buffer> {
  const { pixels, width, height, channels } = toPixels(inputs, index, norm);
  if (channels !== 1 && channels !== 3)
    throw new AuditError('INVALID_ARGUMENT', `A PNG route needs 1 or 3 channels; the victim takes ${channels}`, {
      hint: 'Send the float32 inputs (--input float32), or leave out --png.',
    });
  const sharp = await loadSharp();
  const image = sharp(pixels, { raw: { width, height, channels } });
  // Without the colourspace sharp writes a one-channel image as RGB.
  return (channels === 1 ? image.toColourspace('b-w') : image).png({ compressionLevel: 6 }).toBuffer();
}

function setEntry(set: QuerySet): QueriesSetEntry {
  const whiteBox = set.needs === 'activations';
  return {
    id: set.id,
    count: set.inputs.shape[0] ?? 0,
    needs: set.needs,
    exported: !whiteBox,
    file: whiteBox ? null : `${set.id}.f32`,
    inputsSha256: inputsSha256(set),
    ...(whiteBox
      ? {
          note: `not exported: ${set.id} needs a block's activations (white-box), which an API cannot answer; verify marks it not applicable`,
        }
      : {}),
  };
}

/** Writes the queries of a calibration (and the fidelity set with `dataDir`) under `outDir`. */
export async function exportQueries(req: ExportQueriesRequest): Promise<{ dir: string; manifest: QueriesManifest }> {
  const { calibration } = loadCalibration(req.calibrationFile, req.trust);
  const victim = await loadModel(req.victimDir);
  try {
    const sets = loadCalibratedFingerprints(calibration, req.calibrationFile, victim.meta.contentHash);
    // Exactly verify's loading, so the fidelity set hashes as verify's test split does.
    const data = req.dataDir
      ? await loadDataset(req.dataDir, {
          inputShape: victim.meta.inputShape,
          fit: { inputShape: victim.meta.inputShape, numClasses: victim.meta.numClasses },
          normalization: victim.meta.normalization,
          maxTrain: victim.meta.normalization ? 1 : undefined,
          maxTest: req.maxTest,
        })
      : undefined;
    const querySets = verificationQuerySets(sets, data ? allImages(data.test) : undefined);
    // Without a recorded normalization the data loader normalises with the data's own statistics.
    const norm: Normalization | null = victim.meta.normalization ?? data?.normalization ?? null;
    const dir = resolve(req.outDir);
    mkdirSync(dir, { recursive: true });
    const entries = querySets.map(setEntry);
    for (const set of querySets) {
      if (set.needs === 'activations') continue;
      const d = set.inputs.data;
      writeFileSync(join(dir, `${set.id}.f32`), Buffer.from(d.buffer, d.byteOffset, d.byteLength));
      if (req.png) {
        const folder = join(dir, 'png', set.id);
        mkdirSync(folder, { recursive: true });
        for (let i = 0; i < (set.inputs.shape[0] ?? 0); i++)
          writeFileSync(join(folder, `${i}.png`), await pngOf(set.inputs, i, norm));
      }
    }
    const manifest: QueriesManifest = {
      format: QUERIES_FORMAT,
      formatVersion: 1,
      createdAt: new Date().toISOString(),
      victim: { contentHash: victim.meta.contentHash, lineage: victim.meta.lineage },
      calibration: {
        contentHash: calibration.contentHash ?? null,
        fileSha256: createHash('sha256').update(readFileSync(req.calibrationFile)).digest('hex'),
      },
      data: data
        ? { path: resolve(req.dataDir as string), maxTest: req.maxTest ?? null, count: data.test.count }
        : null,
      inputShape: [...victim.meta.inputShape] as [number, number, number],
      layout: 'NHWC',
      dtype: 'float32-le',
      normalization: norm ? { mean: [...norm.mean], std: [...norm.std] } : null,
      preprocessing: preprocessingSentence(norm),
      png: Boolean(req.png),
      sets: entries,
    };
    writeFileAtomicSync(join(dir, QUERIES_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    return { dir, manifest };
  } finally {
    victim.model.dispose();
  }
}

function badFolder(dir: string, message: string, cause?: unknown): AuditError {
  return new AuditError('INVALID_ARGUMENT', message, {
    path: dir,
    hint: 'Pass the folder written by `ownership-audit queries export` (it holds queries.json), or export again.',
    cause,
  });
}

/** Reads and checks an export's manifest. */
export function readQueriesManifest(dir: string): QueriesManifest {
  const file = join(dir, QUERIES_MANIFEST);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw badFolder(dir, `No readable ${QUERIES_MANIFEST} in the queries folder`, cause);
  }
  const r = QueriesManifestSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw badFolder(dir, `${QUERIES_MANIFEST} is not a queries manifest: ${i?.path.join('.')}: ${i?.message}`);
  }
  return r.data;
}

/** One exported set's inputs, checked against the manifest's hash (a changed file is refused). */
export function readQuerySet(dir: string, manifest: QueriesManifest, entry: QueriesSetEntry): QuerySet {
  if (!entry.file) throw badFolder(dir, `The ${entry.id} set was not exported (${entry.note ?? 'white-box'})`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(dir, entry.file));
  } catch (cause) {
    throw badFolder(dir, `The ${entry.id} inputs (${entry.file}) cannot be read`, cause);
  }
  const [h, w, c] = manifest.inputShape;
  if (bytes.length !== entry.count * h * w * c * 4)
    throw badFolder(
      dir,
      `${entry.file} holds ${bytes.length} bytes, ${entry.count} inputs of ${h}x${w}x${c} float32 need ${entry.count * h * w * c * 4}`,
    );
  const data = new Float32Array(entry.count * h * w * c);
  Buffer.from(data.buffer).set(bytes);
  const set: QuerySet = {
    id: entry.id,
    inputs: { shape: [entry.count, h, w, c], data },
    needs: entry.needs as ResponseOutput,
  };
  if (inputsSha256(set) !== entry.inputsSha256)
    throw badFolder(dir, `${entry.file} changed since the export (its sha256 is not the manifest's inputsSha256)`);
  return set;
}
