/**
 * BatchNormalization with PyTorch's training-mode semantics, registered under TF.js's own
 * class name so that saved models keep the stock `BatchNormalization` format and every BN
 * layer the engine builds or loads behaves the same way.
 *
 * Why: the stock TF.js layer folds the *biased* batch variance (divided by n) into the
 * moving variance; PyTorch's nn.BatchNorm2d (and Keras in Python since TF 2) folds the
 * unbiased one (divided by n - 1), n = batch x height x width. The normalisation of the
 * batch itself uses the biased variance in both, so training-mode outputs and gradients
 * are unchanged; only the statistics used at inference differ (by n / (n - 1): small for
 * large batches, about 1% for a batch of 32 at 2x2, as in fine-tuning small surrogates).
 * The parity harness (src-main/engine/bench/parity.ts) compares them after training.
 *
 * The training path computes the same batch statistics as the stock one (tf.moments) and the
 * moving average `moving - (moving - value) * (1 - momentum)`; its gradient is written out
 * in closed form (`batchNormTraining`), equal to the autodifferentiated stock one up to
 * float32 rounding; inference delegates to the stock layer. A BN over a non-last axis, or
 * without gamma or beta (never built by the zoo), keeps the stock ops.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_GRAD, BATCH_NORM_MOMENTS } from '../wasm-kernels/batch-norm-train';

type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];
type LayerCtor = new (args?: BatchNormArgs) => tf.layers.Layer;

// The stock class, taken from a fresh instance (not from the serialization registry, which
// after the registration below holds this module's class).
const StockBatchNormalization = tf.layers.batchNormalization({}).constructor as LayerCtor;

interface BnConfig {
  axis: number;
  momentum: number;
  epsilon: number;
}

export class TorchBatchNormalization extends StockBatchNormalization {
  /** The stock name: model.json files stay readable by any TF.js. */
  static className = 'BatchNormalization';
  private bnConfig?: BnConfig;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const { axis, momentum, epsilon } = (this.bnConfig ??= this.getConfig() as unknown as BnConfig);
    const channelAxis = axis < 0 ? axis + x.rank : axis;
    if (!kwargs.training || channelAxis !== x.rank - 1) return super.call(inputs, kwargs);
    const weight = (role: string) => this.weights.find((w) => w.originalName.endsWith(`/${role}`));
    const gamma = weight('gamma');
    const beta = weight('beta');
    const movingMean = weight('moving_mean')!;
    const movingVariance = weight('moving_variance')!;
    if (!gamma || !beta) return stockTrainingCall(x, gamma, beta, movingMean, movingVariance, momentum, epsilon);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(x, gamma.read(), beta.read(), epsilon);
      updateMovingStatistics(x, mean, variance, movingMean, movingVariance, momentum);
      tf.dispose([mean, variance]);
      return y;
    });
  }
}

/** Without gamma or beta (never built by the zoo): the stock ops, autodifferentiated. */
function stockTrainingCall(
  x: tf.Tensor,
  gamma: tf.LayerVariable | undefined,
  beta: tf.LayerVariable | undefined,
  movingMean: tf.LayerVariable,
  movingVariance: tf.LayerVariable,
  momentum: number,
  epsilon: number,
): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, leadingAxes(x));
    const out = tf.batchNorm(x, mean, variance, beta?.read(), gamma?.read(), epsilon);
    updateMovingStatistics(x, mean, variance, movingMean, movingVariance, momentum);
    return out;
  });
}

function leadingAxes(x: tf.Tensor): number[] {
  return Array.from({ length: x.rank - 1 }, (_, i) => i);
}

/** PyTorch's update: moving = moving - (moving - value) * (1 - momentum), with the unbiased variance. */
function updateMovingStatistics(
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  movingMean: tf.LayerVariable,
  movingVariance: tf.LayerVariable,
  momentum: number,
): void {
  tf.tidy(() => {
    const n = x.size / x.shape[x.rank - 1];
    const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
    const decay = 1 - momentum;
    for (const [v, value] of [
      [movingMean, mean],
      [movingVariance, unbiased],
    ] as const) {
      const old = v.read();
      v.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
    }
  });
}

