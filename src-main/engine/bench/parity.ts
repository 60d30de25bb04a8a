/**
 * Training-parity harness: trains a zoo model with the engine and the same network with
 * PyTorch (bench/parity/torch_parity.py, run by Debian's /usr/bin/python3 with torch) from
 * the same initial weights on the same batches, and compares
 *
 *   - the loss of every step,
 *   - the gradient of every trainable variable at step 1,
 *   - every weight (and BatchNorm moving statistic) after the last step,
 *   - in lockstep, every step's gradient recomputed by the engine from PyTorch's
 *     parameters at that step (see `lockstepCheck`).
 *
 * Why: the engine's training path (initialisers aside, which are checked statistically
 * here because weights are copied across) must be numerically the PyTorch recipe it
 * claims to be; a silent difference in the BatchNorm gradient, the optimiser, weight decay,
 * the loss or the schedule shows up as a learning gap that no unit test of one op catches.
 *
 * The engine side goes through the real training loop (`train()`): its batch plan, its
 * schedule and its optimiser; only the step-1 gradient is taken separately (then the
 * initial weights, moving statistics included, are restored).
 *
 * Relative difference of a tensor: max |engine - torch| / max |torch| (the inf-norm,
 * so that entries near zero do not dominate); of the loss curve: max over steps of
 * |engine - torch| / |torch|. PyTorch runs in float64 by default (the exact reference).
 *
 * Two free-running trajectories (float32 engine, float64 PyTorch) can part after a few
 * dozen steps without anything being wrong: once a ReLU input lies within rounding of 0
 * the two sides may take different branches, and SGD with momentum amplifies the
 * difference (seen on wasm, whose float32 sums are ~10x noisier than the cpu backend's
 * float64-accumulated JS loops). The lockstep comparison tells that apart from a wrong
 * step: it restarts every step from PyTorch's own parameters.
 */

// The harness is split by side: parity-case.ts (one case), parity-suite.ts (every case, backend
// switching), parity-measure.ts (engine-side measures), parity-torch.ts (the PyTorch side and
// its exchange files), parity-types.ts (shapes and tolerance). This module is its public face.
export { runParityCase } from './parity-case';
export { relDiff } from './parity-measure';
export {
  PARITY_ARCH_OPTIONS,
  runParitySuite,
  useBackend,
  type ParitySuiteOptions,
  type ParitySuiteResult,
} from './parity-suite';
export { PYTHON, torchAvailable } from './parity-torch';
export {
  PARITY_TOLERANCE,
  type InitCheck,
  type LockstepResult,
  type ParityCase,
  type ParityCaseResult,
  type ParityOptions,
  type TensorDiff,
} from './parity-types';
