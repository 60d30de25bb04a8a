// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import ErrorNote from '../../src-renderer/src/components/ErrorNote.svelte';
import ParamForm from '../../src-renderer/src/components/ParamForm.svelte';
import RunSummary from '../../src-renderer/src/components/RunSummary.svelte';
import VerdictTable from '../../src-renderer/src/components/VerdictTable.svelte';
import { useCatalogVocabulary } from '../../src-renderer/src/lib/format';
import { WizardState } from '../../src-renderer/src/lib/wizard.svelte';
import { HistoryState } from '../../src-renderer/src/lib/history.svelte';
import History from '../../src-renderer/src/screens/History.svelte';
import WorkersPanel from '../../src-renderer/src/components/WorkersPanel.svelte';
import Wizard from '../../src-renderer/src/screens/Wizard.svelte';
import { catalog, fakeClient, ok, summary, table } from './fixtures';

afterEach(() => cleanup());

function wizard() {
  const client = fakeClient({
    inspectModel: async () =>
      ok({
        path: '/m',
        arch: 'cnn',
        lineage: 'train(cnn)',
        inputShape: [28, 28, 1],
        numClasses: 10,
        blocks: ['block1', 'block2'],
        defaultAttackBlock: 'block2',
        testAccuracy: 0.8992,
        contentHash: 'abcdef0123456789abcdef',
      }),
    checkSpec: async () =>
      ok({ problems: [], estimate: { jobs: 9, workerSeconds: 180, wallSeconds: 92, workers: 2, backend: 'wasm' } }),
    listCalibrations: async () => ok([]),
    previewDataset: async () =>
      ok({
        path: '/d',
        layout: 'idx',
        shape: [28, 28, 1],
        numClasses: 2,
        classNames: ['cat', 'dog'],
        counts: { train: [10, 12], test: [3, 4] },
        samples: [],
      }),
  });
  return { client, w: new WizardState(client, catalog(), { workers: 2 }) };
}

describe('ParamForm', () => {
  it('renders one labelled control per parameter with its default, range and help', () => {
    const { w } = wizard();
    const deepjudge = w.defences.find((d) => d.id === 'deepjudge')!;
    render(ParamForm, { specs: catalog().defenses[0].params, values: deepjudge.params, idPrefix: 'dj' });
    const seeds = screen.getByLabelText('seeds') as HTMLInputElement;
    expect(seeds.type).toBe('number');
    expect(seeds.min).toBe('1');
    expect(seeds.max).toBe('10000');
    expect(seeds.value).toBe('50');
    expect(screen.getByText('default 50, range 1 to 10000')).toBeTruthy();
    expect((screen.getByLabelText('fuzz steps') as HTMLInputElement).value).toBe('100');
    const lad = screen.getByLabelText('lad normalized') as HTMLInputElement;
    expect(lad.type).toBe('checkbox');
    expect(lad.checked).toBe(false);
    expect(seeds.getAttribute('aria-describedby')).toBe('dj-seeds-help');
    expect(document.getElementById('dj-seeds-help')?.textContent).toBe('seeds help');
  });

  it('writes edits into the state and explains an out-of-range value', async () => {
    const { w } = wizard();
    const deepjudge = w.defences.find((d) => d.id === 'deepjudge')!;
    render(ParamForm, { specs: catalog().defenses[0].params, values: deepjudge.params, idPrefix: 'dj' });
    const seeds = screen.getByLabelText('seeds') as HTMLInputElement;
    await fireEvent.input(seeds, { target: { value: '0' } });
    expect(deepjudge.params.seeds).toBe(0);
    expect(seeds.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByRole('alert').textContent).toBe('must be within [1, 10000], got 0');
    expect(w.problems.defences).toEqual(['DeepJudge (LOD, LAD): seeds must be within [1, 10000], got 0.']);
    await fireEvent.click(screen.getByLabelText('lad normalized'));
    expect(deepjudge.params.ladNormalized).toBe(true);
    await fireEvent.input(seeds, { target: { value: '20' } });
    expect(screen.queryByRole('alert')).toBeNull();
    expect(w.specInput.defenses).toContainEqual({ id: 'deepjudge', params: { seeds: 20, ladNormalized: true } });
  });

  it('offers the choices of an enum', () => {
    const { w } = wizard();
    const rn = w.attacks.find((a) => a.name === 'removalnet')!;
    render(ParamForm, { specs: catalog().attacks[0].params, values: rn.params, idPrefix: 'rn' });
    const loss = screen.getByLabelText('loss') as HTMLSelectElement;
    expect([...loss.options].map((o) => o.value)).toEqual(['code', 'paper']);
    expect(loss.value).toBe('code');
  });
});

