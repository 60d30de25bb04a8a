// The engine's Conv2D layer: trains through the unfused op (no input gradient for a first
// layer), with the same outputs and weight gradients as the stock fused layer, and saves and
// loads as the stock class.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineConv2D, conv2d } from '../../src-main/engine/models/conv2d';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function pair(useBias: boolean, activation: 'linear' | 'relu') {
  const args = {
    filters: 4,
    kernelSize: 3,
    strides: 2,
    padding: 'same' as const,
    useBias,
    activation,
    inputShape: [7, 6, 2],
  };
  const ours = tf.sequential({ layers: [conv2d(args)] });
  const stock = tf.sequential({ layers: [tf.layers.conv2d(args)] });
  stock.setWeights(ours.getWeights());
  return { ours, stock };
}

function trainingGrads(model: tf.Sequential, x: tf.Tensor, w: tf.Tensor) {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar,
    );
    const out = [value, ...Object.values(grads)].map((t) => Array.from(t.dataSync()));
    return out;
  });
}

describe('EngineConv2D', () => {
  it.each([
    [false, 'linear'],
    [true, 'relu'],
  ] as const)('bias %s, %s: outputs and weight gradients equal the stock layer (1e-6)', (useBias, activation) => {
    const { ours, stock } = pair(useBias, activation);
    const x = tf.randomNormal([3, 7, 6, 2], 0, 1, 'float32', 1);
    const w = tf.randomNormal([3, 4, 3, 4], 0, 1, 'float32', 2);
    const a = trainingGrads(ours, x, w);
    const b = trainingGrads(stock, x, w);
    expect(a.length).toBe(useBias ? 3 : 2);
    a.forEach((arr, i) => arr.forEach((v, j) => expect(v).toBeCloseTo(b[i][j], 5)));
    const inferOurs = (ours.predict(x) as tf.Tensor).arraySync();
    const inferStock = (stock.predict(x) as tf.Tensor).arraySync();
    expect(inferOurs).toEqual(inferStock);
  });

  it('computes no input gradient for a first layer; the stock fused layer does', async () => {
    const { ours, stock } = pair(false, 'linear');
    const x = tf.randomNormal([2, 7, 6, 2]);
    const w = tf.randomNormal([2, 4, 3, 4]);
    const kernels = async (m: tf.Sequential) =>
      (await tf.profile(() => void trainingGrads(m, x, w))).kernelNames.filter((k) => k === 'Conv2DBackpropInput');
    expect(await kernels(ours)).toEqual([]);
    expect(await kernels(stock)).toEqual(['Conv2DBackpropInput']);
  });

  it('serialises as the stock Conv2D and loads back as the engine layer', () => {
    const { ours } = pair(true, 'relu');
    const json = JSON.stringify(ours.toJSON(null, false));
    expect(json).toContain('"class_name":"Conv2D"');
    const back = tf.models.modelFromJSON(JSON.parse(json) as tf.io.ModelJSON['modelTopology'] as never);
    return back.then((m) => expect(m.layers[0]).toBeInstanceOf(EngineConv2D));
  });
});
