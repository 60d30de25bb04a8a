/**
 * End to end through the browser mode: `ownership-audit serve` on a fresh data folder,
 * Debian's Chromium driven by playwright-core through the whole wizard on the smoke
 * preset to a finished audit; the verdict table on screen must equal the stored results
 * (fetched through the API with the token); then the run opens from History, two runs are
 * compared and one is deleted behind its confirmation, and the calibration shows.
 *
 * Screenshots of every screen (1280x800) go to tmp/e2e-screenshots, or to docs/screenshots
 * with SCREENSHOTS=docs (how the README's pictures are refreshed).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsTable } from '../../src-shared/audit/results';
import type { CalibrationSummary, RunDetail, RunSummary } from '../../src-shared/contract/api';
import { CHROMIUM, ROOT } from './env';
import { launchPage, ServeProcess, sidewaysOverflow } from './serve';
import { STEP_CEILING_MS } from '../helpers/ceilings';

const HAS_CHROMIUM = existsSync(CHROMIUM);
const SHOTS =
  process.env.SCREENSHOTS === 'docs' ? join(ROOT, 'docs', 'screenshots') : join(ROOT, 'tmp', 'e2e-screenshots');
const VIEWPORT = { width: 1280, height: 800 };

let serve: ServeProcess;
let home = '';
let url = '';
let origin = '';
let token = '';
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];
let runId = '';

const api = <T>(method: string, input?: unknown): Promise<T> => serve.api<T>(method, input);

async function shot(name: string): Promise<void> {
  // Let charts and images settle; the caret would blink into the picture otherwise.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur?.());
  await page.waitForTimeout(250);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function startServer(port = 0): Promise<void> {
  await serve.start(port);
  ({ url, origin, token } = serve);
}

const stopServer = (): Promise<void> => serve.stop();

/** The verdict table as shown: per row its cells' text. */
async function shownTable(): Promise<{
  tau: Record<string, string>;
  rows: {
    rowId: string;
    scenario: string;
    suspects: string;
    accuracy: string;
    drop: string;
    ownership: string;
    cells: Record<string, { value: string; flag: string }>;
  }[];
}> {
  return page.$eval('table.verdict', (t) => {
    const tau: Record<string, string> = {};
    for (const td of t.querySelectorAll<HTMLElement>('tr.tau td[data-metric]'))
      tau[td.dataset.metric as string] = (td.textContent ?? '').trim();
    const rows = [...t.querySelectorAll<HTMLElement>('tbody tr[data-row-id]')].map((tr) => {
      const text = (sel: string) => (tr.querySelector(sel)?.textContent ?? '').trim();
      const cells: Record<string, { value: string; flag: string }> = {};
      for (const td of tr.querySelectorAll<HTMLElement>('td[data-metric]'))
        cells[td.dataset.metric as string] = {
          value: (td.querySelector('.value')?.textContent ?? '').trim(),
          flag: (td.querySelector('.flag')?.textContent ?? '').trim(),
        };
      return {
        rowId: tr.dataset.rowId as string,
        scenario: tr.dataset.scenario as string,
        suspects: text('[data-field="suspects"]'),
        accuracy: text('[data-field="accuracy"]'),
        drop: text('[data-field="drop"]'),
        ownership: text('[data-field="ownership"]'),
        cells,
      };
    });
    return { tau, rows };
  });
}

/** Three significant digits on screen: equal within half a unit of the third digit. */
function close(shown: string, stored: number): boolean {
  const x = Number(shown);
  if (!Number.isFinite(x)) return false;
  if (stored === 0) return x === 0;
  return Math.abs(x - stored) <= Math.abs(stored) * 0.0051 + 1e-12;
}

