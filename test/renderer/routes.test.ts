import { describe, expect, it, vi } from 'vitest';
import type { AppCommand } from '../../src-shared/contract/methods';
import { AppState, type Navigator } from '../../src-renderer/src/lib/app.svelte';
import { formatRoute, parseRoute, tokenFromHash, withoutToken } from '../../src-renderer/src/lib/routes';
import { catalog, detail, fakeClient, ok, summary } from './fixtures';

describe('hash routes', () => {
  it('parse and format one address per screen and per run', () => {
    for (const route of [
      { screen: 'wizard' as const },
      { screen: 'history' as const },
      { screen: 'calibrations' as const },
      { screen: 'run' as const, runId: 'r-20261207-115522-55bc' },
    ])
      expect(parseRoute(formatRoute(route))).toEqual(route);
    expect(formatRoute({ screen: 'run', runId: 'r-1' })).toBe('#/runs/r-1');
    expect(parseRoute('#/runs/../../etc')).toBeNull();
    expect(parseRoute('#/nowhere')).toBeNull();
    expect(parseRoute('#token=abc')).toBeNull();
    expect(parseRoute('')).toBeNull();
  });

  it('a link carries the token in the fragment; reading it keeps the route and drops the token', () => {
    const link = formatRoute({ screen: 'run', runId: 'r-1' }, 'tok en');
    expect(link).toBe('#/runs/r-1?token=tok%20en');
    expect(tokenFromHash(link)).toBe('tok en');
    expect(parseRoute(link)).toEqual({ screen: 'run', runId: 'r-1' });
    expect(withoutToken(link)).toBe('#/runs/r-1');
    expect(tokenFromHash('#token=abc')).toBe('abc');
    expect(withoutToken('#token=abc')).toBe('');
    expect(tokenFromHash('#/history')).toBeNull();
  });
});

/** An address bar with history: setHash pushes, back() pops and fires hashchange. */
function fakeNavigator(initial = ''): Navigator & { back(): void; entries: string[] } {
  const entries = [initial];
  const listeners = new Set<() => void>();
  return {
    entries,
    hash: () => entries[entries.length - 1],
    setHash: (h) => {
      if (entries[entries.length - 1] !== h) entries.push(h);
    },
    onHashChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    base: () => 'http://127.0.0.1:5000/',
    back() {
      entries.pop();
      for (const l of listeners) l();
    },
  };
}

function client() {
  return fakeClient({
    engineInfo: async () =>
      ok({ backend: 'wasm', available: ['wasm'], tfjsVersion: '4.22.0', defaultWorkers: 2, home: '/h', baseDir: '/w' }),
    catalog: async () => ok(catalog()),
    getRun: async ({ runId }: { runId: string }) => ok(detail(runId, { status: 'completed' })),
    listRuns: async () => ok([summary('r-1', 'smoke', 'completed', '2026-12-07T10:00:00Z')]),
    listCalibrations: async () => ok([]),
  });
}

describe('AppState navigation', () => {
  it('puts every screen in the address, and Back returns to the previous one', async () => {
    const nav = fakeNavigator('');
    const app = new AppState(client(), 'browser', nav, 'secret');
    await app.init();
    expect(nav.hash()).toBe('#/new');
    app.go('history');
    expect(nav.hash()).toBe('#/history');
    app.openRun('r-1');
    expect(nav.hash()).toBe('#/runs/r-1');
    expect(app.screen).toBe('run');
    nav.back();
    expect(app.screen).toBe('history');
    nav.back();
    expect(app.screen).toBe('wizard');
    app.dispose();
  });

  it('opens the run an address names at start, and links to a run with the token in the fragment', async () => {
    const nav = fakeNavigator('#/runs/r-1');
    const app = new AppState(client(), 'browser', nav, 'secret');
    await app.init();
    expect(app.screen).toBe('run');
    expect(app.monitor?.runId).toBe('r-1');
    expect(app.runLink('r-1')).toBe('http://127.0.0.1:5000/#/runs/r-1?token=secret');
    // The desktop shell has no token to carry.
    expect(new AppState(client(), 'electron', nav).runLink('r-1')).toBe('http://127.0.0.1:5000/#/runs/r-1');
    app.dispose();
  });
});

describe('a deleted run', () => {
  it('leaves the navigation: no monitor and nothing to resume', async () => {
    const nav = fakeNavigator('#/runs/r-1');
    const c = client();
    c.deleteRun = async () => ok(null);
    const app = new AppState(c, 'browser', nav, 'secret');
    await app.init();
    expect(app.monitor?.runId).toBe('r-1');
    app.history.requestDelete('r-1');
    await app.history.load();
    app.history.requestDelete('r-1');
    expect(await app.history.confirmDelete()).toBe(true);
    expect(app.monitor).toBeNull();
    expect(app.screen).toBe('history');
    app.dispose();
  });
});

describe('the desktop menu commands', () => {
  it('move between screens, and export the run on screen or say that one must be open', async () => {
    const c = client();
    let send: (cmd: AppCommand) => void = () => undefined;
    let subscribed = 0;
    c.onCommand = (l) => {
      subscribed++;
      send = l;
      return () => subscribed--;
    };
    c.exportReport = async () => ok({ path: '/h/runs/r-1/report-r-1.pdf' });
    const app = new AppState(c, 'electron', fakeNavigator(''));
    await app.init();
    expect(subscribed).toBe(1);
    send('history');
    expect(app.screen).toBe('history');
    send('calibrations');
    expect(app.screen).toBe('calibrations');
    send('export-report');
    expect(app.commandNote).toMatch(/Open a run first/);
    send('new-audit');
    expect(app.screen).toBe('wizard');
    expect(app.commandNote).toBeNull();
    const m = app.openRun('r-1');
    await m.refresh();
    expect(m.desktop).toBe(true);
    send('export-report');
    await vi.waitFor(() => expect(m.exported?.path).toBe('/h/runs/r-1/report-r-1.pdf'));
    app.dispose();
    expect(subscribed).toBe(0);
  });
});
