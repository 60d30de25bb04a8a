/**
 * The ownership verdict of a row (the paper's Table 1 cell): "Yes (k/N)" when a strict
 * majority of the row's N suspects were judged derived from the victim, "No (k/N)"
 * otherwise, and pending while none has been judged. Code branches on `verdict`; the
 * label is for people.
 */
export const VERDICTS = ['derived', 'not-derived', 'pending'] as const;
export type Verdict = (typeof VERDICTS)[number];

export function ownershipVerdict(derived: number, total: number): Verdict {
  if (total === 0) return 'pending';
  return derived * 2 > total ? 'derived' : 'not-derived';
}

/** The paper's cell: "Yes (k/N)" when k * 2 > N, else "No (k/N)"; '-' when N = 0. */
export function ownershipLabel(derived: number, total: number): string {
  const verdict = ownershipVerdict(derived, total);
  if (verdict === 'pending') return '-';
  return `${verdict === 'derived' ? 'Yes' : 'No'} (${derived}/${total})`;
}
