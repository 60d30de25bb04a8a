/**
 * The report JSON of a run with what legitimately differs between two runs of the same spec
 * replaced by placeholders: clock readings (timestamps, seconds), run and calibration ids,
 * the home and repository paths (and the spec and calibration hashes, which cover them), and
 * the Node version. Everything else, every figure included, must match bit for bit: the smoke
 * snapshot test pins behaviour across refactors.
 */
const VOLATILE_KEYS = new Set([
  'generatedAt',
  'createdAt',
  'startedAt',
  'finishedAt',
  'wallSeconds',
  'seconds',
  'node',
  'specHash',
]);
const RUN_ID = /\br-\d{8}-\d{6}-[0-9a-f]{4}\b/g;
const CALIBRATION_ID = /\bc-\d{8}-\d{6}-[0-9a-f]{4}\b/g;

export function stableReport(report: unknown, paths: { home: string; repo: string }): unknown {
  const text = (s: string): string =>
    s
      .split(paths.home)
      .join('<home>')
      .split(paths.repo)
      .join('<repo>')
      .replace(RUN_ID, '<run>')
      .replace(CALIBRATION_ID, '<calibration>');
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, VOLATILE_KEYS.has(k) ? '<volatile>' : walk(x)]));
    }
    return typeof v === 'string' ? text(v) : v;
  };
  const stable = walk(report) as { calibration?: { document?: { contentHash?: unknown } } | null };
  // The calibration document's hash covers its createdAt and paths (both masked above).
  if (stable.calibration?.document?.contentHash !== undefined) stable.calibration.document.contentHash = '<volatile>';
  return stable;
}
