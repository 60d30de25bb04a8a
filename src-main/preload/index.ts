/** Exposes one function per AuditApi method to the renderer, nothing raw. */
import { contextBridge, ipcRenderer } from 'electron';
import type { AuditApi } from '../../src-shared/contract/api';

const api: AuditApi = {
  engineInfo: () => ipcRenderer.invoke('engine:info'),
};

contextBridge.exposeInMainWorld('auditApi', api);
