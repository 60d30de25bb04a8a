import { afterEach, describe, expect, it, vi } from 'vitest';
import { RunMonitorState } from '../../src-renderer/src/lib/monitor.svelte';
import { isLossKey, jobFraction } from '../../src-renderer/src/lib/monitor/jobs';
import { useCatalogVocabulary } from '../../src-renderer/src/lib/format';
import { catalog, detail, err, fakeClient, ok } from './fixtures';

const RUN = 'r-20261130-100000-abcd';

function progress(
  key: string,
  iteration: number,
  total: number,
  values: Record<string, number>,
  extra: { done?: number; total?: number; eta?: number | null } = {},
) {
  return {
    type: 'progress' as const,
    runId: RUN,
    key,
    kind: 'attack' as const,
    label: `label of ${key}`,
    event: { stage: 'finetune', iteration, total, values },
    done: extra.done ?? 1,
    total: extra.total ?? 3,
    etaSeconds: extra.eta ?? 30,
  };
}

// Metric labels come from the catalog, as in the app.
useCatalogVocabulary(catalog());

afterEach(() => {
  vi.useRealTimers();
});

describe('monitor helpers', () => {
  it('classifies progress values', () => {
    expect(['loss', 'kl', 'ce', 'feat', 'distillLoss'].every(isLossKey)).toBe(true);
    expect(['lr', 'fidelity', 'accuracy', 'examplesPerSec'].some(isLossKey)).toBe(false);
    expect(jobFraction({ status: 'running', iteration: 5, total: 20 })).toBe(0.25);
    expect(jobFraction({ status: 'done', iteration: null, total: null })).toBe(1);
    expect(jobFraction({ status: 'pending', iteration: 5, total: 20 })).toBe(0);
  });
});

