import { describe, expect, it } from 'vitest';
import { CalibrationsState } from '../../src-renderer/src/lib/calibrations.svelte';
import { HistoryState, compareRuns, filterRuns } from '../../src-renderer/src/lib/history.svelte';
import { detail, err, fakeClient, ok, summary } from './fixtures';

const RUNS = [
  summary('r-1', 'smoke', 'completed', '2026-11-30T09:00:00Z'),
  summary('r-2', 'Demo audit', 'running', '2026-11-30T11:00:00Z'),
  summary('r-3', 'demo rerun', 'failed', '2026-11-30T10:00:00Z'),
];

describe('history filtering', () => {
  it('filters by status and by name or id, case-insensitively', () => {
    expect(filterRuns(RUNS, 'all', '').map((r) => r.id)).toEqual(['r-1', 'r-2', 'r-3']);
    expect(filterRuns(RUNS, 'all', 'DEMO').map((r) => r.id)).toEqual(['r-2', 'r-3']);
    expect(filterRuns(RUNS, 'failed', 'demo').map((r) => r.id)).toEqual(['r-3']);
    expect(filterRuns(RUNS, 'completed', 'demo')).toEqual([]);
    expect(filterRuns(RUNS, 'all', 'r-1').map((r) => r.id)).toEqual(['r-1']);
  });

  it('matches rows of N tables, with deltas against A and differing verdicts', () => {
    const a = detail('r-1', { done: true, finetuneDerived: true }).table.rows;
    const b = detail('r-2', { done: true, finetuneDerived: false }).table.rows;
    const c = b.map((r) =>
      r.fidelity ? { ...r, fidelity: { ...r.fidelity, accuracy: r.fidelity.accuracy - 0.02 } } : r,
    );
    const rows = compareRuns([a, b, c]);
    expect(rows.map((r) => [r.label, r.scenario, r.differs, r.comparable])).toEqual([
      ['finetune', 'ltd2', true, true],
      ['negative', '-', false, true],
    ]);
    expect(rows[0].deltas[0]).toBeNull();
    expect(rows[0].deltas[1]).toBeCloseTo(0, 12);
    expect(rows[0].deltas[2]).toBeCloseTo(-0.02, 12);
    expect(rows[0].cells.map((x) => x?.ownership)).toEqual(['Yes (2/2)', 'No (0/2)', 'No (0/2)']);
    // A run without the row: a null cell, no delta, and nothing to disagree with.
    const missing = compareRuns([a, b.slice(1)]).find((r) => r.label === 'finetune')!;
    expect(missing).toMatchObject({ differs: false, comparable: false, deltas: [null, null] });
    expect(missing.cells[1]).toBeNull();
  });

  it('a run with no verdicts compares nothing (no "same verdicts")', () => {
    const a = detail('r-1', { done: true }).table.rows;
    const failed = detail('r-2', { done: false }).table.rows.map((r) => ({
      ...r,
      ownership: { derived: 0, total: 0, verdict: 'pending' as const, label: '-' },
    }));
    expect(compareRuns([a, failed]).filter((r) => r.comparable)).toEqual([]);
  });
});

