/**
 * The run history: the stored runs, filtered by status and name as you type, two to six of
 * them picked for a comparison (one table with A/B/... columns and deltas against A, and
 * their fidelity curves overlaid), and deletion behind a confirmation.
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

/** At most this many runs side by side (A, B, C, ...): columns stay readable at 900 px. */
export const MAX_COMPARED = 6;

export interface ComparedCell {
  accuracy: number | null;
  /** Ownership verdict label, e.g. 'Yes (2/2)'; '-' when the row has no verdict yet. */
  ownership: string;
  verdict: 'derived' | 'not-derived' | 'pending';
}

export interface ComparedRow {
  key: string;
  label: string;
  scenario: string;
  /** One cell per compared run (null: the run has no such row). */
  cells: (ComparedCell | null)[];
  /** Accuracy of each run minus run A's, in fractions (null where either is missing; A's own is null). */
  deltas: (number | null)[];
  /** At least two runs have a verdict for the row and they disagree. */
  differs: boolean;
  /** At least two runs have a verdict for the row. */
  comparable: boolean;
}

/**
 * Rows of N tables matched by attack label and scenario: each run's accuracy and verdict,
 * the accuracy delta against the first run (A), and whether the verdicts differ. A row counts
 * as comparable only where two runs reached a verdict: a failed run with no verdict compares
 * nothing, and the summary says so instead of "same verdicts".
 */
export function compareRuns(tables: readonly (readonly ResultRow[])[]): ComparedRow[] {
  const key = (r: ResultRow): string => `${r.label}\u0000${r.scenario}`;
  const keys: string[] = [];
  for (const rows of tables) for (const r of rows) if (!keys.includes(key(r))) keys.push(key(r));
  return keys.map((k) => {
    const rows = tables.map((t) => t.find((r) => key(r) === k) ?? null);
    const cells = rows.map((r): ComparedCell | null =>
      r
        ? {
            accuracy: r.fidelity?.accuracy ?? null,
            ownership: r.ownership.label,
            verdict: r.ownership.total > 0 ? r.ownership.verdict : 'pending',
          }
        : null,
    );
    const base = cells[0]?.accuracy ?? null;
    const deltas = cells.map((c, i) => (i === 0 || base === null || c?.accuracy == null ? null : c.accuracy - base));
    const verdicts = cells.filter((c): c is ComparedCell => !!c && c.verdict !== 'pending').map((c) => c.verdict);
    const [label, scenario] = k.split('\u0000');
    return {
      key: k,
      label,
      scenario,
      cells,
      deltas,
      comparable: verdicts.length >= 2,
      differs: verdicts.length >= 2 && verdicts.some((v) => v !== verdicts[0]),
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

  /** Up to MAX_COMPARED run ids picked for comparison, in the order picked (the first is A). */
  compareIds = $state<string[]>([]);
  /** The compared runs, in pick order. */
  comparing = $state.raw<RunDetail[] | null>(null);
  compareError = $state.raw<ApiError | null>(null);
  compareLoading = $state(false);

  pendingDelete = $state.raw<RunSummary | null>(null);
  deleteFiles = $state(true);
  deleting = $state(false);
  deleteError = $state.raw<ApiError | null>(null);

  /** Told about a deleted run (the app forgets it: no monitor, no Resume for a run that is gone). */
  onDeleted: ((runId: string) => void) | null = null;

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

  /** Picks or unpicks a run for comparison; a pick beyond MAX_COMPARED replaces the oldest. */
  toggleCompare(id: string): void {
    if (this.compareIds.includes(id)) this.compareIds = this.compareIds.filter((x) => x !== id);
    else this.compareIds = [...this.compareIds, id].slice(-MAX_COMPARED);
    this.comparing = null;
  }

  get canCompare(): boolean {
    return this.compareIds.length >= 2;
  }

  async compare(): Promise<boolean> {
    if (!this.canCompare) return false;
    this.compareLoading = true;
    this.compareError = null;
    const results = await Promise.all(this.compareIds.map((runId) => settle(this.client.getRun({ runId }))));
    this.compareLoading = false;
    const failed = results.find((r) => !r.ok);
    if (failed && !failed.ok) {
      this.compareError = failed.error;
      return false;
    }
    this.comparing = results.map((r) => (r as { ok: true; value: RunDetail }).value);
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
    this.onDeleted?.(run.id);
    this.compareIds = this.compareIds.filter((x) => x !== run.id);
    if (this.comparing?.some((d) => d.run.id === run.id)) this.comparing = null;
    await this.load();
    return true;
  }
}
