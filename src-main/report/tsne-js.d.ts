/** Types for tsne-js 1.0.3 (the package ships none): the parts the report uses. */
declare module 'tsne-js' {
  import { EventEmitter } from 'node:events';

  export interface TSNEConfig {
    dim?: number;
    perplexity?: number;
    earlyExaggeration?: number;
    learningRate?: number;
    nIter?: number;
    metric?: 'euclidean' | 'manhattan' | 'jaccard' | 'dice';
  }

  export default class TSNE extends EventEmitter {
    constructor(config?: TSNEConfig);
    init(opts: { data: number[][]; type?: 'dense' | 'sparse' }): void;
    /** [final error, iterations]. Emits 'progressIter' with [iteration, error, gradNorm] before each step. */
    run(): [number, number];
    getOutput(): number[][];
    /** The embedding as an ndarray (row-major, [samples, dim]); its `data` may be overwritten after init. */
    outputEmbedding: { data: Float64Array; shape: number[] };
  }
}