describe('WorkersPanel', () => {
  it("lists a distributed run's workers: host, backend, the job each runs now and how many it finished", () => {
    render(WorkersPanel, {
      distributed: { queue: 'redis://coordinator:6379/', shared: '/srv/audit' },
      workers: [
        {
          id: 'gpu-1',
          host: 'gpu-box',
          backend: 'tensorflow-gpu',
          version: '0.1.0',
          current: 'removalnet ltd10 seed 2',
          done: 3,
        },
        { id: 'cpu-1', host: 'cpu-box', backend: 'wasm', version: '0.1.0', current: null, done: 5 },
      ],
    });
    const panel = screen.getByRole('region', { name: 'Workers' });
    expect(panel.textContent).toContain('redis://coordinator:6379/');
    const cells = (id: string) => [...panel.querySelectorAll(`tr[data-worker="${id}"] td`)].map((td) => td.textContent);
    expect(cells('gpu-1')).toEqual(['gpu-box', 'tensorflow-gpu', 'removalnet ltd10 seed 2', '3']);
    expect(cells('cpu-1')).toEqual(['cpu-box', 'wasm', 'idle', '5']);
  });

  it('says so when no worker has taken a job yet', () => {
    render(WorkersPanel, { distributed: { queue: 'redis://q:6379/', shared: '/s' }, workers: [] });
    expect(screen.getByRole('region', { name: 'Workers' }).textContent).toContain('No worker has taken a job');
  });
});

describe('VerdictTable', () => {
  it('colours for the owner: green means ownership still proven, for attacks and independent models alike', () => {
    useCatalogVocabulary(catalog());
    render(VerdictTable, { table: table('r-1', { finetuneDerived: false }) });
    const ft = document.querySelector('tr[data-row-id="finetune"]')!;
    // An attack row called not derived: the attack evades, red.
    expect(ft.querySelector('[data-field="ownership"] .badge')?.classList.contains('no')).toBe(true);
    // The negative row called not derived is the right answer: green, not the red of "No".
    const neg = document.querySelector('tr[data-row-id="negative"]')!;
    expect(neg.querySelector('[data-field="ownership"]')?.textContent).toBe('No (0/1)');
    expect(neg.querySelector('[data-field="ownership"] .badge')?.classList.contains('yes')).toBe(true);
    expect(neg.querySelector('[data-field="defenses"] .defense')?.classList.contains('proven')).toBe(true);
    // A degenerate threshold does not vote: no "flagged" under its value.
    expect(ft.querySelector('[data-metric="ipguard.mr"] .flag')).toBeNull();
  });

  it('shows the tau row, mean ± std with flags, accuracy, drop and the verdicts', () => {
    render(VerdictTable, { table: table('r-1'), caption: 'Table 1' });
    const t = screen.getByRole('table', { name: 'Table 1' });
    const rows = within(t).getAllByRole('row');
    expect(rows).toHaveLength(4); // header, tau, two rows
    expect(rows[1].textContent).toContain('tau');
    expect(rows[1].textContent).toContain('3.66');
    expect(rows[1].querySelector('[data-metric="ipguard.mr"]')?.textContent).toBe('0.4!');
    const ft = t.querySelector('tr[data-row-id="finetune"]')!;
    expect(ft.querySelector('[data-field="accuracy"]')?.textContent).toBe('90.00');
    expect(ft.querySelector('[data-field="drop"]')?.textContent).toBe('1.00');
    expect(ft.querySelector('[data-metric="deepjudge.lod"] .value')?.textContent).toBe('0.0317 ± 0.0042');
    expect(ft.querySelector('[data-metric="deepjudge.lod"] .flag')?.textContent).toBe('flagged 2/2');
    expect(ft.querySelector('[data-field="ownership"]')?.textContent).toBe('Yes (2/2)');
    // Each defence on its own; green (recognised) when it recognises most of the row.
    const ftDefence = ft.querySelector('[data-field="defenses"] .defense')!;
    expect(ftDefence.textContent).toMatch(/^(DeepJudge|deepjudge) 2\/2$/);
    expect(ftDefence.classList.contains('recognised')).toBe(true);
    const neg = t.querySelector('tr[data-row-id="negative"]')!;
    expect(neg.querySelector('[data-metric="deepjudge.lod"] .value')?.textContent).toBe('4.14');
    expect(neg.querySelector('[data-metric="deepjudge.lod"] .flag')?.textContent).toBe('flagged 0/1');
    expect(neg.querySelector('[data-metric="ipguard.mr"] .value')?.textContent).toBe('n/a');
    expect(neg.querySelector('[data-field="ownership"]')?.textContent).toBe('No (0/1)');
    expect(neg.querySelector('[data-field="defenses"] .defense')?.classList.contains('recognised')).toBe(false);
    expect(screen.getByText(/degenerate threshold/)).toBeTruthy();
  });

  it('shows dashes for rows still waiting for suspects', () => {
    render(VerdictTable, { table: table('r-1', { done: false }) });
    const ft = document.querySelector('tr[data-row-id="finetune"]')!;
    expect(ft.classList.contains('pending')).toBe(true);
    expect(ft.querySelector('[data-field="accuracy"]')?.textContent).toBe('-');
    expect(ft.querySelector('[data-field="ownership"]')?.textContent).toBe('-');
  });
});

