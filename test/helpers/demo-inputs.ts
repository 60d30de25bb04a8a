import { resolve } from 'node:path';

/** The embedded demo victim and data, as the presets (smokeSpec, demoSpec) take them. */
export const DEMO_INPUTS = {
  demoModel: resolve('resources/models/demo-victim'),
  demoData: resolve('resources/datasets/fashion-mnist-demo'),
};
