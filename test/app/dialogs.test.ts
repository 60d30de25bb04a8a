/** The native dialogs the API uses in the desktop app, against fakes of Electron's dialog and shell. */
import type { BrowserWindow, Dialog, Shell } from 'electron';
import { describe, expect, it } from 'vitest';
import { electronDialogs } from '../../src-main/app/dialogs';

function fakes(answer: { canceled: boolean; filePath?: string }) {
  const calls: unknown[][] = [];
  const shown: string[] = [];
  const dialog = {
    showOpenDialog: async (...args: unknown[]) => (calls.push(args), { canceled: true, filePaths: [] }),
    showSaveDialog: async (...args: unknown[]) => (calls.push(args), answer),
  } as unknown as Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>;
  const shell = { showItemInFolder: (p: string) => shown.push(p) } as unknown as Pick<Shell, 'showItemInFolder'>;
  return { dialog, shell, calls, shown };
}

describe('electronDialogs', () => {
  it('offers the report name and its type in a Save dialog on the focused window', async () => {
    const f = fakes({ canceled: false, filePath: '/home/me/audit.pdf' });
    const win = {} as BrowserWindow;
    const d = electronDialogs(f.dialog, f.shell, () => win);
    const path = await d.saveFile({
      title: 'Save',
      defaultName: 'report-r-1.pdf',
      extension: 'pdf',
      label: 'PDF report',
    });
    expect(path).toBe('/home/me/audit.pdf');
    expect(f.calls[0][0]).toBe(win);
    expect(f.calls[0][1]).toMatchObject({
      defaultPath: 'report-r-1.pdf',
      filters: [{ name: 'PDF report', extensions: ['pdf'] }],
      properties: expect.arrayContaining(['showOverwriteConfirmation']),
    });
  });

  it('answers null when the Save dialog is cancelled, and shows a file in its folder', async () => {
    const f = fakes({ canceled: true });
    const d = electronDialogs(f.dialog, f.shell, () => null);
    expect(await d.saveFile({ title: 'Save', defaultName: 'r.csv', extension: 'csv', label: 'CSV' })).toBeNull();
    d.showInFolder('/home/me/audit.pdf');
    expect(f.shown).toEqual(['/home/me/audit.pdf']);
  });
});