describe('RunSummary', () => {
  it('answers first: one headline per defence and the defence x attack grid', () => {
    useCatalogVocabulary(catalog());
    render(RunSummary, { table: table('r-1') });
    const headline = document.querySelector('li[data-defense="deepjudge"]')!;
    expect(headline.textContent).toContain('accuses 0 of 1 independent model');
    const grid = screen.getByRole('table', { name: 'Defence by attack' });
    const ft = grid.querySelector('tr[data-defense="deepjudge"] td[data-attack="finetune"]')!;
    expect(ft.getAttribute('data-state')).toBe('proven');
    expect(ft.textContent).toContain('2/2');
    expect(ft.textContent).toContain('1.0 pt drop');
    const neg = grid.querySelector('tr[data-defense="deepjudge"] td[data-attack="negative"]')!;
    expect(neg.getAttribute('data-state')).toBe('proven');
    expect(neg.textContent?.trim()).toBe('0/1');
  });

  it('says so while nothing has been judged', () => {
    const t = table('r-1', { done: false });
    render(RunSummary, { table: { ...t, rows: t.rows.filter((r) => r.suspects === 0) } });
    expect(document.querySelector('[data-field="summary-empty"]')).toBeTruthy();
  });
});

describe('ErrorNote', () => {
  it('shows the message and the hint of a Result error as an alert', () => {
    render(ErrorNote, {
      error: { code: 'X', message: 'No model.json in /m', hint: 'Pick the folder that holds model.json.' },
      title: 'Unreadable model',
    });
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Unreadable model');
    expect(alert.textContent).toContain('No model.json in /m');
    expect(alert.textContent).toContain('Pick the folder that holds model.json.');
  });
});

