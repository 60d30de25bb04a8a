import { describe, expect, it } from 'vitest';
import type { ResultRow, ResultsTable } from '../../src-shared/audit/results';
import { auditSummary, cellText, defenceHeadline } from '../../src-shared/audit/summary';
import type { AttackRole } from '../../src-shared/domain/attacks';

const ROLES: Record<string, AttackRole> = {
  finetune: 'modification',
  removalnet: 'removal',
  negative: 'independent',
};

function row(
  attack: string,
  scenario: string,
  suspects: number,
  drop: number,
  defenses: ResultRow['defenses'],
): ResultRow {
  return {
    rowId: attack,
    attack,
    label: attack,
    scenario,
    suspects,
    fidelity: { accuracy: 0.9 - drop, drop, accuracyStd: 0, agreement: 0.9 },
    metrics: {},
    ownership: { derived: 0, total: suspects, verdict: 'not-derived', label: '' },
    defenses,
    compute: { seconds: 1, passes: 1, iterations: 1 },
  };
}

const table: ResultsTable = {
  runId: 'r',
  status: 'completed',
  victimAccuracy: 0.9,
  metrics: [],
  rows: [
    row('finetune', 'ltd', 2, 0.01, {
      deepjudge: { recognised: 2, ties: 0, judged: 2 },
      zest: { recognised: 1, ties: 1, judged: 2 },
    }),
    // Two RemovalNet rows (two scenarios): 3 suspects at a 2-point drop and 1 at a 6-point drop.
    row('removalnet', 'ltd', 3, 0.02, {
      deepjudge: { recognised: 0, ties: 0, judged: 3 },
      zest: { recognised: 3, ties: 0, judged: 3 },
    }),
    row('removalnet', 'lsd', 1, 0.06, {
      deepjudge: { recognised: 1, ties: 0, judged: 1 },
      zest: { recognised: 0, ties: 0, judged: 1 },
    }),
    row('negative', '-', 5, 0.3, {
      deepjudge: { recognised: 0, ties: 0, judged: 5 },
      zest: { recognised: 1, ties: 0, judged: 5 },
    }),
  ],
};

describe('auditSummary (the answer first)', () => {
  const s = auditSummary(table, (id) => ROLES[id]);

  it('orders attacks removal first, independent last, and sums suspects over rows', () => {
    expect(s.attacks.map((a) => [a.id, a.suspects])).toEqual([
      ['removalnet', 4],
      ['finetune', 2],
      ['negative', 5],
    ]);
  });

  it('counts each defence over all rows of an attack, with the suspect-weighted mean drop', () => {
    const dj = s.defenses.find((d) => d.defense === 'deepjudge')!;
    const rn = dj.cells.find((c) => c.attack === 'removalnet')!;
    expect([rn.recognised, rn.judged]).toEqual([1, 4]);
    expect(rn.drop).toBeCloseTo((3 * 0.02 + 0.06) / 4, 12);
    expect(rn.state).toBe('lost');
    expect(dj.removal).toBe('defeated');
    expect(dj.falseClaims).toEqual({ accused: 0, judged: 5 });
    expect(dj.cells.find((c) => c.attack === 'negative')!.state).toBe('proven');
  });

  it('a tie is not recognition; a false claim turns the independent cell red', () => {
    const zest = s.defenses.find((d) => d.defense === 'zest')!;
    const ft = zest.cells.find((c) => c.attack === 'finetune')!;
    expect(ft.state).toBe('lost'); // 1 of 2 with one tie: not a strict majority
    expect(cellText(ft)).toBe('recognises 1 of 2 (1 tie) at a 1.0-point drop');
    expect(zest.removal).toBe('survives'); // 3 of 4
    const neg = zest.cells.find((c) => c.attack === 'negative')!;
    expect(neg.state).toBe('lost');
    expect(cellText(neg)).toBe('accuses 1 of 5');
  });

  it('writes one headline per defence', () => {
    const dj = s.defenses.find((d) => d.defense === 'deepjudge')!;
    expect(defenceHeadline(dj, 'DeepJudge', (id) => (id === 'removalnet' ? 'RemovalNet' : id))).toBe(
      'DeepJudge: RemovalNet defeats it (1 of 4 recognised, 3.0-point drop); it accuses 0 of 5 independent models.',
    );
  });

  it('a defence with no judged suspect is unjudged and its cells are "none"', () => {
    const empty = auditSummary(
      { ...table, rows: [row('removalnet', 'ltd', 0, 0, { deepjudge: { recognised: 0, ties: 0, judged: 0 } })] },
      (id) => ROLES[id],
    );
    expect(empty.defenses[0].removal).toBe('unjudged');
    expect(empty.defenses[0].cells[0].state).toBe('none');
  });
});
