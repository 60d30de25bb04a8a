/**
 * The run monitor's jobs as the screen lists them: one record per job, folded from the
 * runner's events and the stored run's job views. Pure (no DOM, no runes).
 */
import type { JobView } from '../../../../src-shared/contract/api';
import type { JobKind } from '../../../../src-shared/domain/states';

export interface LiveJob {
  key: string;
  label: string;
  kind: JobKind;
  status: JobView['status'];
  attempt: number;
  stage: string | null;
  iteration: number | null;
  total: number | null;
  values: Record<string, number>;
  error: string | null;
  seconds: number | null;
}

export { isLossKey } from '../../../../src-shared/domain/losses';

/** A job's own fraction done: 1 when done, iteration/total while running. */
export function jobFraction(j: Pick<LiveJob, 'status' | 'iteration' | 'total'>): number {
  if (j.status === 'done') return 1;
  if (j.status !== 'running' || !j.total || j.iteration === null) return 0;
  return Math.min(1, Math.max(0, j.iteration / j.total));
}

export function isTerminalJob(s: JobView['status']): boolean {
  return s === 'done' || s === 'failed' || s === 'cancelled';
}

/** A job first heard of in an event (events carry the job's kind). */
export function blankJob(key: string, kind: JobKind, label: string): LiveJob {
  return {
    key,
    label,
    kind,
    status: 'pending',
    attempt: 0,
    stage: null,
    iteration: null,
    total: null,
    values: {},
    error: null,
    seconds: null,
  };
}

/**
 * The stored run's job views merged into the live jobs: the store's order and figures, the
 * events' newer progress, and a finished status that a view read just before kept.
 */
export function mergeJobViews(
  live: Readonly<Record<string, LiveJob>>,
  liveOrder: readonly string[],
  views: readonly JobView[],
): { jobs: Record<string, LiveJob>; order: string[] } {
  const jobs = { ...live };
  const order = views.map((j) => j.key);
  for (const view of views) {
    const prev = jobs[view.key];
    const stale = prev && isTerminalJob(prev.status) && !isTerminalJob(view.status);
    const p = view.progress;
    jobs[view.key] = {
      key: view.key,
      label: view.label,
      kind: view.kind,
      status: stale ? prev.status : view.status,
      attempt: Math.max(view.attempts, prev?.attempt ?? 0),
      stage: prev?.stage ?? p?.stage ?? null,
      iteration: prev?.iteration ?? p?.iteration ?? null,
      total: prev?.total ?? p?.total ?? null,
      values: { ...(p?.values ?? {}), ...(prev?.values ?? {}) },
      error: view.error ?? prev?.error ?? null,
      seconds: view.seconds,
    };
  }
  for (const k of liveOrder) if (!order.includes(k)) order.push(k);
  return { jobs, order };
}

/** Adds a point, replacing one at the same iteration (a resumed job repeats some). */
export function appendPoint(points: [number, number][], iteration: number, value: number): [number, number][] {
  const last = points[points.length - 1];
  if (last && last[0] === iteration) return [...points.slice(0, -1), [iteration, value]];
  if (last && last[0] > iteration) return [...points.filter((p) => p[0] < iteration), [iteration, value]];
  return [...points, [iteration, value]];
}
