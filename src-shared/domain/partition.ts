/**
 * A partition "k/n": part k (0-based) of n equal, seeded parts of a data set. The victim may
 * train on one part and an S_LSD attacker hold another. Spec validation, the wizard and the
 * engine's splitter all read the notation here.
 */
const PARTITION_RE = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;

/** { k, n } for a valid "k/n" (0 <= k < n, n >= 1), else null. */
export function parsePartitionText(text: string): { k: number; n: number } | null {
  const m = PARTITION_RE.exec(text);
  if (!m) return null;
  const k = Number(m[1]);
  const n = Number(m[2]);
  return n >= 1 && k < n ? { k, n } : null;
}

export function isPartition(text: string): boolean {
  return parsePartitionText(text) !== null;
}

/** "k/n" without spaces, for comparing two partitions. */
export function normalizePartition(text: string): string {
  return text.replace(/\s/g, '');
}
