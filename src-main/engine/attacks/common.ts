/**
 * What every attack shares, gathered for the attacks' imports: request and parameter
 * checks (request.ts), the models an attack works on (surrogate.ts), deterministic batches
 * (batches.ts), the attack loop (loop.ts) and the one gradient step (gradient-step.ts).
 */
export {
  DEFAULT_BATCH_SIZE,
  LABELS_PARAM,
  checkRequest,
  num,
  paramsOf,
  requestBlock,
  str,
  trainingLabels,
} from './request';
export {
  cloneModel,
  derivedLineage,
  derivedMeta,
  freshModel,
  relabel,
  trainableVariables,
  victimLabels,
  withSurrogate,
  withTaps,
} from './surrogate';
export { BatchOrder, mixSeed } from './batches';
export { runAttackLoop, trajectoryDir, type LoopResult, type LoopSpec, type StepArgs, type StepOutput } from './loop';
export { crossEntropyStep, gradientStep, type Objective } from './gradient-step';
