/**
 * How long a distributed run takes on N workers, modelled from its job graph: an event
 * simulation of exactly what the coordinator and the workers do. When jobs finish, the
 * coordinator enqueues the newly ready ones in the runner's order (scheduler.ts readyJobs)
 * onto one FIFO queue per kind; an idle worker takes the first job of the first non-empty
 * queue in its kind preference. Each job costs its compute time plus a stated transfer and
 * dispatch cost (queue polling, process start, reading inputs from and writing outputs to
 * the shared folder). `bench/distributed.ts` checks the model against measured runs.
 */
import { JOB_KINDS, type JobKind } from '../../../src-shared/domain/states';
import { readyJobs } from '../scheduler';

export interface ModelJob {
  key: string;
  kind: JobKind;
  deps: string[];
  /** Compute seconds on one worker. */
  seconds: number;
  /** What the scheduler orders by (the planner's weight); defaults to `seconds`. */
  weight?: number;
}

export interface ModelOptions {
  workers: number;
  /** Seconds each job adds for dispatch and moving its inputs and outputs. */
  transferSeconds: (job: ModelJob) => number;
  /** Kinds in the workers' preference order (default: every kind, the worker's default order). */
  kinds?: readonly JobKind[];
}

export interface ModelResult {
  makespan: number;
  /** Sum of every job's time (compute + transfer): the makespan on one worker. */
  work: number;
  /** The longest chain of dependent jobs: no number of workers finishes sooner. */
  criticalPath: number;
}

export function modelMakespan(jobs: readonly ModelJob[], opts: ModelOptions): ModelResult {
  const cost = (j: ModelJob) => j.seconds + opts.transferSeconds(j);
  const kinds = opts.kinds ?? JOB_KINDS;
  const byKey = new Map(jobs.map((j) => [j.key, j]));
  const status = new Map<string, 'pending' | 'queued' | 'running' | 'done'>(jobs.map((j) => [j.key, 'pending']));
  const queues = new Map<JobKind, string[]>(kinds.map((k) => [k, []]));
  const finishing: { key: string; at: number }[] = [];
  let idle = opts.workers;
  let now = 0;

  const enqueueReady = () => {
    const view = jobs.map((j) => ({
      key: j.key,
      deps: j.deps,
      weight: j.weight ?? j.seconds,
      status: (status.get(j.key) === 'done' ? 'done' : status.get(j.key) === 'pending' ? 'pending' : 'running') as
        'done' | 'pending' | 'running',
    }));
    for (const r of readyJobs(view, 0, Number.POSITIVE_INFINITY)) {
      status.set(r.key, 'queued');
      queues.get((byKey.get(r.key) as ModelJob).kind)?.push(r.key);
    }
  };
  const takeJobs = () => {
    while (idle > 0) {
      const kind = kinds.find((k) => (queues.get(k) ?? []).length > 0);
      if (!kind) return;
      const key = (queues.get(kind) as string[]).shift() as string;
      status.set(key, 'running');
      idle -= 1;
      finishing.push({ key, at: now + cost(byKey.get(key) as ModelJob) });
    }
  };

  enqueueReady();
  takeJobs();
  while (finishing.length) {
    finishing.sort((a, b) => a.at - b.at || a.key.localeCompare(b.key));
    const next = finishing.shift() as { key: string; at: number };
    now = next.at;
    status.set(next.key, 'done');
    idle += 1;
    enqueueReady();
    takeJobs();
  }
  if ([...status.values()].some((s) => s !== 'done')) throw new Error('The job graph has jobs that can never run');

  const chain = new Map<string, number>();
  const longest = (key: string): number => {
    const known = chain.get(key);
    if (known !== undefined) return known;
    const j = byKey.get(key) as ModelJob;
    const v = cost(j) + Math.max(0, ...j.deps.map(longest));
    chain.set(key, v);
    return v;
  };
  return {
    makespan: now,
    work: jobs.reduce((a, j) => a + cost(j), 0),
    criticalPath: Math.max(0, ...jobs.map((j) => longest(j.key))),
  };
}
