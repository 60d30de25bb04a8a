/**
 * The answer first: for each defence, how many surrogates of each attack it still
 * recognises and at what fidelity drop, and how many independent models it wrongly claims.
 * The run page and the report's first page both open with it, before Table 1.
 *
 * Colours carry one meaning everywhere: `proven` (green) means ownership is still proven
 * (the defence recognises a strict majority of the attack's surrogates, or accuses no
 * independent model); `lost` (red) means it is not (the attack evades the defence, or the
 * defence accuses innocent models). A tie is not recognition, as in the verdict.
 *
 * Pure: it reads the Table-1 rows' per-defence counts (ResultRow.defenses), so the app and
 * the report cannot disagree.
 */
import type { AttackRole } from '../domain/attacks';
import type { ResultsTable } from './results';

export type CellState = 'proven' | 'lost' | 'none';

export interface SummaryCell {
  attack: string;
  role: AttackRole;
  /** Surrogates the defence recognises (for an independent attack: models it accuses). */
  recognised: number;
  /** Suspects the defence could judge (some voting metric had a value). */
  judged: number;
  ties: number;
  /** Mean fidelity drop over the attack's finished suspects (fraction; null without one). */
  drop: number | null;
  state: CellState;
}

export interface DefenceSummary {
  defense: string;
  cells: SummaryCell[];
  /**
   * Over the removal attacks (the audit's subject): 'survives' when the defence recognises a
   * strict majority of their surrogates, 'defeated' when not, 'unjudged' without one.
   */
  removal: 'survives' | 'defeated' | 'unjudged';
  /** Independent models accused / judged (null without negative rows). */
  falseClaims: { accused: number; judged: number } | null;
}

export interface AuditSummary {
  /** Attack ids in table order, removal attacks first, independent ones last. */
  attacks: { id: string; role: AttackRole; suspects: number }[];
  defenses: DefenceSummary[];
}

const ROLE_RANK: Record<AttackRole, number> = { removal: 0, modification: 1, stealing: 2, independent: 3 };

/** Defence ids in the order the table's rows name them (calibration order). */
function defenseIds(table: ResultsTable): string[] {
  const ids: string[] = [];
  for (const row of table.rows) for (const id of Object.keys(row.defenses ?? {})) if (!ids.includes(id)) ids.push(id);
  return ids;
}

function cellState(role: AttackRole, recognised: number, judged: number): CellState {
  if (judged === 0) return 'none';
  if (role === 'independent') return recognised === 0 ? 'proven' : 'lost';
  return recognised * 2 > judged ? 'proven' : 'lost';
}

export function auditSummary(table: ResultsTable, roleOf: (attack: string) => AttackRole): AuditSummary {
  const order: string[] = [];
  for (const r of table.rows) if (!order.includes(r.attack)) order.push(r.attack);
  const attacks = order
    .map((id, i) => ({ id, role: roleOf(id), i }))
    .sort((a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role] || a.i - b.i)
    .map(({ id, role }) => ({
      id,
      role,
      suspects: table.rows.filter((r) => r.attack === id).reduce((n, r) => n + r.suspects, 0),
    }));
  const defenses = defenseIds(table).map((defense): DefenceSummary => {
    const cells = attacks.map(({ id, role }): SummaryCell => {
      const rows = table.rows.filter((r) => r.attack === id);
      let recognised = 0;
      let judged = 0;
      let ties = 0;
      for (const r of rows) {
        const d = r.defenses?.[defense];
        if (!d) continue;
        recognised += d.recognised;
        judged += d.judged;
        ties += d.ties;
      }
      const withFidelity = rows.filter((r) => r.fidelity && r.suspects > 0);
      const n = withFidelity.reduce((a, r) => a + r.suspects, 0);
      const drop = n ? withFidelity.reduce((a, r) => a + r.fidelity!.drop * r.suspects, 0) / n : null;
      return { attack: id, role, recognised, judged, ties, drop, state: cellState(role, recognised, judged) };
    });
    const removal = cells.filter((c) => c.role === 'removal');
    const rk = removal.reduce((a, c) => a + c.recognised, 0);
    const rn = removal.reduce((a, c) => a + c.judged, 0);
    const negative = cells.filter((c) => c.role === 'independent');
    const nj = negative.reduce((a, c) => a + c.judged, 0);
    return {
      defense,
      cells,
      removal: rn === 0 ? 'unjudged' : rk * 2 > rn ? 'survives' : 'defeated',
      falseClaims: nj ? { accused: negative.reduce((a, c) => a + c.recognised, 0), judged: nj } : null,
    };
  });
  return { attacks, defenses };
}

/** Percentage points with one decimal, never "-0.0". */
function points(fraction: number): string {
  const p = Math.round(fraction * 1000) / 10;
  return (Object.is(p, -0) ? 0 : p).toFixed(1);
}

/** "recognises 3 of 3 at a 1.2-point drop" / "accuses 1 of 10" / "could not judge any". */
export function cellText(cell: SummaryCell): string {
  if (cell.judged === 0) return 'not judged';
  const ties = cell.ties ? ` (${cell.ties} ${cell.ties === 1 ? 'tie' : 'ties'})` : '';
  if (cell.role === 'independent') return `accuses ${cell.recognised} of ${cell.judged}${ties}`;
  const drop = cell.drop === null ? '' : ` at a ${points(Math.max(0, cell.drop))}-point drop`;
  return `recognises ${cell.recognised} of ${cell.judged}${ties}${drop}`;
}

/**
 * One sentence per defence, the headline: "DeepJudge: RemovalNet defeats it (0 of 3
 * surrogates recognised, 1.2-point drop); it accuses 0 of 5 independent models."
 */
export function defenceHeadline(d: DefenceSummary, name: string, attackName: (id: string) => string): string {
  const removal = d.cells.filter((c) => c.role === 'removal' && c.judged > 0);
  const parts: string[] = [];
  for (const c of removal) {
    const drop = c.drop === null ? '' : `, ${points(Math.max(0, c.drop))}-point drop`;
    parts.push(
      c.state === 'proven'
        ? `still proves ownership of ${attackName(c.attack)} surrogates (${c.recognised} of ${c.judged} recognised${drop})`
        : `${attackName(c.attack)} defeats it (${c.recognised} of ${c.judged} recognised${drop})`,
    );
  }
  if (!removal.length) parts.push('no removal attack has been judged yet');
  const claims = d.falseClaims
    ? `; it accuses ${d.falseClaims.accused} of ${d.falseClaims.judged} independent ${d.falseClaims.judged === 1 ? 'model' : 'models'}`
    : '';
  return `${name}: ${parts.join('; ')}${claims}.`;
}
