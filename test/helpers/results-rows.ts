/**
 * A run's results rows as two runners of the same spec and seeds must agree on them: every
 * field but wall-clock seconds, which differ between any two runs. The local runner's rows
 * of the smoke audit are pinned in test/runner/__snapshots__/smoke-rows.json; the
 * distributed runner's are held to them within a tolerance.
 */
import { expect } from 'vitest';

export function comparableRows(rows: unknown): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v)
          .filter(([k]) => k !== 'seconds')
          .map(([k, x]) => [k, strip(x)]),
      );
    return v;
  };
  return strip(rows);
}

/** Every number of `actual` within `tol` of `expected`, every other value and key identical. */
export function expectRowsClose(expected: unknown, actual: unknown, tol = 1e-6, path = 'rows'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    expect(Math.abs(expected - actual), `${path}: ${expected} vs ${actual}`).toBeLessThanOrEqual(tol);
  } else if (expected && typeof expected === 'object') {
    expect(actual && typeof actual === 'object', path).toBe(true);
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [k, v] of Object.entries(expected))
      expectRowsClose(v, (actual as Record<string, unknown>)[k], tol, `${path}.${k}`);
  } else expect(actual, path).toEqual(expected);
}
