/**
 * Stored threshold calibrations: tau per metric with its rule, the reference models it
 * came from (seed, accuracy), their values, and any degenerate tau (every reference reached
 * the same value, so the metric cannot separate anything and does not vote).
 */
import type { ApiError, AuditClient, CalibrationSummary } from '../../../src-shared/contract/api';
import { settle } from './format';

export type CalibrationsClient = Pick<AuditClient, 'listCalibrations'>;

export class CalibrationsState {
  readonly client: CalibrationsClient;

  list = $state.raw<CalibrationSummary[]>([]);
  loaded = $state(false);
  loading = $state(false);
  error = $state.raw<ApiError | null>(null);
  selectedId = $state<string | null>(null);

  constructor(client: CalibrationsClient) {
    this.client = client;
  }

  selected = $derived(this.list.find((c) => c.id === this.selectedId) ?? this.list[0] ?? null);

  /** Calibrations with at least one degenerate tau. */
  degenerateCount = $derived(this.list.filter((c) => c.metrics.some((m) => m.degenerate)).length);

  async load(): Promise<void> {
    this.loading = true;
    const r = await settle(this.client.listCalibrations());
    this.loading = false;
    this.loaded = true;
    if (!r.ok) {
      this.error = r.error;
      return;
    }
    this.error = null;
    this.list = [...r.value].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    if (this.selectedId && !this.list.some((c) => c.id === this.selectedId)) this.selectedId = null;
  }

  select(id: string): void {
    this.selectedId = id;
  }
}