describe('Wizard screen', () => {
  it('blocks Next on a problem, explains it, and moves on once fixed', async () => {
    const { w } = wizard();
    render(Wizard, { w, onstarted: () => undefined });
    expect(screen.getByRole('heading', { level: 2 }).textContent).toBe('1. Victim');
    await fireEvent.click(screen.getByLabelText(/A model folder/));
    expect(w.victimMode).toBe('folder');
    const next = screen.getByRole('button', { name: 'Next: Data' }) as HTMLButtonElement;
    expect(next.disabled).toBe(true);
    expect(screen.getByRole('list', { name: 'Problems of this step' }).textContent).toContain('Enter the model folder');
    await fireEvent.input(screen.getByLabelText('Model folder'), { target: { value: '/models/mine' } });
    expect(next.disabled).toBe(false);
    await fireEvent.click(next);
    await tick();
    expect(screen.getByRole('heading', { level: 2 }).textContent).toBe('2. Data');
    expect(screen.getByRole('button', { name: /Victim/ }).getAttribute('aria-current')).toBeNull();
    expect(screen.getByRole('button', { name: /Data/ }).getAttribute('aria-current')).toBe('step');
  });

  it('starts from the smoke preset and reaches a startable review', async () => {
    const { w } = wizard();
    let started = '';
    w.client.startRun = async () => ok({ runId: 'r-20261130-1' });
    render(Wizard, { w, onstarted: (id: string) => (started = id) });
    await fireEvent.click(screen.getByRole('button', { name: 'Smoke preset' }));
    expect(w.name).toBe('smoke');
    for (const step of ['Data', 'Defences', 'Attacks', 'Review']) {
      await fireEvent.click(screen.getByRole('button', { name: `Next: ${step}` }));
    }
    await w.runCheck();
    await tick();
    expect(screen.getByRole('status').textContent).toContain('No problems');
    expect((screen.getByLabelText('Audit spec JSON') as HTMLTextAreaElement).value).toContain('"name": "smoke"');
    await fireEvent.click(screen.getByRole('button', { name: 'Start audit' }));
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toBe('r-20261130-1');
  });
});

