/**
 * The renderer's only door to the main process: `window.auditApi`, one function per API
 * method (built from the contract's list, so it cannot drift) plus `onEvent`. Nothing raw
 * (no ipcRenderer, no channels chosen by the page) crosses the bridge. Sandboxed preloads
 * may load only 'electron', so this imports the plain method list, not the zod schemas.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { AuditClient, AuditEvent } from '../../src-shared/contract/api';
import { API_METHOD_NAMES, EVENT_CHANNEL, ipcChannel } from '../../src-shared/contract/methods';

const api: Record<string, unknown> = {};
for (const method of API_METHOD_NAMES) {
  // Only the one input argument is passed on, whatever the page calls it with.
  api[method] = (input?: unknown) => ipcRenderer.invoke(ipcChannel(method), input);
}
api.onEvent = (listener: (e: AuditEvent) => void): (() => void) => {
  if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
  const handler = (_e: IpcRendererEvent, event: AuditEvent) => listener(event);
  ipcRenderer.on(EVENT_CHANNEL, handler);
  return () => {
    ipcRenderer.removeListener(EVENT_CHANNEL, handler);
  };
};

contextBridge.exposeInMainWorld('auditApi', Object.freeze(api) as unknown as AuditClient);
