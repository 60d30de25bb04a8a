/**
 * The API's method names as a plain list, apart from their zod schemas: the sandboxed
 * preload builds `window.auditApi` from this list and may load nothing but 'electron', so
 * it must not pull zod in. api.ts checks at compile time that this list and `AuditApi`
 * name the same methods, so the preload, the IPC handlers and the HTTP routes cannot drift.
 */
export const API_METHOD_NAMES = [
  'engineInfo',
  'catalog',
  'inspectModel',
  'previewDataset',
  'checkSpec',
  'startRun',
  'resumeRun',
  'pauseRun',
  'cancelRun',
  'cancelJob',
  'listRuns',
  'getRun',
  'deleteRun',
  'listCalibrations',
  'exportReport',
  'pickPath',
  'saveReportAs',
  'showInFolder',
] as const;

export type ApiMethodName = (typeof API_METHOD_NAMES)[number];

/** The IPC channel of a method (Electron): `api:<method>`; events come on EVENT_CHANNEL. */
export const ipcChannel = (method: ApiMethodName): string => `api:${method}`;
export const EVENT_CHANNEL = 'api:event';

/**
 * What the desktop shell's application menu (and its shortcuts) asks of the page, on
 * COMMAND_CHANNEL: the page acts on the screen it shows (a command without a run to act on
 * says so). The browser mode has no menu; the same actions are the page's own buttons.
 */
export const APP_COMMANDS = ['new-audit', 'history', 'calibrations', 'export-report', 'save-report-as'] as const;
export type AppCommand = (typeof APP_COMMANDS)[number];
export const COMMAND_CHANNEL = 'app:command';
