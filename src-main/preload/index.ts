/**
 * The renderer's only door to the main process: `window.auditApi`, one function per API
 * method (built from the contract's list, so it cannot drift) plus `onEvent` and `onCommand`
 * (the application menu's commands). Nothing raw
 * (no ipcRenderer, no channels chosen by the page) crosses the bridge. Sandboxed preloads
 * may load only 'electron', so this imports the plain method list, not the zod schemas.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { AuditClient, AuditEvent } from '../../src-shared/contract/api';
import {
  API_METHOD_NAMES,
  APP_COMMANDS,
  COMMAND_CHANNEL,
  EVENT_CHANNEL,
  ipcChannel,
  type AppCommand,
} from '../../src-shared/contract/methods';

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

// The application menu's commands; only the known ones reach the page.
api.onCommand = (listener: (c: AppCommand) => void): (() => void) => {
  if (typeof listener !== 'function') throw new TypeError('onCommand needs a function');
  const handler = (_e: IpcRendererEvent, command: unknown) => {
    if ((APP_COMMANDS as readonly unknown[]).includes(command)) listener(command as AppCommand);
  };
  ipcRenderer.on(COMMAND_CHANNEL, handler);
  return () => {
    ipcRenderer.removeListener(COMMAND_CHANNEL, handler);
  };
};

contextBridge.exposeInMainWorld('auditApi', Object.freeze(api) as unknown as AuditClient);
