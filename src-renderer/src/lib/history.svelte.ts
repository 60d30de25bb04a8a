/**
 * The run history: the stored runs, filtered by status and name as you type, two of them
 * picked for a side-by-side comparison of their tables, and deletion behind a confirmation.
 */
import type { ResultRow, RunStatus } from '../../../src-shared/audit/results';
import type { ApiError, AuditClient, RunDetail, RunSummary } from '../../../src-shared/contract/api';
import { settle } from './format';

export type HistoryClient = Pick<AuditClient, 'listRuns' | 'getRun' | 'deleteRun'>;

export type StatusFilter = RunStatus | 'all';

/** Runs whose status matches and whose name or id contains the query (case-insensitive). */
export function filterRuns(runs: readonly RunSummary[], status: StatusFilter, query: string): RunSummary[] {
  const q = query.trim().toLowerCase();
  return runs.filter(
    (r) =>
      (status === 'all' || r.status === status) &&
      (!q || r.name.toLowerCase().includes(q) || r.id.toLowerCase().includes(q)),
  );
}

/** Rows of two tables matched by attack label and scenario, with whether their verdicts differ. */
export function compareRows(
  a: readonly ResultRow[],
  b: readonly ResultRow[],
): {
  key: string;
  label: string;
  scenario: string;
  left: ResultRow | null;
  right: ResultRow | null;
  differs: boolean;
}[] {
  const key = (r: ResultRow): string => `${r.label}\u0000${r.scenario}`;
  const keys: string[] = [];
  for (const r of [...a, ...b]) if (!keys.includes(key(r))) keys.push(key(r));
  return keys.map((k) => {
    const left = a.find((r) => key(r) === k) ?? null;
    const right = b.find((r) => key(r) === k) ?? null;
    const verdict = (r: ResultRow | null): string => (r ? r.ownership.label.split(' ')[0] : '');
    const [label, scenario] = k.split('\u0000');
    return {
      key: k,
      label,
      scenario,
      left,
      right,
      differs:
        !!left && !!right && left.ownership.total > 0 && right.ownership.total > 0 && verdict(left) !== verdict(right),
    };
  });
}

export class HistoryState {
  readonly client: HistoryClient;

  runs = $state.raw<RunSummary[]>([]);
  loaded = $state(false);
  loading = $state(false);
  error = $state.raw<ApiError | null>(null);

  status = $state<StatusFilter>('all');
  query = $state('');

  /** Up to two run ids picked for comparison, in the order picked. */
  compareIds = $state<string[]>([]);
  comparing = $state.raw<{ left: RunDetail; right: RunDetail } | null>(null);
  compareError = $state.raw<ApiError | null>(null);
  compareLoading = $state(false);

  pendingDelete = $state.raw<RunSummary | null>(null);
  deleteFiles = $state(true);
  deleting = $state(false);
  deleteError = $state.raw<ApiError | null>(null);

  constructor(client: HistoryClient) {
    this.client = client;
  }

  filtered = $derived(filterRuns(this.runs, this.status, this.query));

  /** Counts per status for the filter's labels. */
  counts = $derived.by(() => {
    const c: Record<string, number> = { all: this.runs.length };
    for (const r of this.runs) c[r.status] = (c[r.status] ?? 0) + 1;
    return c;
  });

  async load(): Promise<void> {
    this.loading = true;
    const r = await settle(this.client.listRuns({}));
    this.loading = false;
    this.loaded = true;
    if (!r.ok) {
      this.error = r.error;
      return;
    }
    this.error = null;
    this.runs = [...r.value].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    // Picks of runs that no longer exist fall away.
    this.compareIds = this.compareIds.filter((id) => this.runs.some((x) => x.id === id));
  }

  isPicked(id: string): boolean {
    return this.compareIds.includes(id);
  }

  /** Picks or unpicks a run for comparison; a third pick replaces the older one. */
  toggleCompare(id: string): void {
    if (this.compareIds.includes(id)) this.compareIds = this.compareIds.filter((x) => x !== id);
    else this.compareIds = [...this.compareIds, id].slice(-2);
    this.comparing = null;
  }

  get canCompare(): boolean {
    return this.compareIds.length === 2;
  }

  async compare(): Promise<boolean> {
    if (!this.canCompare) return false;
    const [a, b] = this.compareIds;
    this.compareLoading = true;
    this.compareError = null;
    const [ra, rb] = await Promise.all([
      settle(this.client.getRun({ runId: a })),
      settle(this.client.getRun({ runId: b })),
    ]);
    this.compareLoading = false;
    if (!ra.ok || !rb.ok) {
      this.compareError = !ra.ok ? ra.error : (rb as { ok: false; error: ApiError }).error;
      return false;
    }
    this.comparing = { left: ra.value, right: rb.value };
    return true;
  }

  closeCompare(): void {
    this.comparing = null;
  }

  requestDelete(id: string): void {
    this.pendingDelete = this.runs.find((r) => r.id === id) ?? null;
    this.deleteError = null;
  }

  cancelDelete(): void {
    this.pendingDelete = null;
    this.deleteError = null;
  }

  async confirmDelete(): Promise<boolean> {
    const run = this.pendingDelete;
    if (!run) return false;
    this.deleting = true;
    const r = await settle(this.client.deleteRun({ runId: run.id, files: this.deleteFiles }));
    this.deleting = false;
    if (!r.ok) {
      this.deleteError = r.error;
      return false;
    }
    this.pendingDelete = null;
    this.compareIds = this.compareIds.filter((x) => x !== run.id);
    if (this.comparing && (this.comparing.left.run.id === run.id || this.comparing.right.run.id === run.id))
      this.comparing = null;
    await this.load();
    return true;
  }
}
