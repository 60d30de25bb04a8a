/**
 * The PyTorch side of the training-parity harness: where Python is, whether it has torch, the
 * exchange files (raw float32 / int32 arrays and a layer graph) that bench/parity/torch_parity.py
 * reads, and the float32 rerun that says how far float32 arithmetic alone drifts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { ParityOptions } from './parity-types';

export const PYTHON = '/usr/bin/python3';

/** Whether /usr/bin/python3 can import torch (the harness needs it). */
export function torchAvailable(python = PYTHON): boolean {
  if (!existsSync(python)) return false;
  const res = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 });
  return res.status === 0;
}

export function layerGraph(model: tf.LayersModel): unknown[] {
  return model.layers.map((layer) => ({
    name: layer.name,
    className: layer.getClassName(),
    config: layer.getConfig(),
    inbound: layer.inboundNodes[0]?.inboundLayers.map((l) => l.name) ?? [],
  }));
}

export const f32 = (dir: string, name: string, data: Float32Array | Int32Array): string => {
  writeFileSync(join(dir, name), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return name;
};
export const readF32 = (dir: string, name: string): Float32Array => {
  const b = readFileSync(join(dir, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/**
 * Runs the case's PyTorch side again in float32 (in a copy of its manifest) and returns the
 * largest relative difference of that loss curve from the float64 one.
 */
export function torchFloat32LossDrift(
  opts: ParityOptions,
  script: string,
  dir: string,
  manifest: object,
  float64Losses: number[],
): number {
  writeFileSync(join(dir, 'case.json'), JSON.stringify({ ...manifest, dtype: 'float32' }));
  const res = spawnSync(opts.python ?? PYTHON, [script, dir], { encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000 });
  if (res.status !== 0)
    throw new Error(
      `torch_parity.py (float32) failed (${res.status ?? res.error?.message}): ${(res.stderr ?? '').trim().split('\n').slice(-5).join('\n')}`,
    );
  const losses = (JSON.parse(readFileSync(join(dir, 'torch.json'), 'utf8')) as { losses: number[] }).losses;
  return losses.reduce((m, l, i) => Math.max(m, Math.abs(l - float64Losses[i]) / Math.abs(float64Losses[i])), 0);
}
