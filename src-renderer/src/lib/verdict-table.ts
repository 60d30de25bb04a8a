/**
 * The Table-1 view of a run's results as the screens show it: a tau row with the
 * thresholds, then one row per attack variant and scenario with accuracy, drop, each
 * metric's mean ± std and how many suspects it flagged, and the ownership verdict
 * "Yes (k/N)" / "No (k/N)". Rows without a finished suspect yet show dashes.
 */
import type { ResultsTable } from '../../../src-shared/audit/results';
import type { Verdict } from '../../../src-shared/domain/verdict';
import { attackRole, defenseName, formatMetricCell, formatTau, metricLabel, metricShortLabel, percent } from './format';

export interface VerdictColumn {
  id: string;
  label: string;
  /** For narrow tables (the comparison): LOD, DDV... */
  short: string;
  /** 'distance ↓' / 'similarity ↑' / '' */
  direction: string;
  tau: string;
  degenerate: boolean;
}

export interface VerdictCell {
  id: string;
  /** 'mean ± std', the mean alone for one suspect, '-' while pending, 'n/a' when not measured. */
  text: string;
  /** 'flagged 1/1' or ''. */
  flagged: string;
  /** Every suspect of the row flagged by this metric. */
  allFlagged: boolean;
  /**
   * What the flags mean for the owner: 'proven' (green) when every suspect of an attack row is
   * flagged, 'lost' (red) when an independent model is flagged (a false claim), '' otherwise.
   */
  tone: '' | 'proven' | 'lost';
}

export interface VerdictRow {
  rowId: string;
  label: string;
  scenario: string;
  suspects: number;
  accuracy: string;
  drop: string;
  cells: VerdictCell[];
  ownership: string;
  verdict: 'yes' | 'no' | 'pending';
  /**
   * The verdict's colour for the owner: green ('proven') when ownership of an attack's
   * surrogate is still proven, or an independent model is rightly called not derived; red
   * ('lost') when an attack evades or an independent model is wrongly claimed.
   */
  tone: 'proven' | 'lost' | 'pending';
  /** The badge's class for that colour: 'yes' (green), 'no' (red), 'pending'. */
  badge: 'yes' | 'no' | 'pending';
  /** A row of independently trained (negative) models. */
  independent: boolean;
  /** Each defence on its own: 'DeepJudge 2/3 (1 tie)'; recognised when most of the row's suspects are. */
  defenses: { id: string; text: string; recognised: boolean; tone: '' | 'proven' | 'lost' }[];
}

export interface VerdictTableView {
  columns: VerdictColumn[];
  rows: VerdictRow[];
  victimAccuracy: string;
  hasDegenerate: boolean;
}

/** The cell's style: yes (derived), no, or pending. */
const VERDICT_VIEW: Record<Verdict, VerdictRow['verdict']> = {
  derived: 'yes',
  'not-derived': 'no',
  pending: 'pending',
};

export function verdictTableView(table: ResultsTable): VerdictTableView {
  const columns = table.metrics.map((m) => ({
    id: m.id,
    label: metricLabel(m.id),
    short: metricShortLabel(m.id),
    direction: m.kind === 'distance' ? 'distance ↓' : m.kind === 'similarity' ? 'similarity ↑' : '',
    tau: formatTau(m.tau),
    degenerate: m.degenerate,
  }));
  const rows = table.rows.map((r): VerdictRow => {
    const independent = attackRole(r.attack) === 'independent';
    const verdict = VERDICT_VIEW[r.ownership.verdict];
    const recognisedTone = (recognised: boolean): 'proven' | 'lost' => (recognised !== independent ? 'proven' : 'lost');
    const tone = verdict === 'pending' ? 'pending' : recognisedTone(verdict === 'yes');
    return {
      rowId: r.rowId,
      label: r.label,
      scenario: r.scenario,
      suspects: r.suspects,
      accuracy: r.fidelity ? percent(r.fidelity.accuracy) : '-',
      drop: r.fidelity ? percent(r.fidelity.drop) : '-',
      cells: table.metrics.map((m) => {
        const v = r.metrics[m.id];
        if (!v) return { id: m.id, text: r.suspects ? 'n/a' : '-', flagged: '', allFlagged: false, tone: '' };
        const allFlagged = v.n > 0 && v.flagged === v.n;
        return {
          id: m.id,
          text: formatMetricCell(v),
          flagged: v.tau === null || m.degenerate ? '' : `flagged ${v.flagged}/${v.n}`,
          allFlagged,
          tone: independent
            ? v.flagged > 0 && !m.degenerate
              ? 'lost'
              : ''
            : allFlagged && !m.degenerate
              ? 'proven'
              : '',
        };
      }),
      ownership: r.ownership.label,
      verdict,
      tone,
      badge: tone === 'proven' ? 'yes' : tone === 'lost' ? 'no' : 'pending',
      independent,
      defenses: Object.entries(r.defenses ?? {}).map(([id, d]) => ({
        id,
        text: `${defenseName(id)} ${d.recognised}/${d.judged}${d.ties ? ` (${d.ties} ${d.ties === 1 ? 'tie' : 'ties'})` : ''}`,
        recognised: d.recognised * 2 > d.judged,
        tone: d.judged === 0 ? '' : recognisedTone(independent ? d.recognised > 0 : d.recognised * 2 > d.judged),
      })),
    };
  });
  return {
    columns,
    rows,
    victimAccuracy: table.victimAccuracy === null ? 'unknown' : `${percent(table.victimAccuracy)} %`,
    hasDegenerate: table.metrics.some((m) => m.degenerate),
  };
}
