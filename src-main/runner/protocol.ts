/**
 * Messages between the job runner and its worker processes (Node IPC, JSON). One worker
 * runs one job and exits, so a crashed or killed job never takes another job's state with it.
 */
import type { ProgressEvent } from '../engine/context';
import type { JobInput } from './executors';

export type ToWorker = { type: 'start'; job: JobInput; backend: string } | { type: 'cancel' };

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
