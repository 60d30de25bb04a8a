// Whether Electron is here, and how much of it: the package (its type declarations and
// version, what typechecking and bundling the desktop shell need) and its binary (what
// launching the app needs). npm drops the optional `electron` package where the binary's
// download fails (an offline machine), and installs the package alone where the download
// is skipped (ELECTRON_SKIP_BINARY_DOWNLOAD=1).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The installed Electron package's version, or undefined when npm dropped the package. */
export function electronPackageVersion() {
  try {
    return require('electron/package.json').version;
  } catch {
    return undefined;
  }
}

/** The Electron binary, or undefined: require('electron') throws when the download was skipped. */
export function electronBinary() {
  try {
    const p = require('electron');
    return typeof p === 'string' && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

export const ELECTRON_ABSENT_NOTE =
  "Electron's package is not installed (npm drops it where its binary cannot be downloaded, e.g. offline)";
