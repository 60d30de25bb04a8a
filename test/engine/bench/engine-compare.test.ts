import { describe, expect, it } from 'vitest';
import type { ModelBenchResult } from '../../../src-main/engine/bench/engine-bench';
import { compareRounds, medianOf, type PytorchFigure } from '../../../src-main/engine/bench/engine-compare';

const engine = (arch: string, infer: number, train: number, threads = 1): ModelBenchResult => ({
  arch,
  threads,
  inputShape: [28, 28, 1],
  batch: 128,
  forwardMflopsPerExample: 10,
  inferExPerSec: infer,
  trainExPerSec: train,
  inferGflops: (infer * 10) / 1000,
  trainGflops: (train * 30) / 1000,
});
const torch = (arch: string, threads: number, infer: number, train: number): PytorchFigure => ({
  engine: 'pytorch-cpu',
  version: '1.13',
  threads,
  arch,
  batch: 128,
  trainExPerSec: train,
  inferExPerSec: infer,
});

describe('engine against PyTorch over interleaved rounds', () => {
  it('medians: middle of an odd count, mean of the middle two of an even one', () => {
    expect(medianOf([5, 1, 3])).toBe(3);
    expect(medianOf([4, 1, 3, 2])).toBe(2.5);
    expect(() => medianOf([])).toThrow();
  });

  it('takes each figure as the median over rounds, then the ratios and targets from the medians', () => {
    // Round 2 is slowed down on both sides (a busy machine): the medians ignore it.
    // The engine runs each round on 1 and on 2 threads; each is compared with PyTorch on as many.
    const rounds = [
      {
        engine: [engine('cnn28', 1200, 400), engine('cnn28', 2000, 440, 2)],
        pytorch: [torch('cnn28', 1, 700, 350), torch('cnn28', 2, 800, 400)],
      },
      {
        engine: [engine('cnn28', 600, 100), engine('cnn28', 900, 150, 2)],
        pytorch: [torch('cnn28', 1, 300, 100), torch('cnn28', 2, 400, 150)],
      },
      {
        engine: [engine('cnn28', 1300, 500), engine('cnn28', 2100, 460, 2)],
        pytorch: [torch('cnn28', 1, 800, 330), torch('cnn28', 2, 820, 420)],
      },
    ];
    const c = compareRounds(rounds);
    expect(c.rounds).toBe(3);
    expect(c.models.map((m) => m.threads)).toEqual([1, 2]);
    expect(c.models[0].inferExPerSec).toBe(1200);
    expect(c.models[0].trainExPerSec).toBe(400);
    // 400 ex/s x 3 x 10 MFLOP = 12 GFLOP/s against 1200 x 10 MFLOP = 12 GFLOP/s.
    expect(c.models[0].trainOverInferGflops).toBeCloseTo(1, 12);
    // On 2 threads: 440 x 3 x 10 = 13.2 against 2000 x 10 = 20 GFLOP/s.
    expect(c.models[1].trainOverInferGflops).toBeCloseTo(0.66, 12);
    const r1 = c.ratios.find((r) => r.threads === 1);
    const r2 = c.ratios.find((r) => r.threads === 2);
    expect(r1?.train).toBeCloseTo(400 / 330, 12);
    expect(r1?.infer).toBeCloseTo(1200 / 700, 12);
    expect(r2?.train).toBeCloseTo(440 / 400, 12);
    expect(r2?.infer).toBeCloseTo(2000 / 800, 12);
    const vsTorch = c.targets.find((t) => t.target.includes('PyTorch'));
    expect(vsTorch).toMatchObject({ arch: 'cnn28', required: 1.2, met: false });
    expect(vsTorch?.measured).toBeCloseTo(1.1, 12);
    const ratios = c.targets.filter((t) => t.target.includes('inference'));
    expect(ratios.map((t) => t.met)).toEqual([true, false]);
  });

  it('a model PyTorch does not build has no ratio, and no PyTorch figures means no PyTorch target', () => {
    const c = compareRounds([{ engine: [engine('resnet', 300, 50)], pytorch: [] }]);
    expect(c.ratios).toEqual([]);
    // 50 x 3 / 300 = 0.5 < 0.8: stated as not met.
    expect(c.targets).toEqual([expect.objectContaining({ arch: 'resnet', met: false })]);
    expect(c.targets[0].measured).toBeCloseTo(0.5, 12);
  });
});
