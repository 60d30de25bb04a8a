/**
 * Issue 21, the parts of the distributed runner that need no Redis: moving paths between
 * two mounts of the shared location, the hash check of what jobs hand each other, and the
 * validation a worker applies to queued job data.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { artifactRefs, outermostRefs, verifyArtifactRefs } from '../../src-main/runner/queue/artifact-refs';
import { QueueJobDataSchema, QUEUE_PROTOCOL, queueJobId, queueName } from '../../src-main/runner/queue/protocol';
import { pathsUnder, rebasePaths } from '../../src-main/runner/queue/shared-paths';
import { isAuditError } from '../../src-main/engine/errors';
import { modelMakespan, type ModelJob } from '../../src-main/runner/queue/makespan-model';
import { runWorkers } from '../../src-main/runner/queue/run-workers';
import type { JobRecord } from '../../src-main/store/types';

const dir = mkdtempSync(join(tmpdir(), 'oa-queue-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shared paths', () => {
  it('moves every path under the root to the other mount and leaves the rest', () => {
    const job = {
      outDir: '/mnt/a/runs/r1/attack',
      deps: { x: { model: '/mnt/a/runs/r1/victim', other: '/elsewhere/data', note: 'mnt/a/not-absolute' } },
      list: ['/mnt/a', '/mnt/ab/c'],
      n: 3,
    };
    expect(rebasePaths(job, '/mnt/a', '/srv/share')).toEqual({
      outDir: '/srv/share/runs/r1/attack',
      deps: { x: { model: '/srv/share/runs/r1/victim', other: '/elsewhere/data', note: 'mnt/a/not-absolute' } },
      // '/mnt/ab' is a sibling, not under '/mnt/a'.
      list: ['/srv/share', '/mnt/ab/c'],
      n: 3,
    });
    expect(pathsUnder(job, '/mnt/a')).toEqual(['runs/r1/attack', 'runs/r1/victim']);
  });
});

describe('artifact references', () => {
  it('accepts what was written and refuses a changed or missing file, naming it', () => {
    mkdirSync(join(dir, 'model'), { recursive: true });
    writeFileSync(join(dir, 'model', 'weights.bin'), 'abc');
    writeFileSync(join(dir, 'model', 'model.json'), '{}');
    const refs = outermostRefs(artifactRefs(dir, ['model', 'model/model.json', 'absent']));
    expect(refs.map((r) => r.path)).toEqual(['model']);
    expect(() => verifyArtifactRefs(dir, refs)).not.toThrow();
    writeFileSync(join(dir, 'model', 'weights.bin'), 'abd');
    let err: unknown;
    try {
      verifyArtifactRefs(dir, refs);
    } catch (e) {
      err = e;
    }
    expect(isAuditError(err) && err.code).toBe('ARTIFACT_MISMATCH');
    expect((err as Error).message).toMatch(/^model in the shared location does not match/);
    rmSync(join(dir, 'model'), { recursive: true });
    expect(() => verifyArtifactRefs(dir, refs)).toThrow(/model is missing/);
  });
});

describe('queued job data', () => {
  const valid = {
    protocol: QUEUE_PROTOCOL,
    version: '0.1.0',
    runId: 'r-1',
    key: 'attack:finetune:ltd:1',
    attempt: 1,
    backend: 'wasm',
    sharedRoot: '/mnt/a',
    job: { kind: 'attack', payload: { seed: 1 }, deps: {} },
    reads: [{ path: 'runs/r-1/victim', sha256: 'a'.repeat(64) }],
  };
  it('accepts a well-formed job and refuses unknown kinds, other protocols and bad hashes', () => {
    expect(QueueJobDataSchema.safeParse(valid).success).toBe(true);
    expect(QueueJobDataSchema.safeParse({ ...valid, job: { ...valid.job, kind: 'mine-bitcoin' } }).success).toBe(false);
    expect(QueueJobDataSchema.safeParse({ ...valid, protocol: QUEUE_PROTOCOL + 1 }).success).toBe(false);
    expect(QueueJobDataSchema.safeParse({ ...valid, reads: [{ path: 'x', sha256: 'zz' }] }).success).toBe(false);
  });
  it('names queues and jobs without the colons BullMQ refuses, one id per attempt', () => {
    expect(queueName('attack', '1.2.3')).not.toContain(':');
    const id = queueJobId('r-1', 'attack:finetune:ltd:1', 2);
    expect(id).not.toContain(':');
    expect(id).not.toBe(queueJobId('r-1', 'attack:finetune:ltd:1', 1));
  });
});

describe('the workers of a run, from its jobs', () => {
  const job = (key: string, status: JobRecord['status'], extra: Partial<JobRecord>): JobRecord =>
    ({ key, label: `job ${key}`, status, ranOn: null, progress: null, ...extra }) as JobRecord;
  const a = { id: 'a-1', host: 'gpu-box', backend: 'tensorflow-gpu', version: '0.1.0' };
  const b = { id: 'b-1', host: 'cpu-box', backend: 'wasm', version: '0.1.0' };
  it('lists each worker with the job it runs now and how many it finished', () => {
    const workers = runWorkers([
      job('1', 'done', { ranOn: a }),
      job('2', 'done', { ranOn: a }),
      job('3', 'running', { progress: { iteration: 3, worker: b } }),
      job('4', 'pending', {}),
      job('5', 'done', { ranOn: null }),
    ]);
    expect(workers).toEqual([
      { ...b, current: 'job 3', done: 0 },
      { ...a, current: null, done: 2 },
    ]);
  });
});

describe('the makespan model', () => {
  // A diamond: v -> (x, y) -> s, with hand-computed schedules.
  const jobs: ModelJob[] = [
    { key: 'v', kind: 'train-victim', deps: [], seconds: 10 },
    { key: 'x', kind: 'attack', deps: ['v'], seconds: 30 },
    { key: 'y', kind: 'attack', deps: ['v'], seconds: 20 },
    { key: 's', kind: 'score', deps: ['x', 'y'], seconds: 5 },
  ];
  it('gives the sum on one worker and the critical path when workers suffice', () => {
    const one = modelMakespan(jobs, { workers: 1, transferSeconds: () => 1 });
    expect(one.makespan).toBe(69); // 65 s of compute + 4 dispatches
    expect(one.work).toBe(69);
    expect(one.criticalPath).toBe(48); // v, x, s with their dispatches
    expect(modelMakespan(jobs, { workers: 2, transferSeconds: () => 1 }).makespan).toBe(48);
    expect(modelMakespan(jobs, { workers: 8, transferSeconds: () => 0 }).makespan).toBe(45);
  });
});
