/**
 * The API over Electron IPC: one `ipcMain.handle('api:<method>')` per API method, each
 * through the service's dispatch (schema validation, errors as Results), and the run events
 * pushed to every window on 'api:event'. Calls are answered only for the app's own page in
 * a top-level frame: an iframe or a page navigated elsewhere gets FORBIDDEN.
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { API_METHODS, type AuditEvent, type Result } from '../../src-shared/contract/api';
import { EVENT_CHANNEL, ipcChannel } from '../../src-shared/contract/methods';
import type { Dispatch } from '../api/dispatch';
import { failed } from '../api/errors';
import type { RendererLocation } from './window';

type SenderEvent = Pick<IpcMainInvokeEvent, 'senderFrame'>;

export function isTrustedSender(event: SenderEvent, page: RendererLocation): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return false;
  }
  if (page.devUrl) return url.origin === new URL(page.devUrl).origin;
  if (url.protocol !== 'file:') return false;
  try {
    return resolve(fileURLToPath(url)) === resolve(page.indexFile);
  } catch {
    return false;
  }
}

const FORBIDDEN: Result<never> = failed(
  'FORBIDDEN',
  'This page may not call the audit API',
  'Only the Ownership Audit window itself can start or read audits.',
);

/** Registers one handler per API method; returns a function that removes them. */
export function registerApiHandlers(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  dispatch: Dispatch,
  trusted: (e: IpcMainInvokeEvent) => boolean,
): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(ipcChannel(method), (event, input: unknown) =>
      trusted(event) ? dispatch(method, input) : FORBIDDEN,
    );
  }
  return () => {
    for (const method of API_METHODS) ipcMain.removeHandler(ipcChannel(method));
  };
}

/** Sends each run event to every open window. */
export function forwardEvents(
  onEvent: (l: (e: AuditEvent) => void) => () => void,
  windows: () => { webContents: WebContents; isDestroyed(): boolean }[],
): () => void {
  return onEvent((e) => {
    for (const w of windows()) {
      if (!w.isDestroyed() && !w.webContents.isDestroyed()) w.webContents.send(EVENT_CHANNEL, e);
    }
  });
}
