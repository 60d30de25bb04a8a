/** Native open dialogs for pickPath: the only way the renderer reaches the file system. */
import type { BrowserWindow, Dialog } from 'electron';
import type { ApiDialogs } from '../api/service';

export function electronDialogs(
  dialog: Pick<Dialog, 'showOpenDialog'>,
  parent: () => BrowserWindow | null,
): ApiDialogs {
  return {
    async pickPath({ kind, title }) {
      const options = { title, properties: [kind === 'folder' ? ('openDirectory' as const) : ('openFile' as const)] };
      const win = parent();
      const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
    },
  };
}
