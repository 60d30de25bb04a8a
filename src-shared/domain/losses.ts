/**
 * Which progress values are losses: drawn on the losses chart while a job runs, and stored
 * with the run so a finished run shows them too.
 */
const LOSS_KEYS = new Set(['loss', 'ce', 'kl', 'feat']);

export function isLossKey(k: string): boolean {
  return LOSS_KEYS.has(k) || /loss$/i.test(k);
}
