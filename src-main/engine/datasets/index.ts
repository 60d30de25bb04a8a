/** Data sets: loading (IDX, CIFAR binary, image folders), normalisation and splits. */
export type {
  Dataset,
  DatasetLayout,
  ImageSet,
  InputShape,
  LoadDatasetOptions,
  Normalization,
  RawSplit,
} from './types';
export { loadDataset, detectLayout, EXPECTED_LAYOUTS, type DetectedLayout } from './load';
export { normalizeWith, computeNormalization, balancedPrefixIndices, balancedQuotas, resizeImages } from './transform';
export {
  subset,
  partition,
  partitionIndices,
  partitionAssignment,
  parsePartition,
  disjointComplement,
  classBalancedFraction,
  classBalancedIndices,
  adaptToInput,
  batches,
} from './splits';
