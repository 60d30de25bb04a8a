/**
 * Training checkpoints: every model weight (trainable and BatchNorm statistics) and the
 * optimiser's slots, by position, in one binary file plus a JSON state. Written to a
 * temporary directory and renamed over the old one (replaceDirAtomic), so a killed process
 * leaves either the previous checkpoint or the new one, never half of each.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AuditError } from '../errors';
import { replaceDirAtomic } from '../files/atomic-write';
import type { Optimizer } from './optimizers';

export interface CheckpointState {
  formatVersion: 1;
  /** Iterations completed. */
  iteration: number;
  optimizerStep: number;
  /** Fingerprint of the training options, so a resume with other options is refused. */
  optionsKey: string;
}

const STATE = 'state.json';
const WEIGHTS = 'tensors.bin';
const SPECS = 'tensors.json';

export async function writeCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: Optimizer,
  state: CheckpointState,
): Promise<void> {
  const named: { name: string; tensor: tf.Tensor }[] = model.weights.map((w, i) => ({
    name: `w${i}`,
    tensor: w.read(),
  }));
  for (const s of optimizer.state().tensors) named.push({ name: `o${s.name}`, tensor: s.tensor });
  const { data, specs } = await tf.io.encodeWeights(named);
  await replaceDirAtomic(dir, async (tmp) => {
    writeFileSync(join(tmp, WEIGHTS), Buffer.from(data as ArrayBuffer));
    writeFileSync(join(tmp, SPECS), JSON.stringify(specs));
    writeFileSync(join(tmp, STATE), JSON.stringify(state, null, 2));
  });
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, STATE));
}

/** Loads a checkpoint into `model` and `optimizer`; returns its state. */
export function readCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: Optimizer,
  optionsKey: string,
): CheckpointState {
  let state: CheckpointState;
  let decoded: tf.NamedTensorMap;
  try {
    state = JSON.parse(readFileSync(join(dir, STATE), 'utf8')) as CheckpointState;
    const specs = JSON.parse(readFileSync(join(dir, SPECS), 'utf8')) as tf.io.WeightsManifestEntry[];
    const buf = readFileSync(join(dir, WEIGHTS));
    decoded = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), specs);
  } catch (cause) {
    throw new AuditError('CHECKPOINT', 'The checkpoint cannot be read', {
      path: dir,
      hint: 'Delete the checkpoint directory to start the run afresh.',
      cause,
    });
  }
  if (state.optionsKey !== optionsKey) {
    tf.dispose(Object.values(decoded));
    throw new AuditError('CHECKPOINT', 'The checkpoint was written by a run with other options', {
      path: dir,
      hint: 'Resume with the same options as the interrupted run, or use another checkpoint directory.',
    });
  }
  const weights = model.weights;
  for (let i = 0; i < weights.length; i++) {
    const t = decoded[`w${i}`];
    if (!t || !tf.util.arraysEqual(t.shape, weights[i].shape as number[])) {
      tf.dispose(Object.values(decoded));
      throw new AuditError('CHECKPOINT', `The checkpoint does not match the model (weight ${weights[i].name})`, {
        path: dir,
        hint: 'Resume with the architecture the checkpoint was written for.',
      });
    }
    weights[i].write(t);
  }
  const slots: Record<string, tf.Tensor> = {};
  for (const [k, t] of Object.entries(decoded)) if (k.startsWith('o')) slots[k.slice(1)] = t;
  optimizer.restore(state.optimizerStep, slots);
  tf.dispose(Object.values(decoded));
  return state;
}