describe('HistoryState', () => {
  it('lists runs newest first, with counts per status, and filters as you type', async () => {
    const h = new HistoryState(fakeClient({ listRuns: async () => ok(RUNS) }));
    await h.load();
    expect(h.runs.map((r) => r.id)).toEqual(['r-2', 'r-3', 'r-1']);
    expect(h.counts).toEqual({ all: 3, completed: 1, running: 1, failed: 1 });
    h.query = 'demo';
    expect(h.filtered.map((r) => r.id)).toEqual(['r-2', 'r-3']);
    h.status = 'running';
    expect(h.filtered.map((r) => r.id)).toEqual(['r-2']);
  });

  it('shows a listing error', async () => {
    const h = new HistoryState(
      fakeClient({ listRuns: async () => err('STORE', 'The database is locked', 'Close other copies of the app.') }),
    );
    await h.load();
    expect(h.error).toEqual({
      code: 'STORE',
      message: 'The database is locked',
      hint: 'Close other copies of the app.',
    });
    expect(h.loaded).toBe(true);
  });

  it('picks two to six runs for comparison, in pick order, and loads every table', async () => {
    const client = fakeClient({
      listRuns: async () => ok(RUNS),
      getRun: async (i) => ok(detail(i.runId, { done: true, finetuneDerived: i.runId === 'r-1' })),
    });
    const h = new HistoryState(client);
    await h.load();
    h.toggleCompare('r-1');
    expect(h.canCompare).toBe(false);
    expect(await h.compare()).toBe(false);
    h.toggleCompare('r-2');
    h.toggleCompare('r-3');
    expect(h.compareIds).toEqual(['r-1', 'r-2', 'r-3']);
    expect(await h.compare()).toBe(true);
    expect(h.comparing?.map((d) => d.run.id)).toEqual(['r-1', 'r-2', 'r-3']);
    expect(h.comparing?.[0].table.rows[0].ownership.label).toBe('Yes (2/2)');
    h.toggleCompare('r-1');
    expect(h.comparing).toBeNull();
    expect(h.compareIds).toEqual(['r-2', 'r-3']);
    // A pick beyond six replaces the oldest.
    for (const id of ['a', 'b', 'c', 'd', 'e']) h.toggleCompare(id);
    expect(h.compareIds).toEqual(['r-3', 'a', 'b', 'c', 'd', 'e']);
  });

  it('reports a comparison that cannot load', async () => {
    const h = new HistoryState(
      fakeClient({
        listRuns: async () => ok(RUNS),
        getRun: async (i) =>
          i.runId === 'r-2' ? err('RUN_NOT_FOUND', 'No run with id r-2', 'Refresh the list.') : ok(detail(i.runId)),
      }),
    );
    await h.load();
    h.toggleCompare('r-1');
    h.toggleCompare('r-2');
    expect(await h.compare()).toBe(false);
    expect(h.compareError?.code).toBe('RUN_NOT_FOUND');
  });

  it('deletes only after confirmation, then reloads', async () => {
    let runs = [...RUNS];
    const client = fakeClient({
      listRuns: async () => ok(runs),
      deleteRun: async (i) => {
        runs = runs.filter((r) => r.id !== i.runId);
        return ok(null);
      },
    });
    const h = new HistoryState(client);
    await h.load();
    h.toggleCompare('r-3');
    h.requestDelete('r-3');
    expect(h.pendingDelete?.id).toBe('r-3');
    h.cancelDelete();
    expect(h.pendingDelete).toBeNull();
    expect(client.calls.some((c) => c.method === 'deleteRun')).toBe(false);

    h.requestDelete('r-3');
    h.deleteFiles = false;
    expect(await h.confirmDelete()).toBe(true);
    expect(client.calls.find((c) => c.method === 'deleteRun')?.input).toEqual({ runId: 'r-3', files: false });
    expect(h.runs.map((r) => r.id)).toEqual(['r-2', 'r-1']);
    expect(h.compareIds).toEqual([]);
    expect(h.pendingDelete).toBeNull();
  });

  it('keeps the confirmation open with the error when deletion fails', async () => {
    const h = new HistoryState(
      fakeClient({
        listRuns: async () => ok(RUNS),
        deleteRun: async () => err('RUN_ACTIVE', 'The run is still running', 'Pause or cancel it first.'),
      }),
    );
    await h.load();
    h.requestDelete('r-2');
    expect(await h.confirmDelete()).toBe(false);
    expect(h.pendingDelete?.id).toBe('r-2');
    expect(h.deleteError?.hint).toBe('Pause or cancel it first.');
  });
});

describe('CalibrationsState', () => {
  it('lists calibrations newest first, selects the first, counts degenerate ones', async () => {
    const cal = (id: string, createdAt: string, degenerate: boolean) => ({
      id,
      createdAt,
      file: `/cal/${id}.json`,
      runId: 'r-1',
      references: [{ path: '/ref/0', seed: 10000, testAccuracy: 0.63 }],
      metrics: [{ id: 'ipguard.mr', kind: 'similarity', tau: 0.4, degenerate, rule: 'paper', values: [0.4, 0.4] }],
    });
    const c = new CalibrationsState(
      fakeClient({
        listCalibrations: async () =>
          ok([cal('c-1', '2026-11-30T09:00:00Z', true), cal('c-2', '2026-11-30T10:00:00Z', false)]),
      }),
    );
    await c.load();
    expect(c.list.map((x) => x.id)).toEqual(['c-2', 'c-1']);
    expect(c.selected?.id).toBe('c-2');
    c.select('c-1');
    expect(c.selected?.id).toBe('c-1');
    expect(c.degenerateCount).toBe(1);
  });
});
