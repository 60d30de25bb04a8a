import { describe, expect, it } from 'vitest';
import {
  buildResultsTable,
  formatResultsTable,
  ownershipLabel,
  sampleStd,
  type ResultsInput,
  type SuspectSummary,
} from '../../src-shared/audit/results';

function suspect(
  key: string,
  rowId: string,
  scenario: string,
  accuracy: number,
  derived: boolean | null,
  extra: Partial<SuspectSummary> = {},
): SuspectSummary {
  return {
    key,
    rowId,
    scenario,
    accuracy,
    agreement: accuracy + 0.05,
    victimAccuracy: 0.9,
    derived,
    seconds: 10,
    passes: 1000,
    iterations: 100,
    ...extra,
  };
}

function input(): ResultsInput {
  return {
    runId: 'run-1',
    status: 'completed',
    victimAccuracy: 0.9,
    calibration: [
      { id: 'deepjudge.lod', kind: 'distance', tau: 4, degenerate: false },
      { id: 'ipguard.mr', kind: 'similarity', tau: 0.02, degenerate: true },
    ],
    rows: [
      { rowId: 'ft', attack: 'finetune', label: 'finetune(ratio=0.5)', scenario: 'ltd10' },
      { rowId: 'rn', attack: 'removalnet', label: 'removalnet', scenario: 'ltd10' },
      { rowId: 'neg', attack: 'negative', label: 'negative', scenario: '-' },
      { rowId: 'ft', attack: 'finetune', label: 'finetune(ratio=0.5)', scenario: 'lsd' },
    ],
    suspects: [
      suspect('a1', 'ft', 'ltd10', 0.88, true, { seconds: 10, passes: 100, iterations: 50 }),
      suspect('a2', 'ft', 'ltd10', 0.86, true, { seconds: 20, passes: 300, iterations: 50 }),
      suspect('a3', 'ft', 'ltd10', 0.84, false, { seconds: 30, passes: 200, iterations: 50 }),
      suspect('r1', 'rn', 'ltd10', 0.8, false),
      suspect('r2', 'rn', 'ltd10', 0.7, true),
      suspect('n1', 'neg', '-', 0.85, false),
    ],
    metricValues: [
      { suspectKey: 'a1', metricId: 'deepjudge.lod', value: 1, flagged: true },
      { suspectKey: 'a2', metricId: 'deepjudge.lod', value: 2, flagged: true },
      { suspectKey: 'a3', metricId: 'deepjudge.lod', value: 6, flagged: false },
      // a checkpoint value: not part of the final table
      { suspectKey: 'a3', metricId: 'deepjudge.lod', value: 100, flagged: false, iteration: 10 },
      { suspectKey: 'a1', metricId: 'ipguard.mr', value: 0.5, flagged: true },
      { suspectKey: 'a2', metricId: 'ipguard.mr', value: null, flagged: null },
      { suspectKey: 'r1', metricId: 'deepjudge.lod', value: 5, flagged: false },
      { suspectKey: 'r2', metricId: 'deepjudge.lod', value: 3, flagged: true },
      { suspectKey: 'n1', metricId: 'deepjudge.lod', value: 7, flagged: false },
      { suspectKey: 'n1', metricId: 'zest.l2', value: 40, flagged: null },
      { suspectKey: 'n1', metricId: 'fidelity.accuracy', value: 0.85, flagged: null },
    ],
  };
}

