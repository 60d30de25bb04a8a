/**
 * Parsers for numeric CLI flags that reject garbage instead of turning it into NaN, and
 * commander's own errors as the CLI's typed error.
 */
import { statSync } from 'node:fs';
import { InvalidArgumentError, type CommanderError } from 'commander';
import { AuditError } from '../engine/errors';

export function intArg(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer >= ${min}, got "${value}"`);
    return n;
  };
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

/**
 * A command-line error found by commander (unknown option or command, missing argument, a
 * value a parser above rejected) as the CLI's typed error, for `--json` output.
 */
export function commanderToAuditError(e: CommanderError): AuditError {
  return new AuditError('INVALID_ARGUMENT', e.message.replace(/^error:\s*/, '').trim(), {
    hint: 'See `ownership-audit <command> --help` for the commands, their arguments and options.',
  });
}

/**
 * A model is saved as a folder: an `--out` that is an existing file would be found by the
 * save, after the training. Checked before the backend starts.
 */
export function modelOutFolder(out: string): string {
  let isFile = false;
  try {
    isFile = !statSync(out).isDirectory();
  } catch {
    // Not there yet: the save creates it.
  }
  if (isFile)
    throw new AuditError('INVALID_ARGUMENT', `--out: ${out} is a file; a model is saved as a folder`, {
      hint: 'Pass a folder path for --out (a new one, or a model folder to replace); nothing was trained.',
    });
  return out;
}
