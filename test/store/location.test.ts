import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { databasePath, defaultHome, resolveHome, runsDir, type LocationEnv } from '../../src-main/store';

const linux = (env: LocationEnv['env'] = {}): LocationEnv => ({ platform: 'linux', env, homedir: '/home/ada' });
const mac = (env: LocationEnv['env'] = {}): LocationEnv => ({ platform: 'darwin', env, homedir: '/Users/ada' });
const win = (env: LocationEnv['env'] = {}): LocationEnv => ({ platform: 'win32', env, homedir: 'C:\\Users\\ada' });

describe('defaultHome', () => {
  it('linux: $XDG_CONFIG_HOME, else ~/.config (a blank or relative XDG value is ignored)', () => {
    expect(defaultHome(linux({ XDG_CONFIG_HOME: '/xdg' }))).toBe('/xdg/ownership-audit');
    expect(defaultHome(linux())).toBe('/home/ada/.config/ownership-audit');
    expect(defaultHome(linux({ XDG_CONFIG_HOME: '' }))).toBe('/home/ada/.config/ownership-audit');
    expect(defaultHome(linux({ XDG_CONFIG_HOME: 'rel/dir' }))).toBe('/home/ada/.config/ownership-audit');
  });

  it('macOS: ~/Library/Application Support', () => {
    expect(defaultHome(mac({ XDG_CONFIG_HOME: '/xdg' }))).toBe(
      '/Users/ada/Library/Application Support/ownership-audit',
    );
  });

  it('windows: %APPDATA%, else the roaming folder under the profile', () => {
    expect(defaultHome(win({ APPDATA: 'D:\\Roam' }))).toBe('D:\\Roam\\ownership-audit');
    expect(defaultHome(win())).toBe('C:\\Users\\ada\\AppData\\Roaming\\ownership-audit');
  });

  it('OWNERSHIP_AUDIT_HOME overrides the platform folder everywhere', () => {
    expect(defaultHome(linux({ OWNERSHIP_AUDIT_HOME: '/srv/oa', XDG_CONFIG_HOME: '/xdg' }))).toBe('/srv/oa');
    expect(defaultHome(mac({ OWNERSHIP_AUDIT_HOME: '/srv/oa' }))).toBe('/srv/oa');
    expect(defaultHome(win({ OWNERSHIP_AUDIT_HOME: 'E:\\oa', APPDATA: 'D:\\Roam' }))).toBe('E:\\oa');
    expect(defaultHome(linux({ OWNERSHIP_AUDIT_HOME: '  ' }))).toBe('/home/ada/.config/ownership-audit');
  });

  it('uses the host environment when none is given', () => {
    expect(path.isAbsolute(defaultHome())).toBe(true);
  });
});

describe('resolveHome', () => {
  it('flag > environment > default', () => {
    const env = linux({ OWNERSHIP_AUDIT_HOME: '/env/oa' });
    expect(resolveHome('/flag/oa', env)).toBe('/flag/oa');
    expect(resolveHome(undefined, env)).toBe('/env/oa');
    expect(resolveHome(undefined, linux())).toBe('/home/ada/.config/ownership-audit');
    expect(resolveHome('', linux())).toBe('/home/ada/.config/ownership-audit');
  });

  it('a relative flag is taken from the working directory', () => {
    expect(resolveHome('oa-home', linux())).toBe(path.resolve('oa-home'));
  });
});

describe('paths in the home', () => {
  it('audit.db and runs/', () => {
    expect(databasePath('/h')).toBe(path.join('/h', 'audit.db'));
    expect(runsDir('/h')).toBe(path.join('/h', 'runs'));
  });
});