describe('buildResultsTable', () => {
  const table = buildResultsTable(input());
  const row = (rowId: string, scenario: string) =>
    table.rows.find((r) => r.rowId === rowId && r.scenario === scenario)!;

  it('keeps the planned rows in order, rows without suspects included', () => {
    expect(table.rows.map((r) => `${r.rowId}/${r.scenario}`)).toEqual(['ft/ltd10', 'rn/ltd10', 'neg/-', 'ft/lsd']);
    const empty = row('ft', 'lsd');
    expect(empty.suspects).toBe(0);
    expect(empty.metrics).toEqual({});
    expect(empty.fidelity).toBeNull();
    expect(empty.ownership).toEqual({ derived: 0, total: 0, verdict: 'pending', label: '-' });
  });

  it('means, sample stds, flagged counts and tau per metric', () => {
    const ft = row('ft', 'ltd10');
    expect(ft.suspects).toBe(3);
    // lod: 1, 2, 6 -> mean 3, sample variance ((-2)^2 + (-1)^2 + 3^2) / 2 = 7
    expect(ft.metrics['deepjudge.lod'].mean).toBeCloseTo(3, 12);
    expect(ft.metrics['deepjudge.lod'].std).toBeCloseTo(Math.sqrt(7), 12);
    expect(ft.metrics['deepjudge.lod']).toMatchObject({ tau: 4, flagged: 2, n: 3, degenerate: false });
    // mr: only one suspect has a value -> std 0
    expect(ft.metrics['ipguard.mr']).toEqual({ mean: 0.5, std: 0, tau: 0.02, flagged: 1, n: 1, degenerate: true });
    const rn = row('rn', 'ltd10');
    expect(rn.metrics['deepjudge.lod'].mean).toBe(4);
    expect(rn.metrics['deepjudge.lod'].std).toBeCloseTo(Math.SQRT2, 12);
    expect(rn.metrics['ipguard.mr']).toBeUndefined();
  });

  it('fidelity: mean accuracy, its std, and the drop from the victim', () => {
    const ft = row('ft', 'ltd10');
    expect(ft.fidelity!.accuracy).toBeCloseTo(0.86, 12);
    expect(ft.fidelity!.accuracyStd).toBeCloseTo(0.02, 12);
    expect(ft.fidelity!.drop).toBeCloseTo(0.04, 12);
    expect(ft.fidelity!.agreement).toBeCloseTo(0.91, 12);
    expect(row('rn', 'ltd10').fidelity!.drop).toBeCloseTo(0.15, 12);
    expect(ft.compute).toEqual({ seconds: 20, passes: 200, iterations: 50 });
  });

  it('per defence: each suspect judged by its own non-degenerate metrics; the degenerate MR and a metric without a tau do not count', () => {
    // DeepJudge here has one voting metric (LOD): a1, a2 flagged, a3 not.
    expect(row('ft', 'ltd10').defenses).toEqual({ deepjudge: { recognised: 2, ties: 0, judged: 3 } });
    expect(row('rn', 'ltd10').defenses).toEqual({ deepjudge: { recognised: 1, ties: 0, judged: 2 } });
    expect(row('neg', '-').defenses).toEqual({ deepjudge: { recognised: 0, ties: 0, judged: 1 } });
    expect(row('ft', 'lsd').defenses).toEqual({});
  });

  it('per defence: a tie (one of two metrics flags) is counted as a tie, not recognised', () => {
    const i = input();
    i.calibration.push({ id: 'deepjudge.lad', kind: 'distance', tau: 10, degenerate: false });
    i.metricValues.push(
      { suspectKey: 'a1', metricId: 'deepjudge.lad', value: 20, flagged: false }, // LOD flags, LAD not: tie
      { suspectKey: 'a2', metricId: 'deepjudge.lad', value: 5, flagged: true }, // both flag
    );
    const ft = buildResultsTable(i).rows.find((r) => r.rowId === 'ft' && r.scenario === 'ltd10')!;
    // a3 has only LOD (not flagged): judged, not recognised.
    expect(ft.defenses).toEqual({ deepjudge: { recognised: 1, ties: 1, judged: 3 } });
  });

  it('ownership: Yes only for a strict majority', () => {
    expect(row('ft', 'ltd10').ownership).toEqual({ derived: 2, total: 3, verdict: 'derived', label: 'Yes (2/3)' });
    expect(row('rn', 'ltd10').ownership).toEqual({ derived: 1, total: 2, verdict: 'not-derived', label: 'No (1/2)' });
    expect(row('neg', '-').ownership).toEqual({ derived: 0, total: 1, verdict: 'not-derived', label: 'No (0/1)' });
    expect(ownershipLabel(3, 3)).toBe('Yes (3/3)');
    expect(ownershipLabel(0, 0)).toBe('-');
  });

  it('columns: calibration metrics first, then other metrics seen, never fidelity', () => {
    expect(table.metrics.map((m) => m.id)).toEqual(['deepjudge.lod', 'ipguard.mr', 'zest.l2']);
    expect(table.metrics[2]).toEqual({ id: 'zest.l2', kind: null, tau: null, degenerate: false });
    expect(row('neg', '-').metrics['zest.l2']).toEqual({ mean: 40, std: 0, tau: null, flagged: 0, n: 1 });
    expect(row('neg', '-').metrics['fidelity.accuracy']).toBeUndefined();
  });

  it('suspects without a verdict count for fidelity, not for ownership; victim accuracy falls back to the suspects', () => {
    const t = buildResultsTable({
      ...input(),
      victimAccuracy: null,
      suspects: [
        suspect('a1', 'ft', 'ltd10', 0.8, null, { victimAccuracy: 0.9 }),
        suspect('a2', 'ft', 'ltd10', 0.7, true, { victimAccuracy: 0.92 }),
      ],
      metricValues: [],
    });
    expect(t.victimAccuracy).toBeCloseTo(0.91, 12);
    const ft = t.rows[0];
    expect(ft.suspects).toBe(2);
    expect(ft.ownership).toEqual({ derived: 1, total: 1, verdict: 'derived', label: 'Yes (1/1)' });
    expect(ft.fidelity!.drop).toBeCloseTo(0.91 - 0.75, 12);
  });

  it('a non-finite tau becomes null', () => {
    const t = buildResultsTable({
      ...input(),
      calibration: [{ id: 'deepjudge.lod', kind: 'distance', tau: Number.NaN, degenerate: true }],
    });
    expect(t.metrics[0].tau).toBeNull();
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
  });

  it('sampleStd', () => {
    expect(sampleStd([5])).toBe(0);
    expect(sampleStd([])).toBe(0);
    expect(sampleStd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });
});

describe('formatResultsTable', () => {
  it('prints one aligned line per row with tau in the header', () => {
    const text = formatResultsTable(buildResultsTable(input()));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^row\s+scenario\s+acc %\s+drop\s+deepjudge\.lod\s+ipguard\.mr\s+zest\.l2\s+ownership$/);
    expect(lines[1]).toContain('tau 4');
    expect(lines[1]).toContain('tau 0.02!');
    const ft = lines.find((l) => l.startsWith('finetune(ratio=0.5)  ltd10'))!;
    expect(ft).toContain('86.00');
    expect(ft).toContain('4.00');
    expect(ft).toContain('3±2.65');
    expect(ft).toMatch(/Yes \(2\/3\)$/);
    const empty = lines.find((l) => l.startsWith('finetune(ratio=0.5)  lsd'))!;
    expect(empty).toMatch(/-\s+-$/);
    // Fixed width: the ownership column ends at the same place on every row line.
    const rowLines = lines.slice(3, 7);
    expect(new Set(rowLines.map((l) => l.length)).size).toBe(1);
    expect(text).toContain('victim accuracy 90.00 %; status completed');
  });
});
