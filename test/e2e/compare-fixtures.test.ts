/**
 * Comparing three runs in the browser, built straight into a store (no training): the report
 * fixture's finished run three times, B with a RemovalNet that keeps every fingerprint and a
 * lower accuracy, C with a weaker KnockoffNets. What the History screen shows must equal the
 * stored tables: every run's verdict per row, each run's accuracy delta against A, the rows
 * whose verdicts differ highlighted, and every run's fidelity curves in one chart.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultRow } from '../../src-shared/audit/results';
import type { RunDetail, RunSummary } from '../../src-shared/contract/api';
import { buildFixture, type FixtureOptions } from '../report/fixture';
import { CHROMIUM, ROOT } from './env';
import { launchPage, ServeProcess, sidewaysOverflow } from './serve';

const HAS_CHROMIUM = existsSync(CHROMIUM);
const SHOTS =
  process.env.SCREENSHOTS === 'docs' ? join(ROOT, 'docs', 'screenshots') : join(ROOT, 'tmp', 'e2e-screenshots');

/** A, B, C: the names are what the History screen's pick boxes are found by. */
const RUNS: FixtureOptions[] = (
  [
    { name: 'fixture A baseline' },
    {
      name: 'fixture B stronger removal',
      overrides: {
        removalnet: {
          accuracy: [0.861, 0.859],
          values: {
            'deepjudge.lod': [0.7, 0.75],
            'deepjudge.lad': [1.4, 1.5],
            'zest.l2': [33.0, 33.4],
            'zest.cosine': [0.04, 0.041],
            'modeldiff.ddv': [0.97, 0.96],
            'ipguard.mr': [0.5, 0.52],
          },
        },
      },
    },
    { name: 'fixture C weaker knockoff', overrides: { knockoff: { accuracy: [0.7904] } } },
  ] as FixtureOptions[]
).map((o) => ({ ...o, surrogate: false }));

/** '+1.20' / '-0.35' percentage points, as the comparison writes a delta. */
function points(d: number): string {
  const p = Math.round(d * 10000) / 100;
  return `${p > 0 ? '+' : ''}${(Object.is(p, -0) ? 0 : p).toFixed(2)}`;
}

const title = HAS_CHROMIUM
  ? 'comparing three stored runs in the browser'
  : `comparing three stored runs: SKIPPED because ${CHROMIUM} is absent (apt-get install -y chromium)`;

describe.skipIf(!HAS_CHROMIUM)(title, () => {
  let home = '';
  let serve: ServeProcess;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    home = mkdtempSync(join(tmpdir(), 'oa-e2e-compare-'));
    for (const opts of RUNS) (await buildFixture(home, opts)).store.close();
    serve = new ServeProcess(home);
    await serve.start();
    ({ browser, page } = await launchPage({ width: 1280, height: 800 }, pageErrors));
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('shows A, B and C side by side with deltas against A, the differing verdicts and the overlaid curves', async () => {
    const runs = await serve.api<RunSummary[]>('listRuns', {});
    const ids = RUNS.map((o) => runs.find((r) => r.name === o.name)!.id);
    const tables = await Promise.all(
      ids.map(async (runId) => (await serve.api<RunDetail>('getRun', { runId })).table.rows),
    );

    await page.goto(serve.url.replace('/#token', '/#/history?token'));
    await page.getByRole('heading', { name: 'History' }).waitFor();
    for (const [i, opts] of RUNS.entries())
      await page.getByLabel(`Pick ${opts.name} (${ids[i]}) for comparison`).check();
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    const compared = page.locator('section[aria-label="Comparison"] table.compared');
    await compared.waitFor();

    // Expected from the stored tables: rows by label and scenario, in A's order.
    const key = (r: ResultRow): string => `${r.label}|${r.scenario}`;
    const keys = [...new Set(tables.flat().map(key))];
    expect(await compared.locator('tbody tr').count()).toBe(keys.length);
    let differing = 0;
    for (const k of keys) {
      const rows = tables.map((t) => t.find((r) => key(r) === k));
      const [label, scenario] = k.split('|');
      const tr = compared.locator(`tbody tr[data-row="${label}"][data-scenario="${scenario}"]`);
      const owned = await tr.locator('td[data-field="ownership"]').allTextContents();
      expect(
        owned.map((s) => s.trim()),
        k,
      ).toEqual(rows.map((r) => r?.ownership.label ?? '-'));
      const deltas = await tr.locator('td[data-field="delta"]').allTextContents();
      const base = rows[0]?.fidelity?.accuracy;
      expect(
        deltas.map((s) => s.trim()),
        k,
      ).toEqual(
        rows.slice(1).map((r) => (base == null || r?.fidelity == null ? '' : points(r.fidelity.accuracy - base))),
      );
      const verdicts = rows.filter((r) => r && r.ownership.total > 0).map((r) => r!.ownership.verdict);
      const differs = verdicts.length >= 2 && verdicts.some((v) => v !== verdicts[0]);
      if (differs) differing++;
      expect(await tr.getAttribute('class'), k).toMatch(differs ? /\bhl\b/ : /^(?!.*\bhl\b)/);
    }
    // B's RemovalNet keeps the fingerprints that A's removes: at least that row differs.
    expect(differing).toBeGreaterThanOrEqual(1);
    expect(await page.locator('[data-field="compare-summary"]').textContent()).toMatch(
      new RegExp(`${differing} of ${keys.length} shared rows with different verdicts`),
    );
    // C's KnockoffNets row: 6 points under A's.
    const knockoffLabel = tables[0].find((r) => r.attack === 'knockoff')!.label;
    const knockoff = compared.locator(`tbody tr[data-row="${knockoffLabel}"] td[data-field="delta"]`).last();
    expect((await knockoff.textContent())?.trim()).toBe(points(0.7904 - 0.8512));

    // Every run's curves in the one chart: A, B and C each with a series per attack row.
    const series = (
      await page.locator('section[aria-label="Comparison"] [data-field="chart-series"] li').allTextContents()
    ).map((s) => s.trim());
    for (const letter of ['A', 'B', 'C'])
      expect(series.filter((s) => s.startsWith(`${letter} · `)).length, letter).toBe(
        series.filter((s) => s.startsWith('A · ')).length,
      );
    expect(series.filter((s) => s.startsWith('A · ')).length).toBeGreaterThanOrEqual(4);

    await page.locator('section[aria-label="Comparison"]').scrollIntoViewIfNeeded();
    await page.waitForTimeout(250);
    await page.screenshot({ path: join(SHOTS, 'history-compare-3.png') });
    await page.setViewportSize({ width: 900, height: 700 });
    await page.waitForTimeout(400);
    expect(await sidewaysOverflow(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
