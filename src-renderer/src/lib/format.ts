/**
 * How the workbench writes numbers and names: the same conventions as the CLI's table and
 * the PDF report (accuracy in percent with two decimals, drops in percentage points, metric
 * cells as mean ± std with three significant digits, the mean alone for one suspect).
 */
import type { ApiError, Catalog, CatalogMetric, Result } from '../../../src-shared/contract/api';
import type { AttackRole } from '../../../src-shared/domain/attacks';
import { formatMetricCell, formatNumber, formatTau, percent } from '../../../src-shared/format';

export { formatMetricCell, formatNumber, formatTau, percent };

/** 42 s, 3 min 20 s, 1 h 05 min. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const r = s % 60;
    return r ? `${m} min ${r} s` : `${m} min`;
  }
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return `${h} h ${String(m).padStart(2, '0')} min`;
}

/** A local date and time, minutes precision: 2026-11-30 14:03. */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * Metric labels come from the registries on the main side, through the catalog the app
 * loads at start (the renderer cannot import the engine): `useCatalogVocabulary` stores
 * them once; until then, and for a metric no registry knows, the id stands for itself.
 */
let metricVocabulary = new Map<string, Pick<CatalogMetric, 'label' | 'shortLabel'>>();
let defenseNames = new Map<string, string>();
let attackVocabulary = new Map<string, { name: string; role: AttackRole; color?: string }>();

export function useCatalogVocabulary(
  catalog: Pick<Catalog, 'defenses' | 'reportedMetrics'> & Partial<Pick<Catalog, 'attacks'>>,
): void {
  metricVocabulary = new Map(
    [...catalog.defenses.flatMap((d) => d.metrics), ...catalog.reportedMetrics].map((m) => [m.id, m]),
  );
  defenseNames = new Map(catalog.defenses.map((d) => [d.id, d.name]));
  attackVocabulary = new Map(
    (catalog.attacks ?? []).map((a) => [a.id, { name: a.name, role: a.role, color: a.color }]),
  );
}

/** An attack's name, e.g. 'RemovalNet' (the id until the catalog is loaded). */
export function attackName(id: string): string {
  return attackVocabulary.get(id)?.name ?? id;
}

/** An attack's colour in every chart (the catalog's, the same in every run); undefined before the catalog. */
export function attackColor(id: string): string | undefined {
  return attackVocabulary.get(id)?.color;
}

/** An attack's role; an attack the catalog does not know counts as a modification baseline. */
export function attackRole(id: string): AttackRole {
  return attackVocabulary.get(id)?.role ?? 'modification';
}

/** A defence's paper name, e.g. 'DeepJudge' (the id until the catalog is loaded). */
export function defenseName(id: string): string {
  return defenseNames.get(id) ?? id;
}

/** A metric's full name, e.g. 'DeepJudge LOD'. */
export function metricLabel(id: string): string {
  return metricVocabulary.get(id)?.label ?? id;
}

/** A metric's name for narrow tables: LOD, LAD, ZEST L2, ZEST cos, DDV, MR. */
export function metricShortLabel(id: string): string {
  return metricVocabulary.get(id)?.shortLabel ?? id;
}

/** An API error as one line: the message and, when there is one, its hint. */
export function errorText(e: ApiError | null | undefined): string {
  if (!e) return '';
  const message = e.message.replace(/[.\s]+$/, '');
  return e.hint ? `${message}. ${e.hint}` : `${message}.`;
}

/** An exception (a transport failure, not a Result) as an ApiError. */
export function toApiError(err: unknown, hint = ''): ApiError {
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'CLIENT', message, hint };
}

export const STATUS_LABELS: Record<string, string> = {
  pending: 'Pending',
  running: 'Running',
  paused: 'Paused',
  cancelled: 'Cancelled',
  failed: 'Failed',
  completed: 'Completed',
  done: 'Done',
};

/** Awaits an API call; a thrown transport error (server gone, IPC failure) becomes a Result error. */
export async function settle<T>(p: Promise<Result<T>>): Promise<Result<T>> {
  try {
    return await p;
  } catch (err) {
    return {
      ok: false,
      error: toApiError(
        err,
        'The connection to the workbench engine failed: check that it still runs, then try again.',
      ),
    };
  }
}
