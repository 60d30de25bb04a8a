/**
 * The desktop app's application menu and its shortcuts. Every item either is one of
 * Electron's roles (quit, edit, zoom, window) or sends an AppCommand to the focused page,
 * which acts on the screen it shows; the menu never reaches the engine by itself.
 *
 * The template is plain data built from the platform, so it is tested without Electron's
 * binary; app.ts hands it to Menu.buildFromTemplate.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { AppCommand } from '../../src-shared/contract/methods';

export interface MenuActions {
  /** Sends a command to the focused window's page. */
  send(command: AppCommand): void;
  /** Opens the data folder (runs, reports, the database) in the file manager. */
  openDataFolder(): void;
}

export interface MenuOptions {
  platform: NodeJS.Platform;
  /** Developer tools only in a development build. */
  isPackaged: boolean;
  appName: string;
}

export function menuTemplate(o: MenuOptions, actions: MenuActions): MenuItemConstructorOptions[] {
  const mac = o.platform === 'darwin';
  const command = (label: string, cmd: AppCommand, accelerator: string): MenuItemConstructorOptions => ({
    label,
    accelerator,
    click: () => actions.send(cmd),
  });
  const appMenu: MenuItemConstructorOptions[] = mac
    ? [
        {
          label: o.appName,
          submenu: [
            { role: 'about' },
            { type: 'separator' },
            { role: 'hide' },
            { role: 'hideOthers' },
            { role: 'unhide' },
            { type: 'separator' },
            { role: 'quit' },
          ],
        },
      ]
    : [];
  return [
    ...appMenu,
    {
      label: 'File',
      submenu: [
        command('New Audit', 'new-audit', 'CmdOrCtrl+N'),
        { type: 'separator' },
        command('Export Report', 'export-report', 'CmdOrCtrl+E'),
        command('Save Report As…', 'save-report-as', 'CmdOrCtrl+Shift+S'),
        { type: 'separator' },
        { label: 'Open Data Folder', click: () => actions.openDataFolder() },
        ...(mac ? [] : [{ type: 'separator' } as const, { role: 'quit' } as const]),
      ],
    },
    // Copy and paste in the path fields need the edit roles on macOS.
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        command('New Audit', 'new-audit', 'CmdOrCtrl+1'),
        command('History', 'history', 'CmdOrCtrl+2'),
        command('Calibrations', 'calibrations', 'CmdOrCtrl+3'),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(o.isPackaged ? [] : [{ type: 'separator' } as const, { role: 'toggleDevTools' } as const]),
      ],
    },
    { role: 'windowMenu' },
    ...(mac ? [] : [{ role: 'help' as const, submenu: [{ role: 'about' as const }] }]),
  ];
}
