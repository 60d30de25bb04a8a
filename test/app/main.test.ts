/**
 * The Electron main process wiring with Electron mocked: a sandboxed, isolated window, no
 * navigation or new windows, permissions denied, one IPC handler per API method that
 * answers the app's own page only, events forwarded to the windows, and workers started as
 * utility processes speaking the runner's protocol.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { API_METHODS, type AuditEvent } from '../../src-shared/contract/api';
import type { AuditService, AuditServiceOptions } from '../../src-main/api/service';

const h = vi.hoisted(() => {
  class FakeContents {
    handlers = new Map<string, (...a: unknown[]) => void>();
    openHandler: (() => unknown) | undefined;
    sent: unknown[][] = [];
    on(event: string, fn: (...a: unknown[]) => void) {
      this.handlers.set(event, fn);
      return this;
    }
    setWindowOpenHandler(fn: () => unknown) {
      this.openHandler = fn;
    }
    send(...args: unknown[]) {
      this.sent.push(args);
    }
    isDestroyed() {
      return false;
    }
  }
  class FakeWindow {
    static all: FakeWindow[] = [];
    static getAllWindows = () => FakeWindow.all;
    static getFocusedWindow = () => FakeWindow.all[0] ?? null;
    webContents = new FakeContents();
    loaded: string | undefined;
    constructor(readonly options: { webPreferences: Record<string, unknown> }) {
      FakeWindow.all.push(this);
    }
    once() {
      return this;
    }
    loadFile(f: string) {
      this.loaded = f;
      return Promise.resolve();
    }
    loadURL(u: string) {
      this.loaded = u;
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
  }
  const appHandlers = new Map<string, (...a: unknown[]) => void>();
  const ipcHandlers = new Map<string, (event: unknown, input: unknown) => unknown>();
  const permission = {
    request: undefined as undefined | ((...a: unknown[]) => void),
    check: undefined as undefined | ((...a: unknown[]) => unknown),
  };
  const menu = { template: undefined as unknown, installed: undefined as unknown };
  const shell = { shown: [] as string[], opened: [] as string[] };
  return { FakeContents, FakeWindow, appHandlers, ipcHandlers, permission, sandboxed: { value: false }, menu, shell };
});

vi.mock('electron', () => ({
  app: {
    isPackaged: false,
    enableSandbox: () => (h.sandboxed.value = true),
    on: (event: string, fn: (...a: unknown[]) => void) => h.appHandlers.set(event, fn),
    whenReady: () => Promise.resolve(),
    getAppPath: () => '/app',
    getName: () => 'Ownership Audit',
    quit: vi.fn(),
  },
  BrowserWindow: h.FakeWindow,
  ipcMain: {
    handle: (channel: string, fn: (event: unknown, input: unknown) => unknown) => h.ipcHandlers.set(channel, fn),
    removeHandler: (c: string) => h.ipcHandlers.delete(c),
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (fn: (...a: unknown[]) => void) => (h.permission.request = fn),
      setPermissionCheckHandler: (fn: (...a: unknown[]) => unknown) => (h.permission.check = fn),
    },
  },
  dialog: { showErrorBox: vi.fn(), showOpenDialog: vi.fn(async () => ({ canceled: false, filePaths: ['/picked'] })) },
  utilityProcess: { fork: vi.fn() },
  Menu: {
    buildFromTemplate: (t: unknown) => ((h.menu.template = t), { built: t }),
    setApplicationMenu: (m: unknown) => (h.menu.installed = m),
  },
  shell: {
    showItemInFolder: (p: string) => h.shell.shown.push(p),
    openPath: async (p: string) => (h.shell.opened.push(p), ''),
  },
}));

const mainDir = '/app/out/main';
const indexFile = join(mainDir, '../renderer/index.html');
const dispatch = vi.fn(async (method: string) => ({ ok: true as const, value: method }));
let emit: (e: AuditEvent) => void = () => undefined;
let serviceOptions: AuditServiceOptions;

beforeAll(async () => {
  delete process.env.ELECTRON_RENDERER_URL;
  const { appPaths, startApp } = await import('../../src-main/app/app');
  const paths = appPaths(mainDir);
  await startApp({
    paths: { ...paths, cli: '/app/dist/cli.cjs' },
    createService: (opts) => {
      serviceOptions = opts;
      // The engine probe runs the CLI; here it is never awaited.
      (opts.backend as Promise<unknown>).catch(() => undefined);
      return {
        dispatch,
        onEvent: (l: (e: AuditEvent) => void) => {
          emit = l;
          return () => undefined;
        },
        close: async () => undefined,
      } as unknown as AuditService;
    },
  });
});

const frame = (url: string, parent: unknown = null) => ({ senderFrame: { url, parent } });

describe('the window', () => {
  it('has an isolated, sandboxed renderer without Node, and the preload', () => {
    expect(h.sandboxed.value).toBe(true);
    const [win] = h.FakeWindow.all;
    expect(win.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      preload: join(mainDir, '../preload/index.cjs'),
    });
    expect(win.loaded).toBe(indexFile);
  });

  it('blocks navigation, new windows and webviews, and denies permissions', () => {
    const [win] = h.FakeWindow.all;
    for (const event of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const preventDefault = vi.fn();
      win.webContents.handlers.get(event)?.({ preventDefault }, 'https://evil.example');
      expect(preventDefault, event).toHaveBeenCalled();
    }
    expect(win.webContents.openHandler?.()).toEqual({ action: 'deny' });
    // Contents created later (devtools, a popup attempt) get the same treatment.
    const other = new h.FakeContents();
    h.appHandlers.get('web-contents-created')?.({}, other);
    expect(other.openHandler?.()).toEqual({ action: 'deny' });
    const callback = vi.fn();
    h.permission.request?.({}, 'media', callback);
    expect(callback).toHaveBeenCalledWith(false);
    expect(h.permission.check?.({}, 'clipboard-read')).toBe(false);
  });
});

describe('IPC', () => {
  it('registers exactly one handler per API method', () => {
    expect([...h.ipcHandlers.keys()].sort()).toEqual(API_METHODS.map((m) => `api:${m}`).sort());
  });

  it("dispatches calls from the app's own page", async () => {
    const r = await h.ipcHandlers.get('api:listRuns')?.(frame(pathToFileURL(indexFile).href + '#/history'), {
      status: 'completed',
    });
    expect(r).toEqual({ ok: true, value: 'listRuns' });
    expect(dispatch).toHaveBeenLastCalledWith('listRuns', { status: 'completed' });
  });

  it('refuses a foreign page, another local file, an iframe and a missing frame', async () => {
    dispatch.mockClear();
    for (const event of [
      frame('https://evil.example/'),
      frame(pathToFileURL('/tmp/evil.html').href),
      frame(pathToFileURL(indexFile).href, { url: 'x' }),
      { senderFrame: null },
    ]) {
      expect(await h.ipcHandlers.get('api:startRun')?.(event, { spec: {} })).toMatchObject({
        ok: false,
        error: { code: 'FORBIDDEN' },
      });
    }
    expect(dispatch).not.toHaveBeenCalled();
  });

  it('forwards run events to the windows on api:event', () => {
    const [win] = h.FakeWindow.all;
    emit({ type: 'run', runId: 'r-1', status: 'running', jobs: 3, done: 0 });
    expect(win.webContents.sent.at(-1)).toEqual([
      'api:event',
      { type: 'run', runId: 'r-1', status: 'running', jobs: 3, done: 0 },
    ]);
  });

  it("installs the application menu, whose commands reach the focused window's page on app:command", () => {
    expect(h.menu.installed).toEqual({ built: h.menu.template });
    const all = (items: { label?: string; submenu?: unknown; click?: () => void }[]): typeof items =>
      items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? all(i.submenu as typeof items) : [])]);
    const history = all(h.menu.template as never).find((i) => i.label === 'History');
    history?.click?.();
    const [win] = h.FakeWindow.all;
    expect(win.webContents.sent.at(-1)).toEqual(['app:command', 'history']);
    all(h.menu.template as never)
      .find((i) => i.label === 'Open Data Folder')
      ?.click?.();
    expect(h.shell.opened).toHaveLength(1);
  });

  it('gives the service the CLI as worker entry, utility processes and native dialogs', async () => {
    expect(serviceOptions).toMatchObject({ workerEntry: '/app/dist/cli.cjs', workerArgs: ['worker', 'job'] });
    expect(typeof serviceOptions.launchWorker).toBe('function');
    expect(await serviceOptions.dialogs?.pickPath({ kind: 'folder', title: 'Victim model' })).toBe('/picked');
  });
});

describe('utility process workers', () => {
  it('speak the runner protocol: start message, progress, result on exit', async () => {
    const { utilityProcessLauncher } = await import('../../src-main/app/utility-worker');
    const { startWorker } = await import('../../src-main/runner/worker-process');
    const child = Object.assign(new EventEmitter(), {
      pid: 1234,
      stderr: new EventEmitter(),
      posted: [] as unknown[],
      postMessage(m: unknown) {
        this.posted.push(m);
      },
      kill: vi.fn(() => true),
    });
    const fork = vi.fn(() => child as never);
    const progress: unknown[] = [];
    const handle = startWorker(
      { kind: 'calibrate', payload: { reuse: '/c.json', victimDir: '/v' }, deps: {} },
      {
        entry: '/app/dist/cli.cjs',
        backend: 'wasm',
        launch: utilityProcessLauncher(fork),
        onProgress: (e) => progress.push(e),
      },
    );
    expect(fork).toHaveBeenCalledWith(
      '/app/dist/cli.cjs',
      ['worker', 'job'],
      expect.objectContaining({ stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    expect(child.posted[0]).toEqual({
      type: 'start',
      job: { kind: 'calibrate', payload: { reuse: '/c.json', victimDir: '/v' }, deps: {} },
      backend: 'wasm',
    });
    handle.cancel();
    expect(child.posted[1]).toEqual({ type: 'cancel' });
    child.emit('message', { type: 'progress', event: { stage: 'finetune', iteration: 1, total: 2 } });
    child.emit('message', { type: 'done', result: { model: '/m' } });
    child.emit('exit', 0);
    await expect(handle.result).resolves.toEqual({ model: '/m' });
    expect(progress).toEqual([{ stage: 'finetune', iteration: 1, total: 2 }]);
    expect(handle.pid).toBe(1234);
  });

  it('report a crash with the end of stderr', async () => {
    const { utilityProcessLauncher } = await import('../../src-main/app/utility-worker');
    const { startWorker } = await import('../../src-main/runner/worker-process');
    const child = Object.assign(new EventEmitter(), {
      pid: 99,
      stderr: new EventEmitter(),
      postMessage: vi.fn(),
      kill: vi.fn(),
    });
    const handle = startWorker(
      { kind: 'calibrate', payload: { reuse: '/c.json', victimDir: '/v' }, deps: {} },
      { entry: 'x', backend: 'wasm', launch: utilityProcessLauncher(() => child as never) },
    );
    child.stderr.emit('data', Buffer.from('out of memory\n'));
    child.emit('exit', 134);
    await expect(handle.result).rejects.toMatchObject({
      crashed: true,
      error: { code: 'WORKER_CRASHED', message: expect.stringContaining('out of memory') },
    });
  });
});
