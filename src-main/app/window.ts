/**
 * The desktop window and the hardening every web contents gets: no Node in the renderer
 * (context isolation, sandbox, no nodeIntegration), no navigation away from the app, no
 * new windows, no <webview>, and every permission request (camera, notifications, ...)
 * denied. The CSP is a <meta> tag in src-renderer/index.html (responses from file:// have
 * no headers to add it to).
 */
import { BrowserWindow, type Session, type WebContents, type WebPreferences } from 'electron';

export function secureWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/** Applied to every web contents the app creates (app 'web-contents-created'). */
export function hardenContents(contents: WebContents): void {
  // The renderer is one page with in-page routing: any real navigation is unexpected
  // (a dropped file, a link in a report, an injected redirect).
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

export function denyPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/** Where the renderer is loaded from: the electron-vite dev server, or the built index.html. */
export interface RendererLocation {
  devUrl?: string;
  indexFile: string;
}

export function createMainWindow(preload: string, page: RendererLocation): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 640,
    title: 'Ownership Audit',
    show: false,
    webPreferences: secureWebPreferences(preload),
  });
  hardenContents(win.webContents);
  win.once('ready-to-show', () => win.show());
  if (page.devUrl) void win.loadURL(page.devUrl);
  else void win.loadFile(page.indexFile);
  return win;
}
