/**
 * The desktop app's main process: one window with a sandboxed renderer, the API over IPC
 * (src-main/api/service.ts, the same implementation as the browser mode), runs driven from
 * here and their jobs in utility processes, so the window never waits on computation.
 *
 * Native modules: the app needs better-sqlite3 built for Electron's ABI, while the CLI and
 * the tests keep the Node build. `npm start` makes that second build once, at set-up
 * (scripts/electron-sqlite.mjs, never at run time), and passes it through
 * OWNERSHIP_AUDIT_SQLITE_BINDING (see src-main/store/store.ts).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { app, BrowserWindow, dialog, ipcMain, Menu, session, shell, utilityProcess } from 'electron';
import { COMMAND_CHANNEL } from '../../src-shared/contract/methods';
import { createAuditService, type AuditService, type AuditServiceOptions } from '../api/service';
import { resolveHome } from '../store';
import { electronDialogs } from './dialogs';
import { probeEngine } from './engine-probe';
import { forwardEvents, isTrustedSender, registerApiHandlers } from './ipc';
import { menuTemplate } from './menu';
import { utilityProcessLauncher } from './utility-worker';
import { createMainWindow, denyPermissions, hardenContents, type RendererLocation } from './window';

export interface AppPaths {
  preload: string;
  page: RendererLocation;
  /** The bundled CLI: workers, engine probe and HTML/PDF reports. */
  cli: string;
}

export function appPaths(mainDir: string): AppPaths {
  // electron-vite's dev server is trusted only in development builds.
  const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
  return {
    preload: join(mainDir, '../preload/index.cjs'),
    page: { devUrl, indexFile: join(mainDir, '../renderer/index.html') },
    cli: join(app.getAppPath(), 'dist', 'cli.cjs'),
  };
}

export interface StartAppOptions {
  paths: AppPaths;
  /** For tests: build the service from these options (default createAuditService). */
  createService?: (opts: AuditServiceOptions) => AuditService;
}

export async function startApp(
  opts: StartAppOptions,
): Promise<{ service: AuditService; window: BrowserWindow } | undefined> {
  const { paths } = opts;
  // Keeps TF.js's "install tfjs-node" banner out of the log (models are only inspected here).
  tf.env().set('PROD', true);
  app.enableSandbox();
  app.on('web-contents-created', (_e, contents) => hardenContents(contents));
  await app.whenReady();
  denyPermissions(session.defaultSession);

  let service: AuditService;
  const home = resolveHome();
  try {
    service = (opts.createService ?? createAuditService)({
      home,
      backend: probeEngine(paths.cli),
      workerEntry: paths.cli,
      workerArgs: ['worker', 'job'],
      launchWorker: utilityProcessLauncher((...args) => utilityProcess.fork(...args)),
      dialogs: electronDialogs(dialog, shell, () => BrowserWindow.getFocusedWindow()),
    });
  } catch (e) {
    // Typically better-sqlite3 built for Node instead of Electron (see the comment above).
    dialog.showErrorBox(
      'Ownership Audit cannot open its database',
      `${e instanceof Error ? e.message : String(e)}\n\nIf this mentions NODE_MODULE_VERSION, better-sqlite3 was built for Node, not Electron: start the app with \`npm start\`, which builds it for Electron once (needs internet), or set OWNERSHIP_AUDIT_SQLITE_BINDING to an Electron build. Meanwhile \`npx ownership-audit serve\` offers the same workbench in a browser.`,
    );
    app.quit();
    return undefined;
  }

  registerApiHandlers(ipcMain, service.dispatch, (event) => isTrustedSender(event, paths.page));
  forwardEvents(service.onEvent, () => BrowserWindow.getAllWindows());
  const window = createMainWindow(paths.preload, paths.page);
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate(
        { platform: process.platform, isPackaged: app.isPackaged, appName: app.getName() },
        {
          send: (command) => {
            const target = BrowserWindow.getFocusedWindow() ?? window;
            if (!target.isDestroyed()) target.webContents.send(COMMAND_CHANNEL, command);
          },
          openDataFolder: () => void shell.openPath(home),
        },
      ),
    ),
  );

  app.on('window-all-closed', () => app.quit());
  let closing = false;
  app.on('before-quit', (e) => {
    if (closing) return;
    // Running audits pause first (their jobs checkpoint), so they can be resumed later.
    e.preventDefault();
    closing = true;
    void service.close().finally(() => app.quit());
  });
  return { service, window };
}
