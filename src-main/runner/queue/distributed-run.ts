/**
 * What a distributed run adds to a local one, opened once by `run --queue`: the Redis
 * connection, the dispatcher that enqueues jobs, and the shared location where the run's
 * folder, its artifacts and its published inputs live.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { AuditStore } from '../../store/types';
import { connectQueue, redactQueueUrl } from './connection';
import { createQueueDispatcher, type QueueDispatcher } from './dispatcher';
import { listQueueWorkers } from './worker-host';

export interface DistributedRun {
  /** The queue's URL without its password (stored with the run, shown by the app). */
  queue: string;
  /** The shared location as this machine mounts it. */
  sharedRoot: string;
  connection: Redis;
  dispatcher: QueueDispatcher;
  close(): Promise<void>;
}

export async function openDistributedRun(o: {
  url: string;
  sharedRoot: string;
  store: AuditStore;
  backend: string;
}): Promise<DistributedRun> {
  const sharedRoot = resolve(o.sharedRoot);
  mkdirSync(sharedRoot, { recursive: true });
  const connection = await connectQueue(o.url);
  const dispatcher = createQueueDispatcher({ connection, store: o.store, sharedRoot, backend: o.backend });
  return {
    queue: redactQueueUrl(o.url),
    sharedRoot,
    connection,
    dispatcher,
    close: async () => {
      await dispatcher.close();
      connection.disconnect();
    },
  };
}

export { listQueueWorkers };
export { distributedRecord, type DistributedRecord } from './run-record';