/**
 * Training-mode batch normalisation over the last axis with its gradient written out
 * (one op to the tape) instead of autodifferentiated through tf.moments and tf.batchNorm.
 *
 * Why: the autodiff path ran about 30 full-size elementwise kernels per BN layer backwards
 * (the gradients of mean, squared difference, mean again and of batchNorm's five inputs),
 * roughly as much time as the convolution gradients of the CNN. The closed form needs two
 * reductions and one per-channel affine combination:
 *   xhat = (x - mean) * invstd,  y = gamma * xhat + beta,  N = elements per channel,
 *   dbeta = sum(dy),  dgamma = sum(dy * xhat),
 *   dx = gamma * invstd * (dy - dbeta / N - xhat * dgamma / N)
 * (the same formula as PyTorch's native batch_norm_backward). The batch statistics are the
 * biased ones, as in the stock layer and PyTorch; `mean` and `variance` are returned for the
 * moving averages (not differentiated: the running statistics carry no gradient).
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  if (hasOnePassKernels(x)) return batchNormTrainingOnePass(x, gamma, beta, epsilon);
  const axes = leadingAxes(x);
  let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
  // customGrad passes the inputs, then the save function, as one rest list.
  const normalise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const { mean, variance } = tf.moments(xIn, axes);
    const invstd = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = tf.mul(tf.sub(xIn, mean), invstd);
    save([xhat, invstd, g]);
    // Kept out of the op's scope for the caller, who disposes them.
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, inv, gm] = saved;
        const n = xh.size / xh.shape[xh.rank - 1];
        const dbeta = tf.sum(dy, axes);
        const dgamma = tf.sum(tf.mul(dy, xh), axes);
        const scale = tf.mul(gm, inv);
        const perN = tf.div(scale, -n);
        // dx = dy * scale + xhat * (-scale * dgamma / N) + (-scale * dbeta / N)
        const dx = tf.add(tf.mul(dy, scale), tf.add(tf.mul(xh, tf.mul(perN, dgamma)), tf.mul(perN, dbeta)));
        return [dx, dgamma, dbeta];
      },
    };
  });
  const y = normalise(x, gamma, beta);
  if (!stats) throw new Error('batchNormTraining: the forward pass did not run');
  return { y, ...stats };
}

/**
 * Whether the active backend has the one-pass kernels of wasm-kernels/batch-norm-train.ts
 * for x (wasm, float32, channels a multiple of 4).
 */
function hasOnePassKernels(x: tf.Tensor): boolean {
  return (
    x.dtype === 'float32' &&
    x.shape[x.rank - 1] % 4 === 0 &&
    tf.getKernel(BATCH_NORM_MOMENTS, tf.getBackend()) !== undefined &&
    tf.getKernel(BATCH_NORM_GRAD, tf.getBackend()) !== undefined
  );
}

/**
 * `batchNormTraining` with the statistics and the gradient as one kernel each: the same
 * formulas, with the sums in float64 and xhat never stored (the gradient reads x and mean).
 */
function batchNormTrainingOnePass(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
  const normalise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [mean, variance] = tf.engine().runKernel(BATCH_NORM_MOMENTS, { x: xIn }, {}) as tf.Tensor[];
    const invstd = tf.rsqrt(tf.add(variance, epsilon));
    save([xIn, mean, invstd, g]);
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
    return {
      value: tf.batchNorm(xIn, mean, variance, b, g, epsilon),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, m, inv, gm] = saved;
        return tf
          .engine()
          .runKernel(BATCH_NORM_GRAD, { dy, x: xs, mean: m, invstd: inv, gamma: gm }, {}) as tf.Tensor[];
      },
    };
  });
  const y = normalise(x, gamma, beta);
  if (!stats) throw new Error('batchNormTraining: the forward pass did not run');
  return { y, ...stats };
}

// Layer's static fromConfig (new cls(config)) is inherited at run time; the declared
// constructor type above does not carry it.
tf.serialization.registerClass(
  TorchBatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>,
);

/** A BatchNormalization layer with PyTorch's moving-variance update (see the module comment). */
export function batchNormalization(args: BatchNormArgs): tf.layers.Layer {
  return new TorchBatchNormalization(args);
}