describe('Wizard: semantic checks on the fields', () => {
  it('shows a blocking problem under the DeepJudge block, a warning under workers, and states the rule', async () => {
    const { w } = wizard();
    w.client.checkSpec = async () =>
      ok({
        problems: [
          // (The fixture catalog's DeepJudge has no block parameter: the note goes on its seeds.)
          'defenses[0].params.seeds: the victim has 3 blocks, so block 99 does not exist: pick 1-3, or 0 for its default block',
        ],
        warnings: ['workers: 64 workers on 2 cores share the cores and each runs slower'],
      });
    render(Wizard, { w, onstarted: () => undefined });
    await fireEvent.click(screen.getByRole('button', { name: 'Smoke preset' }));
    await w.runCheck();
    w.step = 2; // Defences
    await tick();
    const block = document.getElementById('def-deepjudge-seeds')!.closest('.param')!;
    const note = block.querySelector('[data-note="problem"]')!;
    expect(note.textContent).toContain('the victim has 3 blocks, so block 99 does not exist');
    expect(note.textContent).not.toContain('defenses[0]');
    expect((screen.getByRole('button', { name: 'Next: Attacks' }) as HTMLButtonElement).disabled).toBe(true);
    const details = block.closest('details')!;
    expect(details.open).toBe(true);
    // The user fixes the value: the note goes, and the form being worked in stays open.
    w.client.checkSpec = async () =>
      ok({ problems: [], warnings: ['workers: 64 workers on 2 cores share the cores and each runs slower'] });
    await w.runCheck();
    await tick();
    expect(block.querySelector('[data-note]')).toBeNull();
    expect(details.open).toBe(true);
    w.step = 3; // Attacks: the warning sits on the workers field and does not block Next
    await tick();
    const workers = screen.getByLabelText('Workers').closest('.field')!;
    expect(workers.querySelector('[data-note="warning"]')?.textContent).toContain('64 workers on 2 cores');
    w.step = 4;
    await tick();
    expect(screen.getByRole('list', { name: 'Warnings of the spec' }).textContent).toContain('64 workers');
    expect(document.querySelector('[data-field="check-rules"]')?.textContent).toMatch(
      /Problems block the start.*Warnings do not/,
    );
  });

  it('asks before a preset replaces edits, and keeps them on "Keep my edits"', async () => {
    const { w } = wizard();
    render(Wizard, { w, onstarted: () => undefined });
    // Fresh form: a preset loads without asking.
    await fireEvent.click(screen.getByRole('button', { name: 'Smoke preset' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(w.name).toBe('smoke');
    w.name = 'my edited audit';
    await tick();
    await fireEvent.click(screen.getByRole('button', { name: 'Demo preset' }));
    const dialog = screen.getByRole('alertdialog');
    expect(dialog.textContent).toContain('Replace your edits with the Demo preset?');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Keep my edits' }));
    expect(w.name).toBe('my edited audit');
    await fireEvent.click(screen.getByRole('button', { name: 'Demo preset' }));
    await fireEvent.click(
      within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Load the Demo preset' }),
    );
    expect(w.name).toBe('demo');
    expect(screen.queryByRole('alertdialog')).toBeNull();
  });

  it("shows a trained victim's seed and epoch problems on their fields, not only in the footer", async () => {
    const { w } = wizard();
    render(Wizard, { w, onstarted: () => undefined });
    w.victimMode = 'train';
    w.trainData = '/d';
    w.trainSeed = -1;
    w.trainEpochs = 0;
    await tick();
    const seed = document.getElementById('train-seed')!;
    expect(seed.getAttribute('aria-invalid')).toBe('true');
    expect(seed.closest('.field')!.querySelector('[data-note="problem"]')?.textContent).toContain(
      'whole number, 0 or more',
    );
    const epochs = document.getElementById('train-epochs')!;
    expect(epochs.closest('.field')!.querySelector('[data-note="problem"]')?.textContent).toContain('above 0');
    w.trainSeed = 3;
    w.trainEpochs = 2;
    await tick();
    expect(document.querySelectorAll('.train [data-note]').length).toBe(0);
  });

  it("never shows the API's developer wording of a malformed call", async () => {
    const { w } = wizard();
    w.client.checkSpec = async () => ({
      ok: false,
      error: {
        code: 'INVALID_ARGUMENT',
        message: 'Invalid input for checkSpec: workers: too big',
        hint: 'Fix the field named above; the contract is src-shared/contract/api.ts.',
      },
    });
    await w.runCheck();
    expect(w.checkError?.message).not.toMatch(/checkSpec|contract/);
    expect(w.checkError?.hint).not.toMatch(/src-shared/);
  });
});

describe('History screen', () => {
  it('shows the empty state, then rows; Delete asks first and Escape keeps the run', async () => {
    let runs = [
      summary('r-1', 'smoke', 'completed', '2026-11-30T09:00:00Z'),
      summary('r-2', 'demo', 'failed', '2026-11-30T10:00:00Z'),
    ];
    const empty = new HistoryState(fakeClient({ listRuns: async () => ok([]) }));
    await empty.load();
    render(History, { h: empty, onopen: () => undefined, onnew: () => undefined });
    expect(screen.getByText('No audits yet')).toBeTruthy();
    cleanup();

    const client = fakeClient({
      listRuns: async () => ok(runs),
      deleteRun: async (i) => ((runs = runs.filter((r) => r.id !== i.runId)), ok(null)),
    });
    const h = new HistoryState(client);
    await h.load();
    let opened = '';
    render(History, { h, onopen: (id: string) => (opened = id), onnew: () => undefined });
    expect(document.querySelectorAll('tbody tr[data-run-id]')).toHaveLength(2);
    await fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'smo' } });
    expect(document.querySelectorAll('tbody tr[data-run-id]')).toHaveLength(1);
    await fireEvent.click(screen.getByRole('button', { name: 'Open smoke (r-1)' }));
    expect(opened).toBe('r-1');

    await fireEvent.click(screen.getByRole('button', { name: 'Delete smoke (r-1)' }));
    const dialog = screen.getByRole('alertdialog');
    expect(dialog.textContent).toContain('Delete “smoke”?');
    expect(document.activeElement?.textContent).toBe('Cancel'); // the safe choice has the focus
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(client.calls.some((c) => c.method === 'deleteRun')).toBe(false);

    await fireEvent.click(screen.getByRole('button', { name: 'Delete smoke (r-1)' }));
    await fireEvent.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete run' }));
    await new Promise((r) => setTimeout(r, 0));
    await tick();
    expect(client.calls.find((c) => c.method === 'deleteRun')?.input).toEqual({ runId: 'r-1', files: true });
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(screen.getByText('No run matches the filters')).toBeTruthy();
  });
});
