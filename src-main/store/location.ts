/**
 * Where the audit home lives: one per-user folder shared by the Electron app and the CLI,
 * so a run started from either shows up in both. Everything here is a pure function of
 * (platform, environment, home directory): callers pass `process.*` and `os.homedir()`,
 * tests pass whatever they like. `path.posix`/`path.win32` are picked by the *given*
 * platform, not the host's, so Windows paths come out right when tested on Linux.
 */
import { homedir } from 'node:os';
import path from 'node:path';

export const APP_DIR_NAME = 'ownership-audit';
export const HOME_ENV = 'OWNERSHIP_AUDIT_HOME';

export interface LocationEnv {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  homedir: string;
}

function hostEnv(): LocationEnv {
  return { platform: process.platform, env: process.env, homedir: homedir() };
}

function pathFor(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** A set, non-blank environment value (a blank `XDG_CONFIG_HOME=` means unset, per the XDG spec). */
function envValue(env: LocationEnv['env'], name: string): string | undefined {
  const v = env[name];
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

/**
 * The platform's per-user application data folder plus `ownership-audit` (the same folder
 * Electron's `app.getPath('userData')` uses for an app of that name), or
 * `$OWNERSHIP_AUDIT_HOME` when set.
 */
export function defaultHome(loc: LocationEnv = hostEnv()): string {
  const override = envValue(loc.env, HOME_ENV);
  if (override) return pathFor(loc.platform).resolve(override);
  const p = pathFor(loc.platform);
  switch (loc.platform) {
    case 'win32':
      return p.join(envValue(loc.env, 'APPDATA') ?? p.join(loc.homedir, 'AppData', 'Roaming'), APP_DIR_NAME);
    case 'darwin':
      return p.join(loc.homedir, 'Library', 'Application Support', APP_DIR_NAME);
    default: {
      // XDG: a relative XDG_CONFIG_HOME is invalid and must be ignored.
      const xdg = envValue(loc.env, 'XDG_CONFIG_HOME');
      return p.join(xdg && p.isAbsolute(xdg) ? xdg : p.join(loc.homedir, '.config'), APP_DIR_NAME);
    }
  }
}

/** The home to use: an explicit `--home` flag wins over the environment, which wins over the default. */
export function resolveHome(flag?: string, loc: LocationEnv = hostEnv()): string {
  if (flag !== undefined && flag.trim() !== '') return pathFor(loc.platform).resolve(flag);
  return defaultHome(loc);
}

export function databasePath(home: string): string {
  return path.join(home, 'audit.db');
}

export function runsDir(home: string): string {
  return path.join(home, 'runs');
}
