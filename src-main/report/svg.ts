/**
 * echarts' server-side rendering: the same option the app draws on screen, as an SVG
 * string for the report (no DOM, no canvas). The SVG keeps its pixel size, which the
 * report's HTML lays out at 96 px per inch (A4's 180 mm text width is 680 px).
 */
import * as echarts from 'echarts';
import type { EChartsOption } from 'echarts';

export function renderSvg(option: EChartsOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...option, animation: false });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
