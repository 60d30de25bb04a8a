/** How a distributed run is recorded with the run in the store (`runs.distributed`, JSON). */
import type { ArtifactRef } from './protocol';

export interface DistributedRecord {
  queue: string;
  shared: string;
  /** The spec's inputs (victim, data) as published to the shared location, with their hashes. */
  inputs: ArtifactRef[];
}

export function distributedRecord(value: unknown): DistributedRecord | undefined {
  const v = value as Partial<DistributedRecord> | null | undefined;
  return v && typeof v.queue === 'string' && typeof v.shared === 'string'
    ? { queue: v.queue, shared: v.shared, inputs: Array.isArray(v.inputs) ? v.inputs : [] }
    : undefined;
}
