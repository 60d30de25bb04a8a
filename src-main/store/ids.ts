/**
 * Short ids that sort by creation time and read well in a terminal:
 * `r-20261130-031500-ab12` (run), `c-...` (calibration). The UTC second comes first so
 * `ls runs/` and `ORDER BY id` list oldest first; 16 random bits tell apart ids made in
 * the same second (the store retries on the rare collision).
 */
import { randomBytes } from 'node:crypto';

export type IdPrefix = 'r' | 'c';

export function newId(prefix: IdPrefix, now: Date = new Date()): string {
  const iso = now.toISOString(); // 2026-11-30T03:15:00.123Z
  const day = iso.slice(0, 10).replaceAll('-', '');
  const time = iso.slice(11, 19).replaceAll(':', '');
  return `${prefix}-${day}-${time}-${randomBytes(2).toString('hex')}`;
}

export const ID_PATTERN = /^[rc]-\d{8}-\d{6}-[0-9a-f]{4}$/;
