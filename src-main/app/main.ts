/**
 * Electron main process: one window, no Node in the renderer (context isolation, sandbox),
 * navigation blocked, and the compute engine kept out of this process: engine info comes
 * from a child process so the window never waits on TF.js.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { app, BrowserWindow, ipcMain } from 'electron';
import type { EngineInfo, Result } from '../../src-shared/contract/api';

function engineInfo(): Promise<Result<EngineInfo>> {
  const cli = join(app.getAppPath(), 'dist', 'cli.cjs');
  return new Promise((resolvePromise) => {
    execFile(process.env.NODE_BINARY ?? 'node', [cli, 'info', '--json'], { timeout: 120_000 }, (err, stdout) => {
      if (err) {
        resolvePromise({ ok: false, error: { code: 'ENGINE', message: String(err.message), hint: 'Run `npx ownership-audit info` in a terminal to see why.' } });
        return;
      }
      const info = JSON.parse(stdout) as { backend: string; available: string[]; tfjsVersion: string };
      resolvePromise({ ok: true, value: { backend: info.backend, available: info.available, tfjsVersion: info.tfjsVersion } });
    });
  });
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    title: 'Ownership Audit',
    webPreferences: { preload: join(__dirname, '../preload/index.cjs'), contextIsolation: true, sandbox: true, nodeIntegration: false },
  });
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(join(__dirname, '../renderer/index.html'));
}

ipcMain.handle('engine:info', (event) => {
  if (!event.senderFrame?.url.startsWith('file:') && !event.senderFrame?.url.startsWith(process.env.ELECTRON_RENDERER_URL ?? '\0')) {
    return { ok: false, error: { code: 'FORBIDDEN', message: 'Unexpected sender', hint: '' } };
  }
  return engineInfo();
});

void app.whenReady().then(createWindow);
app.on('window-all-closed', () => app.quit());
