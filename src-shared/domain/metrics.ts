/**
 * How a metric reads: a distance is small for a derived model (0 against itself), a
 * similarity is large (1 against itself). Thresholds, verdicts, box plots and trajectory
 * charts all turn on this one distinction.
 */
export const METRIC_KINDS = ['distance', 'similarity'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];
