/**
 * Issue 17 item 2: one job on both cores through the wasm backend's threaded build, with
 * results identical for any thread count. Each mode trains every bench model (the zoo's cnn,
 * vgg and resnet, the reference cnn28 and vggbn32) three or more SGD steps in its own process
 * (a process has one backend) and hashes the final weights and logits: the single-threaded
 * build, the threaded build on 1 and on 2 threads, and the threaded build switching 2, 1, 2
 * threads between steps as the runner does while a job runs. All must match bit for bit,
 * also where the filter gradient's SIMD routine splits its channels over a helper thread.
 */
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const FIXTURE = resolve(__dirname, 'fixtures', 'thread-train.ts');
const run = promisify(execFile);

interface ModelLine {
  model: string;
  hash: string;
  finite: boolean;
  spread: number;
}

async function train(mode: string): Promise<{ models: ModelLine[]; threadsUsed: number[]; helpers: number }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', FIXTURE, mode], { timeout: 240_000 });
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    models: lines.filter((l) => 'model' in l) as unknown as ModelLine[],
    threadsUsed: (lines.find((l) => 'threadsUsed' in l)?.threadsUsed as number[]) ?? [],
    helpers: (lines.find((l) => 'helpers' in l)?.helpers as number) ?? -1,
  };
}

it.skipIf(availableParallelism() < 2)(
  'trains bit-identically on the single-threaded build and on 1, 2 and switching thread counts',
  async () => {
    const [single, one, two, switching] = await Promise.all(['single', '1', '2', '2,1,2'].map(train));
    expect(single.models.map((m) => m.model)).toEqual(['cnn', 'vgg', 'resnet', 'cnn28', 'vggbn32']);
    // A meaningful comparison: trained values, not NaNs or a constant output.
    for (const m of single.models) {
      expect(m.finite, m.model).toBe(true);
      expect(m.spread, m.model).toBeGreaterThan(1e-3);
    }
    // The threaded runs really ran on the thread counts asked for.
    expect(one.threadsUsed).toEqual([1]);
    expect(two.threadsUsed).toEqual([2]);
    expect(switching.threadsUsed).toEqual([2, 1]);
    // The project's own SIMD routines (the filter gradient) ran their second share on a
    // helper thread only where two threads were asked for.
    expect([single.helpers, one.helpers, two.helpers, switching.helpers]).toEqual([0, 0, 1, 1]);
    for (const other of [one, two, switching]) expect(other.models).toEqual(single.models);
  },
  300_000,
);
