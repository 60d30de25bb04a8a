import { describe, expect, it } from 'vitest';
import { chainWeights, dependentCounts, estimateEta, readyJobs, threadShares } from '../../src-main/runner/scheduler';
import type { JobStatus } from '../../src-main/store/types';

const job = (
  key: string,
  deps: string[],
  weight: number,
  status: JobStatus = 'pending',
  extra: { seconds?: number; progress?: unknown } = {},
) => ({ key, deps, weight, status, ...extra });

describe('scheduler', () => {
  const graph = [
    job('reference:0', [], 100),
    job('reference:1', [], 100),
    job('calibrate', ['reference:0', 'reference:1'], 30),
    job('attack:ft', [], 20),
    job('attack:rn', [], 300),
    job('score:ft', ['attack:ft', 'calibrate'], 10),
    job('score:rn', ['attack:rn', 'calibrate'], 10),
  ];

  it('weighs each job by its longest chain of dependents', () => {
    const w = chainWeights(graph);
    expect(w.get('reference:0')).toBe(100 + 30 + 10);
    expect(w.get('attack:rn')).toBe(310);
    expect(w.get('score:ft')).toBe(10);
  });

  it('counts the jobs that wait for each job', () => {
    const n = dependentCounts(graph);
    expect(n.get('reference:0')).toBe(3); // calibrate, score:ft, score:rn
    expect(n.get('attack:rn')).toBe(1);
    expect(n.get('score:rn')).toBe(0);
  });

  it('starts what most jobs wait for first, then ready leaves (scoring), then the longest chains, only jobs whose dependencies are done, up to the free workers', () => {
    expect(readyJobs(graph, 0, 2).map((j) => j.key)).toEqual(['reference:0', 'reference:1']);
    expect(readyJobs(graph, 1, 2).map((j) => j.key)).toEqual(['reference:0']);
    expect(readyJobs(graph, 2, 2)).toEqual([]);
    expect(readyJobs(graph, 0, 4).map((j) => j.key)).toEqual(['reference:0', 'reference:1', 'attack:rn', 'attack:ft']);
    const later = graph.map((j) =>
      j.key.startsWith('reference') || j.key === 'attack:ft' ? { ...j, status: 'done' as const } : j,
    );
    expect(readyJobs(later, 0, 4).map((j) => j.key)).toEqual(['calibrate', 'attack:rn']);
    // Calibrated: the finished attack's scoring (a leaf) goes before the long attack.
    const calibrated = later.map((j) => (j.key === 'calibrate' ? { ...j, status: 'done' as const } : j));
    expect(readyJobs(calibrated, 0, 1).map((j) => j.key)).toEqual(['score:ft']);
    expect(readyJobs(calibrated, 0, 4).map((j) => j.key)).toEqual(['score:ft', 'attack:rn']);
  });

  it('refuses a cyclic graph', () => {
    expect(() => chainWeights([job('a', ['b'], 1), job('b', ['a'], 1)])).toThrow(/cycle/);
  });

  it('estimates the time left from remaining weights, scaled by the speed seen so far', () => {
    // Finished jobs ran twice as slow as estimated; 2 workers; remaining 200 + 100*(1-0.5).
    const jobs = [
      job('a', [], 50, 'done', { seconds: 100 }),
      job('b', [], 200),
      job('c', [], 100, 'running', { progress: { iteration: 5, total: 10 } }),
    ];
    expect(estimateEta(jobs, 2)).toBeCloseTo(2 * Math.max(250 / 2, 200), 6);
    expect(estimateEta([job('a', [], 50, 'done', { seconds: 10 })], 2)).toBeNull();
  });

  describe('threadShares', () => {
    const chain = new Map([
      ['long', 100],
      ['mid', 50],
      ['short', 10],
    ]);
    it('gives a job left alone every core', () => {
      expect(threadShares(['short'], chain, 2)).toEqual(new Map([['short', 2]]));
      expect(threadShares(['mid'], chain, 8)).toEqual(new Map([['mid', 8]]));
    });
    it('shares evenly, the remainder to the longest remaining chains', () => {
      expect(threadShares(['short', 'long'], chain, 2)).toEqual(
        new Map([
          ['long', 1],
          ['short', 1],
        ]),
      );
      const three = threadShares(['short', 'mid', 'long'], chain, 8);
      expect([three.get('long'), three.get('mid'), three.get('short')]).toEqual([3, 3, 2]);
    });
    it('never gives less than one thread when jobs outnumber the cores', () => {
      expect([...threadShares(['short', 'mid', 'long'], chain, 2).values()]).toEqual([1, 1, 1]);
      expect(threadShares([], chain, 2).size).toBe(0);
    });
  });
});
