/** Native dialogs and the file manager: the only ways the renderer reaches the file system. */
import type { BrowserWindow, Dialog, Shell } from 'electron';
import type { ApiDialogs } from '../api/service';

export function electronDialogs(
  dialog: Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>,
  shell: Pick<Shell, 'showItemInFolder'>,
  parent: () => BrowserWindow | null,
): ApiDialogs {
  return {
    async pickPath({ kind, title }) {
      const options = { title, properties: [kind === 'folder' ? ('openDirectory' as const) : ('openFile' as const)] };
      const win = parent();
      const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
    },
    async saveFile({ title, defaultName, extension, label }) {
      const options = {
        title,
        defaultPath: defaultName,
        filters: [{ name: label, extensions: [extension] }],
        properties: ['createDirectory' as const, 'showOverwriteConfirmation' as const],
      };
      const win = parent();
      const r = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
      return r.canceled || !r.filePath ? null : r.filePath;
    },
    showInFolder(path) {
      shell.showItemInFolder(path);
    },
  };
}
