/**
 * The application menu: every page command is reachable with its usual shortcut on every
 * platform, a click sends exactly that command, and developer tools only in a development build.
 */
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { APP_COMMANDS, type AppCommand } from '../../src-shared/contract/methods';
import { menuTemplate } from '../../src-main/app/menu';

/** Every item of the template, submenus flattened. */
function items(template: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return template.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? items(i.submenu) : [])]);
}

function build(platform: NodeJS.Platform, isPackaged = true) {
  const sent: AppCommand[] = [];
  let opened = 0;
  const template = menuTemplate(
    { platform, isPackaged, appName: 'Ownership Audit' },
    { send: (c) => sent.push(c), openDataFolder: () => opened++ },
  );
  return { all: items(template), template, sent, opened: () => opened };
}

describe('application menu', () => {
  for (const platform of ['darwin', 'linux', 'win32'] as const) {
    it(`${platform}: every command has an item and a shortcut, and a click sends it`, () => {
      const { all, sent } = build(platform);
      for (const command of APP_COMMANDS) {
        const before = sent.length;
        const item = all.find((i) => {
          if (!i.click || !i.accelerator) return false;
          (i.click as () => void)();
          const hit = sent.length > before && sent.at(-1) === command;
          sent.splice(before);
          return hit;
        });
        expect(item, command).toBeTruthy();
        expect(item!.accelerator).toMatch(/^CmdOrCtrl\+/);
      }
      // No shortcut is taken twice.
      const keys = all.map((i) => i.accelerator).filter(Boolean);
      expect(new Set(keys).size).toBe(keys.length);
      expect(all.some((i) => i.role === 'quit')).toBe(true);
      expect(all.some((i) => i.role === 'editMenu')).toBe(true);
    });
  }

  it('puts the app menu first on macOS only, and developer tools only in a development build', () => {
    expect(build('darwin').template[0].label).toBe('Ownership Audit');
    expect(build('linux').template[0].label).toBe('File');
    expect(build('linux', true).all.some((i) => i.role === 'toggleDevTools')).toBe(false);
    expect(build('linux', false).all.some((i) => i.role === 'toggleDevTools')).toBe(true);
  });

  it('opens the data folder from File', () => {
    const m = build('linux');
    const item = m.all.find((i) => i.label === 'Open Data Folder')!;
    (item.click as () => void)();
    expect(m.opened()).toBe(1);
    expect(m.sent).toEqual([]);
  });
});
