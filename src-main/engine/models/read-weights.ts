/**
 * Reading a model's weight shards as its manifest lists them: every shard present, inside the
 * model directory and of the length the manifest implies, so that a truncated copy or shards
 * from another model are reported with the file at fault rather than as a TF.js error.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { AuditError } from '../errors';
import { MODEL_JSON_FILE, statOrUndefined } from './model-dir';
import { weightByteSize } from './validate';

/** Reads and length-checks every shard; returns the flat specs and concatenated weight bytes. */
export async function readWeights(
  dir: string,
  modelJsonPath: string,
  manifest: tf.io.WeightsManifestConfig,
): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: Uint8Array; shardOf: (byteOffset: number) => string }> {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const groupBytes: number[] = [];
  for (const group of manifest) {
    let bytes = 0;
    for (const w of group.weights) {
      bytes += weightByteSize(w);
      specs.push(w);
    }
    groupBytes.push(bytes);
  }
  const data = new Uint8Array(groupBytes.reduce((a, b) => a + b, 0));
  const shardStarts: Array<[number, string]> = [];
  let offset = 0;
  for (const [g, group] of manifest.entries()) {
    const files = group.paths.map((p) => resolveShard(dir, p, modelJsonPath));
    const sizes: number[] = [];
    for (const f of files) {
      const st = await statOrUndefined(f);
      if (!st?.isFile()) {
        throw new AuditError(
          'MODEL_WEIGHTS',
          `Weight shard missing (listed in ${MODEL_JSON_FILE} weight group ${g + 1})`,
          {
            hint: `Copy all ${files.length} shard file(s) of this group next to ${MODEL_JSON_FILE}: ${group.paths.join(', ')}`,
            path: f,
          },
        );
      }
      sizes.push(st.size);
    }
    const expected = groupBytes[g];
    const actual = sizes.reduce((a, b) => a + b, 0);
    if (actual !== expected) {
      // All shards but the last have the same size; a shorter one among them is the culprit.
      let culprit = files.length - 1;
      if (actual < expected) {
        const short = sizes.findIndex((s, i) => i < sizes.length - 1 && s < sizes[0]);
        if (short >= 0) culprit = short;
      }
      const detail = files.map((f, i) => `${path.basename(f)}=${sizes[i]}`).join(', ');
      throw new AuditError(
        'MODEL_WEIGHTS',
        actual < expected
          ? `Weight shard truncated: weight group ${g + 1} needs ${expected} bytes, its shard file(s) hold ${actual} (${detail})`
          : `Weight shard too long: weight group ${g + 1} needs ${expected} bytes, its shard file(s) hold ${actual} (${detail})`,
        {
          hint: 'The weights do not match model.json: a copy was interrupted or the shards come from another model. Copy the shards again or re-export the model.',
          path: files[culprit],
        },
      );
    }
    let gOff = offset;
    for (const [i, f] of files.entries()) {
      const buf = await fsp.readFile(f);
      if (buf.byteLength !== sizes[i]) {
        throw new AuditError(
          'MODEL_WEIGHTS',
          `Weight shard changed size while reading (expected ${sizes[i]} bytes, got ${buf.byteLength})`,
          {
            hint: 'Another process is writing the model; load it again when that is done.',
            path: f,
          },
        );
      }
      data.set(buf, gOff);
      shardStarts.push([gOff, f]);
      gOff += buf.byteLength;
    }
    offset += expected;
  }
  const shardOf = (byteOffset: number): string => {
    let found = shardStarts[0]?.[1] ?? modelJsonPath;
    for (const [start, f] of shardStarts) if (start <= byteOffset) found = f;
    return found;
  };
  return { specs, data, shardOf };
}

function resolveShard(dir: string, p: string, modelJsonPath: string): string {
  let rel = p;
  try {
    rel = decodeURIComponent(p);
  } catch {
    // keep as written
  }
  const resolved = path.resolve(dir, rel);
  const inside = path.relative(dir, resolved);
  if (
    path.isAbsolute(rel) ||
    /^[a-z][a-z0-9+.-]*:\/\//i.test(rel) ||
    inside.startsWith('..') ||
    path.isAbsolute(inside)
  ) {
    throw new AuditError('MODEL_FORMAT', `Weight path '${p}' points outside the model directory`, {
      hint: 'Weight shard paths in model.json must be relative file names inside the model directory.',
      path: modelJsonPath,
    });
  }
  return resolved;
}
