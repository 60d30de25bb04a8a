/**
 * The frozen victim's logits per substitute example, asked once and kept.
 *
 * Why: RemovalNet labels every batch with the victim (y = argmax F_V(x), p = softmax F_V(x)),
 * and the victim never changes during the attack, so each example's answer is the same every
 * time it comes round again. A 1,000-iteration run at batch 128 over 2,000 examples visits
 * each one 64 times: the victim's forward pass was a full inference per iteration, the same
 * work repeated. An attacker with API access keeps the answers too (KnockoffNets' query
 * budget counts each image once).
 *
 * How: a [count x classes] table filled on first use. A batch's unseen examples are sent to
 * the victim together (inference mode, so an example's logits do not depend on the others in
 * its batch), the rest read from the table. Memory: classes floats per example.
 */
import * as tf from '@tensorflow/tfjs';

export class VictimLogits {
  private readonly table: Float32Array;
  private readonly known: Uint8Array;

  constructor(
    private readonly victim: tf.LayersModel,
    private readonly numClasses: number,
    count: number,
  ) {
    this.table = new Float32Array(count * numClasses);
    this.known = new Uint8Array(count);
  }

  /**
   * Logits [n, classes] for the examples `indices` whose images are the rows of `x`, and how
   * many of them the victim had to answer now (the rest were known).
   */
  get(x: tf.Tensor, indices: ArrayLike<number>): { logits: tf.Tensor2D; queried: number } {
    const k = this.numClasses;
    const missing: number[] = [];
    for (let row = 0; row < indices.length; row++) if (!this.known[indices[row]]) missing.push(row);
    if (missing.length > 0) {
      const answers = tf.tidy(() => {
        const rows = missing.length === indices.length ? x : tf.gather(x, missing);
        return this.victim.predict(rows) as tf.Tensor2D;
      });
      const values = answers.dataSync() as Float32Array;
      answers.dispose();
      missing.forEach((row, i) => {
        const at = indices[row];
        this.table.set(values.subarray(i * k, (i + 1) * k), at * k);
        this.known[at] = 1;
      });
    }
    const out = new Float32Array(indices.length * k);
    for (let row = 0; row < indices.length; row++)
      out.set(this.table.subarray(indices[row] * k, (indices[row] + 1) * k), row * k);
    return { logits: tf.tensor2d(out, [indices.length, k]), queried: missing.length };
  }
}
