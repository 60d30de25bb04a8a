/** `run --json` / `runs show` and the report: the evasion frontier read from a stored run (no audit is run; the records are written by hand). */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatRunTable, runFrontier, runTableJson } from '../../src-main/cli/commands/runs';
import { collectReportData } from '../../src-main/report/data';
import { runJson } from '../../src-main/report/exports';
import { chartFigures } from '../../src-main/report/figures';
import { reportHtml } from '../../src-main/report/html';
import { loadResultsTable } from '../../src-main/runner/results';
import { openStore } from '../../src-main/store';
import { parseAuditSpec, type AuditSpec } from '../../src-shared/audit/spec';
import { suspect } from '../store/fixtures';
import { useTempDirs } from '../store/helpers';

const { dir, track } = useTempDirs();

function frontierSpec(withFrontier: boolean): AuditSpec {
  const r = parseAuditSpec({
    version: 1,
    victim: { model: 'victim' },
    data: { train: 'data' },
    scenarios: [{ id: 'ltd10', kind: 'ltd', fraction: 0.1 }],
    defenses: [{ id: 'deepjudge' }, { id: 'modeldiff' }],
    calibration: { references: 2 },
    attacks: [{ name: 'removalnet', label: 'RemovalNet', seeds: [1], iterations: 200 }],
    ...(withFrontier
      ? {
          frontier: {
            grids: [{ target: 'attack:RemovalNet', param: 'beta', values: [0.5, 2], seeds: [1, 2, 3] }],
            iterations: true,
          },
        }
      : {}),
  });
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.spec;
}

/** A run with a calibration (DeepJudge's LOD, ModelDiff's DDV) and three suspects per frontier value. */
function storedRun(withFrontier = true) {
  const store = track(openStore(path.join(dir(), 'audit.db')));
  const spec = frontierSpec(withFrontier);
  const run = store.createRun({ name: 'f', spec, specHash: 'h', backend: 'wasm', versions: {} });
  store.insertJobs(run.id, [{ key: 'calibrate', kind: 'calibrate', label: 'c', deps: [], payload: null, weight: 1 }]);
  store.updateJob(run.id, 'calibrate', {
    status: 'done',
    result: {
      file: '/c.json',
      victimHash: 'v',
      metrics: [
        { id: 'deepjudge.lod', kind: 'distance', tau: 1, degenerate: false },
        { id: 'modeldiff.ddv', kind: 'similarity', tau: 0.5, degenerate: false },
      ],
    },
  });
  if (!withFrontier) return { store, spec, runId: run.id };
  for (const [beta, lod, accuracy] of [
    [0.5, 0.2, 0.84],
    [2, 3, 0.8],
  ] as const) {
    const rowId = `frontier-removalnet-beta-${beta}`;
    for (const seed of [1, 2, 3]) {
      const key = `attack:${rowId}:ltd10:${seed}`;
      const value = (metricId: string, v: number, flagged: boolean, iteration: number | null = null) => ({
        iteration,
        metricId,
        value: v,
        tau: null,
        flagged,
        normalized: null,
      });
      store.recordSuspect(
        suspect(run.id, key, { rowId, scenario: 'ltd10', seed, accuracy, victimAccuracy: 0.85, label: rowId }),
        [
          value('deepjudge.lod', lod, lod < 1),
          value('modeldiff.ddv', 0.9, true),
          // At iteration 100 of beta 0.5, DeepJudge already misses them.
          value('deepjudge.lod', beta === 0.5 ? 5 : lod, false, 100),
          value('modeldiff.ddv', 0.9, true, 100),
          value('fidelity.accuracy', 0.83, false, 100),
        ],
        [],
        [],
      );
    }
  }
  return { store, spec, runId: run.id };
}

describe('the frontier in the run output', () => {
  it('adds a frontier key and one sentence per defence when the spec plans a frontier', () => {
    const { store, spec, runId } = storedRun();
    const table = loadResultsTable(store, runId);
    const frontier = runFrontier(store, spec, table);
    const json = runTableJson(table, frontier) as { frontier: NonNullable<typeof frontier> };
    expect(json.frontier.sentences.map((s) => s.text)).toEqual([
      'DeepJudge stops recognising RemovalNet surrogates at a 2.0-point drop (beta 0.5, iteration 100).',
      'ModelDiff still recognises RemovalNet surrogates at every point of the beta grid, up to a 5.0-point drop.',
    ]);
    const dj = json.frontier.grids[0].defenses[0];
    expect(dj.points.map((p) => [p.value, p.rate])).toEqual([
      [0.5, 1],
      [2, 0],
    ]);
    expect(dj.iterations.map((p) => [p.value, p.iteration, p.rate])).toEqual([
      [0.5, 100, 0],
      [2, 100, 0],
    ]);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    const text = formatRunTable(table, frontier);
    expect(text).toContain('evasion frontier (recognition at or below 20% over at least 3 judged seeds):');
    expect(text).toContain('  DeepJudge stops recognising RemovalNet surrogates');
  });

  it('leaves the output as it was without a frontier block', () => {
    const { store, spec, runId } = storedRun(false);
    const table = loadResultsTable(store, runId);
    expect(runFrontier(store, spec, table)).toBeNull();
    expect(Object.keys(runTableJson(table, null))).toEqual(['runId', 'status', 'rows']);
    expect(formatRunTable(table, null)).not.toContain('frontier');
  });
});

describe('the frontier in the report', () => {
  it('opens the report: the sentences, then one figure per grid, numbered before the other figures', async () => {
    const { store, runId } = storedRun();
    const data = await collectReportData(store, runId);
    expect(data.frontier?.sentences).toHaveLength(2);
    const figures = chartFigures(data);
    expect(figures.figures[0].id).toBe('frontier-1');
    const html = reportHtml(data, figures);
    const frontierAt = html.indexOf('<h2>Evasion frontier</h2>');
    expect(frontierAt).toBeGreaterThan(0);
    expect(frontierAt).toBeLessThan(html.indexOf('<h2>1. Findings</h2>'));
    const section = html.slice(frontierAt, html.indexOf('<h2>1. Findings</h2>'));
    expect(section).toContain('DeepJudge stops recognising RemovalNet surrogates at a 2.0-point drop');
    expect(section).toContain('<svg');
    expect(section).toMatch(/Figure 1\b/);
    const json = runJson(data) as { frontier?: { sentences: unknown[] } };
    expect(json.frontier?.sentences).toHaveLength(2);
  });

  it('is absent from a report whose spec has no frontier block', async () => {
    const { store, runId } = storedRun(false);
    const data = await collectReportData(store, runId);
    expect(data.frontier).toBeNull();
    expect(reportHtml(data, chartFigures(data))).not.toContain('Evasion frontier');
  });
});
