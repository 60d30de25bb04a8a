/**
 * The workers of a distributed run, as its jobs recorded them: a running job's progress
 * names the worker that runs it, a finished job the worker that finished it. Read from the
 * store alone, so `serve`, the app and `runs show` list them without reaching the queue.
 */
import type { WorkerView } from '../../../src-shared/contract/api';
import type { JobRecord } from '../../store/types';

interface WorkerRef {
  id?: unknown;
  host?: unknown;
  backend?: unknown;
  version?: unknown;
}

function ref(v: unknown): Required<{ [K in keyof WorkerRef]: string }> | undefined {
  const w = v as WorkerRef | null | undefined;
  if (!w || typeof w.id !== 'string') return undefined;
  const text = (x: unknown) => (typeof x === 'string' ? x : '');
  return { id: w.id, host: text(w.host), backend: text(w.backend), version: text(w.version) };
}

export function runWorkers(jobs: readonly JobRecord[]): WorkerView[] {
  const byId = new Map<string, WorkerView>();
  const seen = (w: ReturnType<typeof ref>): WorkerView | undefined => {
    if (!w) return undefined;
    const view = byId.get(w.id) ?? { ...w, current: null, done: 0 };
    byId.set(w.id, view);
    return view;
  };
  for (const j of jobs) {
    if (j.status === 'done') {
      const w = seen(ref(j.ranOn));
      if (w) w.done += 1;
    } else if (j.status === 'running') {
      const w = seen(ref((j.progress as { worker?: unknown } | null)?.worker));
      if (w) w.current = j.label;
    }
  }
  return [...byId.values()].sort((a, b) => a.host.localeCompare(b.host) || a.id.localeCompare(b.id));
}
