/**
 * SGD with momentum (+ decoupled-from-loss L2 weight decay, PyTorch's convention:
 * g <- g + wd * w) and Adam, written out rather than taken from tf.train so that the
 * learning rate can follow a schedule and the state can be checkpointed by name.
 *
 * The update is torch.optim.SGD's (dampening 0, no Nesterov): buf <- momentum * buf + g
 * (buf starts at g, as PyTorch's first step does: 0.9 * 0 + g), w <- w - lr * buf; Adam is
 * torch.optim.Adam's with L2 weight decay added to the gradient. Weight decay applies to
 * every variable being trained, as `torch.optim.SGD(model.parameters(), weight_decay=wd)`
 * does and as the reference recipes (the RemovalNet authors' code) use it: the engine
 * used to exempt biases and BatchNorm gamma/beta, which made "the same recipe" a different
 * one (bench/parity compares against PyTorch's default).
 */
import * as tf from '@tensorflow/tfjs';

export type OptimizerName = 'sgd' | 'adam';

export interface OptimizerConfig {
  name: OptimizerName;
  momentum: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = {
  name: 'sgd',
  momentum: 0.9,
  weightDecay: 5e-4,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
};

/**
 * Optimiser state is kept per position in the variable list it was created with, not per
 * variable name: TF.js renames variables (`kernel_1`) when several models live in one
 * process, and a checkpoint must restore into a freshly loaded model.
 */
export class Optimizer {
  private readonly slots: (tf.Variable[] | undefined)[] = [];
  private step = 0;

  constructor(
    readonly config: OptimizerConfig,
    private readonly vars: tf.Variable[],
  ) {}

  /** Applies one update with the given learning rate; disposes nothing it does not own. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    this.step++;
    const { momentum, weightDecay, beta1, beta2, epsilon } = this.config;
    const t = this.step;
    for (let i = 0; i < this.vars.length; i++) {
      const v = this.vars[i];
      const g0 = grads[v.name];
      if (!g0) continue;
      const slots = this.slotsFor(i);
      tf.tidy(() => {
        const g = weightDecay > 0 ? g0.add(v.mul(weightDecay)) : g0;
        if (this.config.name === 'sgd') {
          const buf = slots[0];
          const next = momentum > 0 ? buf.mul(momentum).add(g) : g;
          buf.assign(next);
          v.assign(v.sub(next.mul(lr)));
        } else {
          const [m, s] = slots;
          const m1 = m.mul(beta1).add(g.mul(1 - beta1));
          const s1 = s.mul(beta2).add(g.square().mul(1 - beta2));
          m.assign(m1);
          s.assign(s1);
          const mHat = m1.div(1 - beta1 ** t);
          const sHat = s1.div(1 - beta2 ** t);
          v.assign(v.sub(mHat.mul(lr).div(sHat.sqrt().add(epsilon))));
        }
      });
    }
  }

  private slotsFor(i: number): tf.Variable[] {
    let s = this.slots[i];
    if (!s) {
      const count = this.config.name === 'sgd' ? 1 : 2;
      // tf.variable() shares the initial tensor's data; tidy() frees the initial handle.
      s = Array.from({ length: count }, () => tf.tidy(() => tf.variable(tf.zerosLike(this.vars[i]), false)));
      this.slots[i] = s;
    }
    return s;
  }

  /** State for a checkpoint: step count and slot tensors named `<var index>#<slot>`. */
  state(): { step: number; tensors: { name: string; tensor: tf.Tensor }[] } {
    const tensors: { name: string; tensor: tf.Tensor }[] = [];
    this.slots.forEach((slots, i) => slots?.forEach((t, j) => tensors.push({ name: `${i}#${j}`, tensor: t })));
    return { step: this.step, tensors };
  }

  /** Restores `state()`; the variables share the tensors' data, the caller may dispose them. */
  restore(step: number, tensors: Record<string, tf.Tensor>): void {
    this.step = step;
    for (const [key, value] of Object.entries(tensors)) {
      const [i, j] = key.split('#').map(Number);
      const slots = (this.slots[i] ??= []);
      slots[j]?.dispose();
      slots[j] = tf.variable(value, false);
    }
  }

  dispose(): void {
    for (const slots of this.slots) slots?.forEach((s) => s.dispose());
    this.slots.length = 0;
  }
}

/** Which variables weight decay applies to: every trained one (PyTorch's default), for the parity harness. */
export const WEIGHT_DECAY_SCOPE = 'all' as const;
