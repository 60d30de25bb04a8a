/**
 * The training-parity harness's shapes: a case, its options, what it measures and the
 * tolerance it is judged by. Apart from the code so that the CLI, the bench scripts and the
 * tests can read results without pulling in the harness (see parity.ts for the measures).
 */
import type { OptimizerConfig } from '../training/optimizers';
import type { ScheduleName } from '../training/schedule';

/** Agreement the harness asks for (see the module comment for the measures). */
export const PARITY_TOLERANCE = { step1Gradient: 1e-4, lossCurve: 1e-2 } as const;

export interface ParityCase {
  arch: string;
  width?: number;
  blocks?: number;
  depth?: number;
  hidden?: number;
  iterations: number;
  batchSize: number;
  learningRate?: number;
  schedule?: ScheduleName;
  seed?: number;
  optimizer?: Partial<OptimizerConfig>;
}

export interface TensorDiff {
  name: string;
  shape: number[];
  maxAbsDiff: number;
  maxAbsRef: number;
  relDiff: number;
}

export interface InitCheck {
  name: string;
  /** Fan-in of the kernel (kh * kw * in for a conv, in for a dense layer). */
  fanIn: number;
  std: number;
  /** PyTorch's std for it: kaiming_normal_ sqrt(2 / fanIn) for a conv, nn.Linear's 1 / sqrt(3 fanIn) for a dense layer. */
  expectedStd: number;
  ratio: number;
  initializer: string;
}

export interface ParityCaseResult {
  arch: string;
  backend: string;
  config: Required<Pick<ParityCase, 'iterations' | 'batchSize' | 'learningRate' | 'schedule' | 'seed'>> & {
    archOptions: Record<string, number>;
    optimizer: OptimizerConfig;
    weightDecayScope: string;
    inputShape: number[];
  };
  torchVersion: string;
  referenceDtype: string;
  losses: { engine: number[]; torch: number[] };
  lossMaxRelDiff: number;
  /** Largest per-variable relative difference of the step-1 gradients, and which variable. */
  gradMaxRelDiff: number;
  gradWorst: string;
  /** Same for the weights after the last step (trainable variables and moving statistics). */
  weightMaxRelDiff: number;
  weightWorst: string;
  step1Loss: { engine: number; torch: number };
  /**
   * Every step recomputed by the engine from PyTorch's parameters at that step: the step
   * function compared without the chaos of two free-running float32/float64 trajectories.
   */
  lockstep: LockstepResult;
  learningRates: { maxAbsDiff: number };
  gradients: TensorDiff[];
  finalWeights: TensorDiff[];
  init: InitCheck[];
  tolerance: typeof PARITY_TOLERANCE;
  /** First step (1-based) whose loss differs by more than 1e-4 relative; null if none. */
  firstPartingStep: number | null;
  /**
   * Max relative difference of PyTorch's float32 loss curve from its float64 one on this case;
   * measured only when the engine's curve misses PARITY_TOLERANCE.lossCurve.
   */
  torchFloat32LossDrift?: number;
  /**
   * Step-1 gradients within PARITY_TOLERANCE, and the free-running loss curve within it or,
   * with the lockstep gradients agreeing, no further from the float64 curve than PyTorch's own
   * float32 run is.
   */
  pass: boolean;
  /** Why a case outside tolerance is (or is not) explained, when it can be said. */
  note?: string;
}

export interface ParityOptions {
  /** The PyTorch script (default bench/parity/torch_parity.py under `root`). */
  script?: string;
  root?: string;
  python?: string;
  /** Keep the exchange directory (for debugging); default: removed. */
  keepDir?: boolean;
  timeoutMs?: number;
  /**
   * Arithmetic of the PyTorch reference (default float64: the exact gradient; PyTorch's own
   * float32 CPU kernels were measured further from it than the engine's float32 is).
   */
  referenceDtype?: 'float32' | 'float64';
}

export interface LockstepResult {
  /** Per step: the largest per-variable relative gradient difference. */
  gradRelDiff: number[];
  gradMaxRelDiff: number;
  gradMedianRelDiff: number;
  worst: { step: number; variable: string };
  /** Steps whose gradient differs by more than the step-1 tolerance. */
  stepsOverTolerance: number;
  lossMaxRelDiff: number;
}
