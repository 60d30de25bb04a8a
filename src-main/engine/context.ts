/**
 * What a long engine operation (an attack, a calibration, fingerprint extraction) gets
 * from its caller: a seed, cancellation, and a sink for progress. The engine never knows
 * whether the caller is the CLI, a worker process or a test.
 */
import { AuditError } from './errors';
import { createRng, type Rng } from './rng';

export interface ProgressEvent {
  /** What is running, e.g. 'removalnet', 'calibrate:reference-3', 'deepjudge.extract'. */
  stage: string;
  iteration: number;
  total: number;
  /** Named figures of this step: losses, fidelity, throughput... */
  values?: Record<string, number>;
  etaSeconds?: number;
}

export interface RunContext {
  seed: number;
  signal?: AbortSignal;
  progress?: (e: ProgressEvent) => void;
  log?: (message: string) => void;
  /**
   * Where given, operations that name their phases (RemovalNet's iteration) add each phase's
   * wall-clock milliseconds here: what `bench/removalnet-cost.ts` reports. Kernels run
   * synchronously on the CPU backends, so wall-clock time is the phase's compute.
   */
  phaseTimes?: Map<string, number>;
}

/** Runs `fn`, adding its wall-clock time to `ctx.phaseTimes` under `phase` where asked. */
export function timedPhase<T>(ctx: RunContext, phase: string, fn: () => T): T {
  if (!ctx.phaseTimes) return fn();
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    ctx.phaseTimes.set(phase, (ctx.phaseTimes.get(phase) ?? 0) + performance.now() - t0);
  }
}

export function contextRng(ctx: RunContext, stream = 0): Rng {
  return createRng((ctx.seed * 2654435761 + stream * 40503) >>> 0);
}

/** Throws CANCELLED when the caller aborted; call between iterations. */
export function throwIfCancelled(ctx: RunContext, what: string): void {
  if (ctx.signal?.aborted) {
    throw new AuditError('CANCELLED', `${what} was cancelled`, {
      hint: 'Run it again; runs with checkpoints resume where they stopped.',
    });
  }
}

/**
 * Lets queued I/O callbacks run (a cancel message, the parent's disconnect): training steps
 * are synchronous, so a loop of them would otherwise only notice at its next file write.
 * Costs a few microseconds per call; call once per iteration.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
