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
 * The training path repeats the stock one op for op (tf.moments, tf.batchNorm, the moving
 * average `moving - (moving - value) * (1 - momentum)`), so gradients are bit-identical to
 * the stock layer's; inference delegates to the stock layer. A BN over a non-last axis
 * (never built by the zoo) keeps the stock behaviour.
 */
import * as tf from '@tensorflow/tfjs';

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
    return tf.tidy(() => {
      const reductionAxes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      const { mean, variance } = tf.moments(x, reductionAxes);
      const out = tf.batchNorm(x, mean, variance, beta?.read(), gamma?.read(), epsilon);
      const n = reductionAxes.reduce((p, a) => p * x.shape[a], 1);
      const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
      const decay = 1 - momentum;
      for (const [v, value] of [
        [movingMean, mean],
        [movingVariance, unbiased],
      ] as const) {
        const old = v.read();
        v.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
      }
      return out;
    });
  }
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
