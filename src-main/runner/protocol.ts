/**
 * Messages between the job runner and its worker processes (Node IPC, JSON). One worker
 * runs one job and exits, so a crashed or killed job never takes another job's state with it.
 */
import type { ProgressEvent } from '../engine/context';
import type { JobInput } from './executors';

export type ToWorker =
  /** `threads`: the wasm backend's threaded build with this many threads (left out: single-threaded). */
  | { type: 'start'; job: JobInput; backend: string; threads?: number }
  | { type: 'cancel' }
  /** The job's share of the cores changed (another job started or ended): use this many threads. */
  | { type: 'threads'; count: number };

export interface WorkerError {
  code: string;
  message: string;
  hint?: string;
}

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'log'; message: string }
  | { type: 'done'; result: unknown }
  | { type: 'error'; error: WorkerError };