function expectTableEqualsStored(shown: Awaited<ReturnType<typeof shownTable>>, table: ResultsTable): void {
  expect(table.rows.length).toBeGreaterThan(0);
  for (const m of table.metrics) {
    const cell = shown.tau[m.id];
    if (m.tau === null) expect(cell).toBe('-');
    else expect(close(cell.replace('!', ''), m.tau), `tau of ${m.id}: shown ${cell}, stored ${m.tau}`).toBe(true);
    expect(cell.endsWith('!')).toBe(m.degenerate);
  }
  expect(shown.rows.map((r) => `${r.rowId}|${r.scenario}`)).toEqual(table.rows.map((r) => `${r.rowId}|${r.scenario}`));
  table.rows.forEach((row, i) => {
    const s = shown.rows[i];
    const where = `row ${row.label} ${row.scenario}`;
    expect(s.suspects, where).toBe(String(row.suspects));
    expect(s.ownership, where).toBe(row.ownership.label);
    expect(row.fidelity, where).not.toBeNull();
    expect(
      Math.abs(Number(s.accuracy) - row.fidelity!.accuracy * 100),
      `${where} accuracy ${s.accuracy}`,
    ).toBeLessThanOrEqual(0.005 + 1e-9);
    expect(Math.abs(Number(s.drop) - row.fidelity!.drop * 100), `${where} drop ${s.drop}`).toBeLessThanOrEqual(
      0.005 + 1e-9,
    );
    for (const m of table.metrics) {
      const v = row.metrics[m.id];
      const cell = s.cells[m.id];
      if (!v) {
        expect(cell.value, `${where} ${m.id}`).toBe('n/a');
        continue;
      }
      const [mean, std] = cell.value.split('±').map((x) => x.trim());
      expect(close(mean, v.mean), `${where} ${m.id}: shown ${cell.value}, stored mean ${v.mean}`).toBe(true);
      if (v.n >= 2) expect(close(std, v.std), `${where} ${m.id}: shown ${cell.value}, stored std ${v.std}`).toBe(true);
      else expect(std).toBeUndefined();
      expect(cell.flag, `${where} ${m.id}`).toBe(v.tau === null ? '' : `flagged ${v.flagged}/${v.n}`);
    }
  });
}

const title = HAS_CHROMIUM
  ? 'workbench in the browser (serve + Chromium)'
  : `workbench in the browser: SKIPPED because ${CHROMIUM} is absent (apt-get install -y chromium)`;

