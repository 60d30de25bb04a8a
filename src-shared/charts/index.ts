/**
 * Chart option builders shared by the app (echarts in the renderer) and the report (the
 * same options rendered to SVG by echarts' server-side renderer). Each takes plain data
 * and returns an EChartsOption with a title and animation off; none touches the DOM.
 */
export {
  PALETTE,
  TAU_COLOR,
  FONT_FAMILY,
  colorAt,
  compactNumber,
  baseOption,
  niceRange,
  niceStep,
  legendHeight,
  wrappingLegend,
} from './common';
export { trajectoryOption, niceCeil, type TrajectoryChartData, type TrajectoryPoint } from './trajectory';
export {
  boxplotHeight,
  boxplotLies,
  metricBoxplotOption,
  fiveNumbers,
  quantileSorted,
  type MetricBoxplotData,
} from './boxplot';
export { efficiencyOption, type EfficiencyChartData } from './efficiency';
export { tsneOption, type TsneChartData, type TsnePoint } from './tsne';
export { lossesOption, type LossesChartData } from './losses';
export {
  sweepFidelityOption,
  sweepMetricsOption,
  sweepCategories,
  type SweepChartData,
  type SweepPoint,
} from './sweep';