describe('RunMonitorState', () => {
  it('subscribes before loading the run, and stops listening when disposed', async () => {
    const client = fakeClient({ getRun: async () => ok(detail(RUN)) });
    const m = new RunMonitorState(client, RUN);
    await m.start();
    expect(client.listenerCount()).toBe(1);
    expect(client.calls.map((c) => c.method)).toEqual(['getRun']);
    expect(m.detail?.run.id).toBe(RUN);
    expect(m.jobList.map((j) => j.key)).toEqual(['reference:0', 'attack:finetune:ltd2:1', 'score:finetune:ltd2:1']);
    expect(m.backend).toBe('wasm');
    expect(m.status).toBe('running');
    m.dispose();
    expect(client.listenerCount()).toBe(0);
  });

  it('applies progress: job progress, loss series, live fidelity, overall progress and ETA', async () => {
    let t = 1_000_000;
    const client = fakeClient({ getRun: async () => ok(detail(RUN)) });
    const m = new RunMonitorState(client, RUN, { now: () => t });
    await m.start();
    const key = 'attack:finetune:ltd2:1';
    client.emit(progress(key, 6, 10, { loss: 2.5, accuracy: 0.5, lr: 0.01 }, { eta: 40 }));
    client.emit(progress(key, 8, 10, { loss: 1.5, fidelity: 0.9, agreement: 0.95 }, { eta: 20 }));
    client.emit({ ...progress(key, 9, 10, { loss: 9 }), runId: 'r-other' }); // another run: ignored

    const job = m.jobs[key];
    expect(job).toMatchObject({ status: 'running', iteration: 8, total: 10, stage: 'finetune' });
    expect(m.losses[key]).toEqual({
      loss: [
        [6, 2.5],
        [8, 1.5],
      ],
    });
    expect(m.liveFidelity[key]).toEqual([[8, 0.9]]);
    // 1 job done of 3, the running one at 8/10: (1 + 0.8) / 3
    expect(m.overall).toBeCloseTo(1.8 / 3, 6);
    expect(m.etaLeft(t)).toBe(20);
    t += 5000;
    expect(m.etaLeft(t)).toBe(15);

    const losses = m.lossesChart();
    expect(losses.title).toBe('Losses: label of attack:finetune:ltd2:1');
    expect(losses.series).toEqual([
      {
        name: 'loss',
        points: [
          [6, 2.5],
          [8, 1.5],
        ],
      },
    ]);
    // One colour per attack, from the catalog: the same in every run whatever the row order.
    useCatalogVocabulary({
      ...catalog(),
      attacks: catalog().attacks.map((a) => ({ ...a, color: a.id === 'finetune' ? '#123456' : '#abcdef' })),
    });
    expect(m.fidelityChart().series[0].color).toBe('#123456');
    useCatalogVocabulary(catalog());
    const fid = m.fidelityChart();
    // stored curve points (0, 5) then the live one (8), in percent
    expect(fid.series).toEqual([
      {
        name: 'label of attack:finetune:ltd2:1',
        points: [
          [0, 91],
          [5, 90.5],
          [8, 90],
        ],
      },
    ]);
  });

  it('reloads the run when a job finishes, so the table fills in', async () => {
    vi.useFakeTimers();
    let finished = false;
    const client = fakeClient({
      getRun: async () => ok(finished ? detail(RUN, { done: true }) : detail(RUN, { done: false })),
    });
    const m = new RunMonitorState(client, RUN);
    await m.start();
    expect(m.detail?.table.rows[0].ownership.label).toBe('-');

    finished = true;
    client.emit({
      type: 'job',
      runId: RUN,
      kind: 'score',
      key: 'score:finetune:ltd2:1',
      label: 'score finetune ltd2 seed 1',
      status: 'done',
      attempt: 1,
    });
    client.emit({
      type: 'job',
      runId: RUN,
      kind: 'attack',
      key: 'attack:finetune:ltd2:1',
      label: 'finetune ltd2 seed 1',
      status: 'done',
      attempt: 1,
    });
    expect(m.jobs['score:finetune:ltd2:1'].status).toBe('done');
    await vi.advanceTimersByTimeAsync(500);
    // Both events share one reload.
    expect(client.calls.filter((c) => c.method === 'getRun')).toHaveLength(2);
    expect(m.detail?.table.rows[0].ownership.label).toBe('Yes (2/2)');
    expect(m.jobList.every((j) => j.status === 'done')).toBe(true);
  });

  it('ends on the run event: status, no ETA, a final reload', async () => {
    vi.useFakeTimers();
    const client = fakeClient({ getRun: async () => ok(detail(RUN, { status: 'running' })) });
    const m = new RunMonitorState(client, RUN);
    await m.start();
    client.emit(progress('attack:finetune:ltd2:1', 5, 10, { loss: 1 }, { eta: 12 }));
    expect(m.etaSeconds).toBe(12);
    client.emit({ type: 'run', runId: RUN, status: 'completed', jobs: 3, done: 3 });
    expect(m.status).toBe('completed');
    expect(m.etaSeconds).toBeNull();
    expect(m.active).toBe(false);
    expect(m.overall).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(client.calls.filter((c) => c.method === 'getRun')).toHaveLength(2);
    // A stale read of the store does not undo the final status.
    expect(m.status).toBe('completed');
  });

  it('shows the stored loss curves of a finished run opened later; a streamed series stays', async () => {
    const key = 'attack:finetune:ltd2:1';
    const stored = {
      ...detail(RUN, { status: 'completed', done: true }),
      losses: {
        [key]: {
          loss: [
            [10, 1.2],
            [20, 0.7],
          ] as [number, number][],
        },
        'reference:0': { loss: [[5, 2] as [number, number]] },
      },
    };
    const client = fakeClient({ getRun: async () => ok(stored) });
    const m = new RunMonitorState(client, RUN);
    await m.start();
    expect(m.losses[key]).toEqual({
      loss: [
        [10, 1.2],
        [20, 0.7],
      ],
    });
    expect(m.lossesChart().series.length).toBeGreaterThan(0);
    // A series this window saw stream is not replaced by the stored one.
    client.emit(progress(key, 30, 40, { loss: 0.5 }));
    await m.refresh();
    expect(m.losses[key].loss.at(-1)).toEqual([30, 0.5]);
    expect(m.losses['reference:0']).toEqual({ loss: [[5, 2]] });
  });

  it('keeps a failed job error', async () => {
    const client = fakeClient({ getRun: async () => ok(detail(RUN)) });
    const m = new RunMonitorState(client, RUN);
    await m.start();
    client.emit({
      type: 'job',
      runId: RUN,
      kind: 'attack',
      key: 'attack:finetune:ltd2:1',
      label: 'finetune ltd2 seed 1',
      status: 'failed',
      attempt: 2,
      error: 'TRAINING_DIVERGED: loss became NaN',
    });
    expect(m.jobs['attack:finetune:ltd2:1']).toMatchObject({
      status: 'failed',
      attempt: 2,
      error: 'TRAINING_DIVERGED: loss became NaN',
    });
  });

  it('draws fidelity against normalised distance from the stored checkpoints', async () => {
    const client = fakeClient({ getRun: async () => ok(detail(RUN)) });
    const m = new RunMonitorState(client, RUN);
    await m.start();
    expect(m.trajectoryMetrics).toEqual(['deepjudge.lod']);
    const t = m.trajectoryChart();
    expect(t).toMatchObject({ metricId: 'deepjudge.lod', metricLabel: 'DeepJudge LOD', kind: 'distance' });
    expect(t?.series).toEqual([
      {
        name: 'finetune ltd2 seed 1',
        points: [
          { iteration: 5, fidelity: 0.9, normalized: 0.0137 },
          { iteration: 10, fidelity: 0.91, normalized: 0.0082 },
        ],
      },
    ]);
  });

  it('pauses, cancels, resumes and exports through the API, showing errors with their hint', async () => {
    const client = fakeClient({
      getRun: async () => ok(detail(RUN)),
      pauseRun: async () => ok(null),
      cancelRun: async () => err('NOT_RUNNING', 'The run is not running', 'Resume it first.'),
      resumeRun: async () => ok({ runId: RUN }),
      exportReport: async () => ok({ path: '/home/runs/r/report.pdf' }),
    });
    const m = new RunMonitorState(client, RUN);
    await m.start();
    expect(await m.pause()).toBe(true);
    expect(await m.cancel()).toBe(false);
    expect(m.actionError).toEqual({ code: 'NOT_RUNNING', message: 'The run is not running', hint: 'Resume it first.' });
    expect(await m.resume()).toBe(true);
    expect(m.actionError).toBeNull();
    expect(await m.exportReport('pdf')).toBe('/home/runs/r/report.pdf');
    expect(m.exported).toEqual({ format: 'pdf', path: '/home/runs/r/report.pdf' });
    expect(client.calls.filter((c) => c.method !== 'getRun')).toEqual([
      { method: 'pauseRun', input: { runId: RUN } },
      { method: 'cancelRun', input: { runId: RUN } },
      { method: 'resumeRun', input: { runId: RUN } },
      { method: 'exportReport', input: { runId: RUN, format: 'pdf' } },
    ]);
  });

  it('desktop: saves the report where the Save dialog chose, keeps the last export on cancel, shows it in its folder', async () => {
    let answer: { path: string } | null = { path: '/home/me/audit.pdf' };
    const client = fakeClient({
      getRun: async () => ok(detail(RUN)),
      saveReportAs: async () => ok(answer),
      showInFolder: async ({ path }: { path: string }) =>
        path === '/home/me/audit.pdf' ? ok(null) : err('REPORT_NOT_FOUND', 'gone', 'Export it again.'),
    });
    const m = new RunMonitorState(client, RUN, { desktop: true });
    await m.start();
    expect(m.desktop).toBe(true);
    m.exportFormat = 'html';
    expect(await m.saveReportAs()).toBe('/home/me/audit.pdf');
    expect(m.exported).toEqual({ format: 'html', path: '/home/me/audit.pdf' });
    await m.showInFolder();
    expect(m.actionError).toBeNull();
    answer = null; // the dialog cancelled
    expect(await m.saveReportAs('pdf')).toBeNull();
    expect(m.exported).toEqual({ format: 'html', path: '/home/me/audit.pdf' });
    expect(m.actionError).toBeNull();
    expect(client.calls.filter((c) => c.method !== 'getRun')).toEqual([
      { method: 'saveReportAs', input: { runId: RUN, format: 'html' } },
      { method: 'showInFolder', input: { runId: RUN, path: '/home/me/audit.pdf' } },
      { method: 'saveReportAs', input: { runId: RUN, format: 'pdf' } },
    ]);
  });

  it('knows a running run that no process drives (resume, not pause)', async () => {
    const d = detail(RUN, { status: 'running' });
    d.run.active = false;
    const m = new RunMonitorState(fakeClient({ getRun: async () => ok(d) }), RUN);
    await m.start();
    expect(m.active).toBe(true);
    expect(m.orphaned).toBe(true);
  });

  it('shows a load error, and a transport failure as an error instead of a crash', async () => {
    const client = fakeClient({ getRun: async () => Promise.reject(new Error('socket hang up')) });
    const m = new RunMonitorState(client, RUN);
    await m.start();
    expect(m.loadError?.message).toBe('socket hang up');
    expect(m.loadError?.hint).toContain('try again');
  });
});
