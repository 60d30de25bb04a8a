/** Learning-rate schedules over iterations. */
export type ScheduleName = 'cosine' | 'constant';

/**
 * Cosine annealing from `base` to 0 over `total` iterations (Loshchilov & Hutter), with an
 * optional linear warm-up; `constant` keeps `base`.
 */
export function learningRateAt(
  schedule: ScheduleName,
  base: number,
  iteration: number,
  total: number,
  warmup = 0,
): number {
  if (warmup > 0 && iteration < warmup) return (base * (iteration + 1)) / warmup;
  if (schedule === 'constant') return base;
  const span = Math.max(1, total - warmup);
  const t = Math.min(1, (iteration - warmup) / span);
  return 0.5 * base * (1 + Math.cos(Math.PI * t));
}