describe.skipIf(!HAS_CHROMIUM)(title, () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    home = mkdtempSync(join(tmpdir(), 'oa-e2e-'));
    serve = new ServeProcess(home);
    await startServer();
    ({ browser, page } = await launchPage(VIEWPORT, pageErrors));
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('runs the whole wizard on the smoke preset to a finished audit', async () => {
    await page.goto(url);
    await page.getByRole('heading', { name: 'New audit' }).waitFor();
    // The token leaves the address bar once read.
    expect(page.url()).not.toContain('token=');
    expect(await page.locator('[data-field="engine-backend"]').textContent()).toBeTruthy();

    // (1) victim: the demo model's summary
    await page.getByText('Test accuracy', { exact: true }).waitFor();
    await shot('wizard-1-victim');
    await page.getByRole('button', { name: 'Smoke preset' }).click();
    await page.getByRole('button', { name: 'Next: Data' }).click();

    // (2) data: previews with sample images and class counts
    await page.getByRole('heading', { name: '2. Data' }).waitFor();
    await page.locator('section[aria-label="Test set"] img').first().waitFor();
    await page.locator('section[aria-label^="Substitute ltd2"] img').first().waitFor();
    expect(await page.locator('section[aria-label="Test set"] ul.counts li').count()).toBe(10);
    await shot('wizard-2-data');
    await page.getByRole('button', { name: 'Next: Defences' }).click();

    // (3) defences with a parameter form open
    await page.getByRole('heading', { name: '3. Defences' }).waitFor();
    await page.locator('details summary').first().click();
    expect(await page.getByLabel('fuzz steps').inputValue()).toBe('5');
    await shot('wizard-3-defences');
    await page.getByRole('button', { name: 'Next: Attacks' }).click();

    // (4) attacks with the estimate of the active backend
    await page.getByRole('heading', { name: '4. Attacks' }).waitFor();
    await page.locator('section[aria-label="Estimate"] [data-field="jobs"]').waitFor();
    expect(await page.locator('section[aria-label="Estimate"] [data-field="jobs"]').textContent()).toBe('9');
    await shot('wizard-4-attacks');
    await page.getByRole('button', { name: 'Next: Review' }).click();

    // (5) review and start
    await page.getByRole('heading', { name: '5. Review' }).waitFor();
    await page.getByText('No problems: the audit is ready to start.').waitFor();
    const spec = JSON.parse(await page.getByLabel('Audit spec JSON').inputValue()) as { name: string };
    expect(spec.name).toBe('smoke');
    await shot('wizard-5-review');
    await page.getByRole('button', { name: 'Start audit' }).click();

    // The monitor, live.
    await page.locator('[data-field="run-status"]').waitFor();
    runId = ((await page.locator('.monitor header code').first().textContent()) ?? '').trim();
    expect(runId).toMatch(/^r-/);
    await page.waitForFunction(
      () =>
        document.querySelectorAll('li.job.done').length >= 3 &&
        !document.querySelector('section[aria-label="Losses"] .empty-chart'),
      undefined,
      { timeout: STEP_CEILING_MS },
    );
    await shot('monitor-running');
    await page.waitForFunction(
      () => document.querySelector('[data-field="run-status"]')?.textContent === 'Completed',
      undefined,
      { timeout: STEP_CEILING_MS },
    );
    // The table reloads after the last job.
    await page.waitForFunction(
      () =>
        ![...document.querySelectorAll('table.verdict [data-field="ownership"]')].some(
          (e) => e.textContent?.trim() === '-',
        ),
      undefined,
      { timeout: 120_000 },
    );
    await shot('monitor-completed');
    // The answer first: the summary, then the grid and Table 1, then the jobs and charts.
    await page.locator('section[aria-label="Summary"] li[data-defense]').first().waitFor();
    const order = await page.evaluate(() => {
      const top = (sel: string): number => document.querySelector(sel)?.getBoundingClientRect().top ?? -1;
      return {
        summary: top('section[aria-label="Summary"]'),
        table: top('section[aria-label="Verdict table"]'),
        jobs: top('section[aria-label="Jobs"]'),
        losses: top('section[aria-label="Losses"]'),
      };
    });
    expect(order.summary).toBeGreaterThan(0);
    expect(order.summary).toBeLessThan(order.table);
    expect(order.table).toBeLessThan(order.jobs);
    expect(order.table).toBeLessThan(order.losses);
    expect(await page.locator('table[aria-label="Defence by attack"] td[data-state]').count()).toBeGreaterThan(0);
    // The run has its own address.
    expect(new URL(page.url()).hash).toBe(`#/runs/${runId}`);
    await page.locator('section[aria-label="Verdict table"]').scrollIntoViewIfNeeded();
    await shot('monitor-table');
  });

  it('shows a verdict table equal to the stored results', async () => {
    expect(runId).toMatch(/^r-/);
    const stored = await api<RunDetail>('getRun', { runId });
    expect(stored.run.status).toBe('completed');
    expect(stored.table.rows.map((r) => r.ownership.label)).toEqual(['Yes (1/1)', 'Yes (1/1)', 'No (0/1)']);
    expectTableEqualsStored(await shownTable(), stored.table);
    expect(await page.locator('[data-field="backend"]').textContent()).toBe(stored.run.backend);
  });

  it('exports the report as a download in the browser, and says where the engine keeps its copy', async () => {
    await page.locator('#export-format').selectOption('pdf');
    const downloading = page.waitForEvent('download', { timeout: STEP_CEILING_MS });
    await page.getByRole('button', { name: 'Export report' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe(`report-${runId}.pdf`);
    const saved = join(home, 'downloaded.pdf');
    await download.saveAs(saved);
    expect(statSync(saved).size).toBeGreaterThan(1000);
    const path = (
      (await page.locator('[data-field="export-path"]').textContent({ timeout: STEP_CEILING_MS })) ?? ''
    ).trim();
    expect(path.endsWith('.pdf')).toBe(true);
    expect(statSync(path).size).toBe(statSync(saved).size);
  });

  it('opens a run link in a new tab with its stored loss curves; Back returns to the previous screen', async () => {
    const link = (await page.locator('[data-field="run-link"]').getAttribute('href')) ?? '';
    expect(link).toContain(`#/runs/${runId}?token=`);
    const tab = await browser!.newPage({ viewport: VIEWPORT });
    await tab.goto(link);
    await tab.waitForFunction((id) => document.querySelector('.monitor header code')?.textContent === id, runId);
    // The token left the address bar; the route stayed.
    expect(new URL(tab.url()).hash).toBe(`#/runs/${runId}`);
    // Curves of a finished run, from the store (this tab never saw them stream).
    await tab.locator('section[aria-label="Losses"] svg, section[aria-label="Losses"] canvas').first().waitFor();
    expect(await tab.locator('section[aria-label="Losses"] .empty-chart').count()).toBe(0);
    await tab.close();

    await page.getByRole('button', { name: 'Calibrations' }).click();
    await page.getByRole('heading', { name: 'Thresholds' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/calibrations');
    await page.goBack();
    await page.waitForFunction((id) => document.querySelector('.monitor header code')?.textContent === id, runId);
    expect(new URL(page.url()).hash).toBe(`#/runs/${runId}`);
  });

  it('refuses block 99 and 1e9 iterations on their fields before a start', async () => {
    await page.getByRole('button', { name: 'New audit' }).click();
    await page.getByRole('heading', { name: 'New audit' }).waitFor();
    await page.getByRole('button', { name: 'Smoke preset' }).click();
    for (const step of ['Data', 'Defences']) await page.getByRole('button', { name: `Next: ${step}` }).click();
    await page.getByRole('heading', { name: '3. Defences' }).waitFor();
    // The parameters sit in a <details> that the form may re-render (catalog and calibrations load
    // after the step shows), so open it until the field stays visible rather than clicking once.
    const blockField = page.locator('#def-deepjudge-block');
    await expect
      .poll(
        async () => {
          if (!(await blockField.isVisible())) await page.locator('details summary').first().click();
          return blockField.isVisible();
        },
        { timeout: 15_000, interval: 300 },
      )
      .toBe(true);
    await blockField.fill('99');
    const blockNote = page.locator('#def-deepjudge-block').locator('xpath=..').locator('[data-note="problem"]');
    await blockNote.waitFor();
    expect(await blockNote.textContent()).toContain('block 99 does not exist');
    expect(await page.getByRole('button', { name: 'Next: Attacks' }).isDisabled()).toBe(true);
    await shot('wizard-semantic-block');
    await page.locator('#def-deepjudge-block').fill('0');
    await page
      .locator('#def-deepjudge-block')
      .locator('xpath=..')
      .locator('[data-note]')
      .waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Next: Attacks' }).click();
    const iterations = page.locator('input[id$="-iter"]').first();
    await iterations.fill('1000000000');
    const iterNote = iterations.locator('xpath=..').locator('[data-note="problem"]');
    await iterNote.waitFor();
    expect(await iterNote.textContent()).toMatch(/more than the 10000000 any job accepts/);
    await shot('wizard-semantic-iterations');
    await iterations.fill('10');
  });

  it('lays every screen out without sideways scrolling at 900x700', async () => {
    await page.setViewportSize({ width: 900, height: 700 });
    try {
      for (const hash of ['#/new', `#/runs/${runId}`, '#/history', '#/calibrations']) {
        await page.evaluate((h) => (window.location.hash = h), hash);
        await page.waitForTimeout(400);
        expect(await sidewaysOverflow(page), hash).toEqual([]);
      }
    } finally {
      await page.setViewportSize(VIEWPORT);
    }
  });

  it('opens the run from History, compares two runs and deletes one after confirming', async () => {
    // A second, cheaper run: the smoke spec with the stored calibration and one attack.
    const calibrations = await api<CalibrationSummary[]>('listCalibrations');
    expect(calibrations).toHaveLength(1);
    const first = await api<RunDetail>('getRun', { runId });
    const second = {
      ...first.run.spec,
      name: 'smoke, FT only',
      calibration: { reuse: calibrations[0].id },
      attacks: [{ name: 'finetune', params: { ratio: 1 }, seeds: [2], iterations: 10 }],
      checkpoints: undefined,
    };
    const { runId: secondId } = await api<{ runId: string }>('startRun', { spec: JSON.parse(JSON.stringify(second)) });

    await page.getByRole('button', { name: 'History' }).click();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    await page.locator(`tr[data-run-id="${runId}"]`).waitFor();
    for (let i = 0; i < 120; i++) {
      const runs = await api<RunSummary[]>('listRuns', {});
      if (runs.find((r) => r.id === secondId)?.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator(`tr[data-run-id="${secondId}"] .badge.completed`).waitFor();

    // The filters.
    await page.getByLabel('Name').fill('FT only');
    expect(await page.locator('tbody tr[data-run-id]').count()).toBe(1);
    await page.getByLabel('Name').fill('');
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No run matches the filters').waitFor();
    await page.getByLabel('Status').selectOption('all');
    expect(await page.locator('tbody tr[data-run-id]').count()).toBe(2);
    await shot('history');

    // Side by side.
    await page.getByLabel(`Pick smoke (${runId}) for comparison`).check();
    await page.getByLabel(`Pick smoke, FT only (${secondId}) for comparison`).check();
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    const compared = page.locator('section[aria-label="Comparison"] table.compared');
    await compared.waitFor();
    // One table: a row per attack row of either run, A and B side by side, B's delta against A.
    const tables = [first.table.rows, (await api<RunDetail>('getRun', { runId: secondId })).table.rows];
    const keys = new Set(tables.flat().map((r) => `${r.label}|${r.scenario}`));
    const shared = [...keys].filter((k) => tables.every((t) => t.some((r) => `${r.label}|${r.scenario}` === k)));
    expect(await compared.locator('tbody tr').count()).toBe(keys.size);
    expect(await compared.locator('td[data-field="delta"]').count()).toBe(keys.size);
    const summaryText = (await page.locator('[data-field="compare-summary"]').textContent())?.trim();
    if (shared.length === 0) expect(summaryText).toBe('no row has a verdict in two runs: nothing to compare yet');
    else expect(summaryText).toMatch(new RegExp(`${shared.length} shared rows?`));
    await page.locator('section[aria-label="Comparison"]').scrollIntoViewIfNeeded();
    await shot('history-compare');
    await page.setViewportSize({ width: 900, height: 700 });
    await page.waitForTimeout(400); // the charts follow the new width
    expect(await sidewaysOverflow(page)).toEqual([]);
    await page.setViewportSize(VIEWPORT);
    await page.evaluate(() => window.scrollTo(0, 0));

    // Delete the second run: cancelling the dialog keeps it, confirming removes it.
    await page.getByRole('button', { name: `Delete smoke, FT only (${secondId})` }).click();
    await page.getByRole('alertdialog').waitFor();
    await shot('history-delete');
    await page.keyboard.press('Escape');
    expect(await page.getByRole('alertdialog').count()).toBe(0);
    expect((await api<RunSummary[]>('listRuns', {})).some((r) => r.id === secondId)).toBe(true);
    await page.getByRole('button', { name: `Delete smoke, FT only (${secondId})` }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete run' }).click();
    await page.locator(`tr[data-run-id="${secondId}"]`).waitFor({ state: 'detached' });
    expect((await api<RunSummary[]>('listRuns', {})).map((r) => r.id)).toEqual([runId]);

    // Open the first run from History: the monitor shows its stored results.
    await page.getByRole('button', { name: `Open smoke (${runId})` }).click();
    await page.waitForFunction((id) => document.querySelector('.monitor header code')?.textContent === id, runId);
    await page.locator('table.verdict tr[data-row-id]').first().waitFor();
    const stored = await api<RunDetail>('getRun', { runId });
    expectTableEqualsStored(await shownTable(), stored.table);
  });

  it('shows the calibration with tau per metric and its reference models', async () => {
    await page.getByRole('button', { name: 'Calibrations' }).click();
    await page.getByRole('heading', { name: 'Thresholds' }).waitFor();
    const [cal] = await api<CalibrationSummary[]>('listCalibrations');
    for (const m of cal.metrics) {
      const tau = ((await page.locator(`tr[data-metric="${m.id}"] td.num strong`).textContent()) ?? '').trim();
      if (m.tau === null) expect(tau).toBe('-');
      else expect(close(tau, m.tau), `${m.id}: ${tau} vs ${m.tau}`).toBe(true);
      expect(await page.locator(`tr[data-metric="${m.id}"] .badge`).count()).toBe(m.degenerate ? 1 : 0);
    }
    expect(await page.locator('h3:has-text("Reference models") + .scroll-x table tbody tr').count()).toBe(
      cal.references.length,
    );
    await shot('calibrations');
  });

  it('freezes the screen under a banner when serve stops, and picks up the new token after a restart', async () => {
    const port = Number(new URL(origin).port);
    const oldToken = token;
    await stopServer();
    await page.locator('[data-field="connection-lost"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('.screen[inert]').count()).toBe(1);
    await shot('connection-lost');
    await startServer(port);
    expect(token).not.toBe(oldToken);
    // The new token pasted into this tab's address: adopted (the page reloads with it).
    await page.evaluate((t) => (window.location.hash = `#/history?token=${t}`), token);
    await page.getByRole('heading', { name: 'History' }).waitFor({ timeout: 30_000 });
    await page.locator('[data-field="connection-lost"]').waitFor({ state: 'detached', timeout: 30_000 });
    expect(new URL(page.url()).hash).toBe('#/history'); // The refused reconnections while serve was down are the browser's own console lines, not page errors.
    for (let i = pageErrors.length - 1; i >= 0; i--)
      if (/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(pageErrors[i])) pageErrors.splice(i, 1);
  });

  it('explains a missing token instead of showing a broken page', async () => {
    const other = await browser!.newPage({ viewport: VIEWPORT });
    await other.goto(`${origin}/`);
    await other.getByRole('heading', { name: 'Access token missing' }).waitFor();
    await other.screenshot({ path: join(SHOTS, 'error-no-token.png') });
    await other.close();
    expect(pageErrors).toEqual([]);
  });
});
