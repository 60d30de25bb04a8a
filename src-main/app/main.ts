/** Electron main entry (bundled by electron-vite to out/main/index.js); the wiring is in app.ts. */
import { app, dialog } from 'electron';
import { appPaths, startApp } from './app';

startApp({ paths: appPaths(__dirname) }).catch((e: unknown) => {
  dialog.showErrorBox('Ownership Audit could not start', e instanceof Error ? (e.stack ?? e.message) : String(e));
  app.exit(1);
});
