/**
 * The life cycle of runs and jobs, as the store's CHECK constraints, the runner, the API
 * and the workbench know it, and the kinds of job a run is made of.
 */
export const RUN_STATUSES = ['pending', 'running', 'paused', 'cancelled', 'failed', 'completed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const JOB_STATUSES = ['pending', 'running', 'done', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * - 'train-victim': trains the victim when the spec asks for it;
 * - 'reference': one independently trained reference model of the calibration;
 * - 'calibrate': fingerprints of the victim and thresholds from the references (or reuse);
 * - 'attack': one suspect (an attack row, scenario and seed);
 * - 'score': the defences' metrics and verdict of one suspect.
 */
export const JOB_KINDS = ['train-victim', 'reference', 'calibrate', 'attack', 'score'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
