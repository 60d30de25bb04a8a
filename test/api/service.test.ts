/**
 * The API service through `dispatch`, as both transports call it: every payload is checked
 * against the contract's schema (a bad one gets INVALID_ARGUMENT naming the field), every
 * failure comes back as a Result, and runs are driven through the runner's handle. The job
 * runner is faked here; test/api/smoke-run.test.ts runs a real audit over HTTP.
 */
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { API_INPUT_SCHEMAS, API_METHODS, type AuditEvent, type Result } from '../../src-shared/contract/api';
import { API_METHOD_NAMES } from '../../src-shared/contract/methods';
import { encodePng } from '../../src-main/api/png';
import { specPaths, withAbsolutePaths } from '../../src-main/api/spec-check';
import { parseAuditSpec } from '../../src-shared/audit/spec';
import { DEMO, smoke, useFakeService } from './fake-runner';

const newService = useFakeService();

function error(r: Result<unknown>): { code: string; message: string; hint: string } {
  expect(r.ok, JSON.stringify(r)).toBe(false);
  return (r as { ok: false; error: { code: string; message: string; hint: string } }).error;
}

function value<T>(r: Result<T>): T {
  expect(r.ok, JSON.stringify(r)).toBe(true);
  return (r as { ok: true; value: T }).value;
}

describe('the method list', () => {
  it('names exactly the schemas, in one list for preload, IPC and HTTP', () => {
    expect([...API_METHODS].sort()).toEqual(Object.keys(API_INPUT_SCHEMAS).sort());
    expect(API_METHODS).toBe(API_METHOD_NAMES);
  });
});

describe('dispatch validates every payload', () => {
  const cases: [string, unknown, string][] = [
    ['inspectModel', { path: 42 }, 'path'],
    ['inspectModel', {}, 'path'],
    ['previewDataset', { path: '/x', samplesPerSplit: 1000 }, 'samplesPerSplit'],
    ['startRun', { spec: {}, workers: 0 }, 'workers'],
    ['checkSpec', { spec: {}, workers: 1.5 }, 'workers'],
    ['resumeRun', { runId: '../../etc' }, 'runId'],
    ['cancelJob', { runId: 'r-1', key: '' }, 'key'],
    ['listRuns', { status: 'exploded' }, 'status'],
    ['deleteRun', { runId: 'r-1', files: 'yes' }, 'files'],
    ['exportReport', { runId: 'r-1', format: 'docx' }, 'format'],
    ['pickPath', { kind: 'folder', title: 'x', extra: 1 }, 'extra'],
    ['getRun', null, '(input)'],
    ['engineInfo', { sneaky: true }, '(input)'],
  ];
  it.each(cases)('%s(%j) -> INVALID_ARGUMENT naming %s', async (method, input, field) => {
    const { service } = newService();
    const e = error(await service.dispatch(method, input));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain(method);
    expect(e.message).toContain(field);
  });

  it('answers an unknown or inherited method name with UNKNOWN_METHOD', async () => {
    const { service } = newService();
    for (const m of ['nope', 'constructor', '__proto__', 'toString'])
      expect(error(await service.dispatch(m, undefined)).code).toBe('UNKNOWN_METHOD');
  });

  it('turns thrown errors into Results: typed errors keep code and hint, others are INTERNAL', async () => {
    const { service, home } = newService({
      startAudit: () => {
        throw new Error('runner exploded');
      },
    });
    const missing = error(await service.getRun({ runId: 'r-doesnotexist' }));
    expect(missing.code).toBe('RUN_NOT_FOUND');
    expect(missing.hint).not.toBe('');
    expect(error(await service.inspectModel({ path: join(home, 'no-such-model') })).code).toBe('MODEL_NOT_FOUND');
    expect(error(await service.previewDataset({ path: join(home, 'no-such-data') })).code).toBe('DATASET_NOT_FOUND');
    expect(error(await service.inspectModel({ path: '/no/such/model' })).code).toBe('PATH_NOT_ALLOWED');
    const internal = error(await service.startRun({ spec: smoke() }));
    expect(internal).toMatchObject({ code: 'INTERNAL', message: 'runner exploded' });
    expect(error(await service.pickPath({ kind: 'folder', title: 'Model' })).code).toBe('NOT_AVAILABLE');
  });
});

describe('the wizard calls', () => {
  it('engineInfo and catalog describe the backend, attacks, defences and presets', async () => {
    const { service, home } = newService();
    const info = value(await service.engineInfo());
    expect(info).toMatchObject({ backend: 'wasm', home });
    expect(info.defaultWorkers).toBeGreaterThanOrEqual(1);
    const cat = value(await service.catalog());
    expect(cat.attacks.map((a) => a.id)).toEqual(
      expect.arrayContaining(['removalnet', 'finetune', 'prune', 'distill', 'negative', 'knockoff']),
    );
    expect(cat.defenses.map((d) => d.id)).toEqual(['deepjudge', 'zest', 'modeldiff', 'ipguard', 'mistakes']);
    // The mistakes baseline is listed, opt-in: the wizard starts it unchecked.
    expect(cat.defenses.map((d) => Boolean(d.optIn))).toEqual([false, false, false, false, true]);
    for (const entry of [...cat.attacks, ...cat.defenses]) expect(entry.help.length).toBeGreaterThan(10);
    expect(cat.presets.map((p) => p.id)).toEqual(['smoke', 'demo']);
    expect(cat.demo).toEqual({ model: DEMO.demoModel, data: DEMO.demoData });
  });

  it('inspectModel summarises the demo victim', async () => {
    const { service } = newService();
    const m = value(await service.inspectModel({ path: DEMO.demoModel }));
    expect(m).toMatchObject({ arch: 'cnn', inputShape: [28, 28, 1], numClasses: 10, defaultAttackBlock: 'block2' });
    expect(m.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.testAccuracy).toBeGreaterThan(0.8);
  });

  it('previewDataset counts classes and returns decodable PNG samples', async () => {
    const { service } = newService();
    const p = value(await service.previewDataset({ path: DEMO.demoData, samplesPerSplit: 4 }));
    expect(p).toMatchObject({ layout: 'idx', shape: [28, 28, 1], numClasses: 10 });
    expect(p.counts.train.reduce((a, b) => a + b, 0)).toBe(20_000);
    expect(p.counts.test.reduce((a, b) => a + b, 0)).toBe(5_000);
    expect(p.samples.filter((s) => s.split === 'train').map((s) => s.label)).toEqual([0, 1, 2, 3]);
    const img = await sharp(Buffer.from(p.samples[0].png.replace(/^data:image\/png;base64,/, ''), 'base64'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(img.info).toMatchObject({ width: 28, height: 28 });
  });

  it('encodePng writes RGB images sharp reads back pixel for pixel', async () => {
    const pixels = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => i * 13);
    const { data, info } = await sharp(encodePng(pixels, 3, 2, 3))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 3, height: 2, channels: 3 });
    expect([...data]).toEqual([...pixels]);
  });

  it('checkSpec lists problems by field, and estimates a valid spec from the planned weights', async () => {
    const { service, home } = newService();
    const bad = value(
      await service.checkSpec({ spec: { ...smoke(), attacks: [{ name: 'finetune', seeds: [], iterations: 0 }] } }),
    );
    expect(bad.estimate).toBeUndefined();
    expect(bad.problems.join('\n')).toMatch(/attacks\[0\]\.seeds/);
    const noModel = join(home, 'no-model');
    const missing = value(await service.checkSpec({ spec: { ...smoke(), victim: { model: noModel } } }));
    expect(missing.problems).toEqual([`victim.model: no model.json in ${noModel}`]);
    const ok = value(await service.checkSpec({ spec: smoke(), workers: 2 }));
    expect(ok.problems).toEqual([]);
    // smoke: 2 references + calibrate + 3 attacks + 3 scores
    expect(ok.estimate).toMatchObject({ jobs: 9, workers: 2, backend: 'wasm' });
    expect(ok.estimate!.wallSeconds).toBeGreaterThanOrEqual(ok.estimate!.workerSeconds / 2);
    expect(ok.estimate!.wallSeconds).toBeLessThan(ok.estimate!.workerSeconds);
    const one = value(await service.checkSpec({ spec: smoke(), workers: 1 }));
    expect(one.estimate!.wallSeconds).toBe(one.estimate!.workerSeconds);
  });

  it('startRun refuses an invalid spec with SPEC_INVALID listing the problems', async () => {
    const { service, runner } = newService();
    const e = error(
      await service.startRun({ spec: { ...smoke(), defenses: [{ id: 'deepjudge', params: { bogus: 1 } }] } }),
    );
    expect(e.code).toBe('SPEC_INVALID');
    expect(e.message).toContain('defenses[0].params.bogus');
    expect(runner.runs).toHaveLength(0);
  });
});

describe('runs', () => {
  it("stores a started spec's relative paths made absolute against the folder they are read from", async () => {
    const root = resolve('.');
    const { service, runner } = newService({ baseDir: root });
    expect(value(await service.engineInfo()).baseDir).toBe(root);
    const relative = {
      ...smoke(),
      victim: { model: 'resources/models/demo-victim' },
      data: { ...smoke().data, train: 'resources/datasets/fashion-mnist-demo' },
    };
    const { runId } = value(await service.startRun({ spec: relative }));
    const stored = value(await service.getRun({ runId })).run.spec as ReturnType<typeof smoke>;
    expect(stored.victim).toEqual({ model: DEMO.demoModel });
    expect(stored.data.train).toBe(DEMO.demoData);
    expect(runner.runs[0].opts.spec.victim).toEqual({ model: DEMO.demoModel });
    runner.runs[0].finish('completed');
  });

  it('makes every path the spec names absolute (withAbsolutePaths covers specPaths)', () => {
    const spec = parseAuditSpec({
      ...smoke(),
      victim: { train: { arch: 'cnn', data: 'v', seed: 1 } },
      data: { train: 'a', test: 'b' },
      scenarios: [{ id: 'lsd', kind: 'lsd', data: 'c' }],
    });
    if (!spec.ok) throw new Error(spec.problems.join('\n'));
    const before = specPaths(spec.spec);
    expect(before.map((p) => p.path)).toEqual(['v', 'a', 'b', 'c']);
    const after = specPaths(withAbsolutePaths(spec.spec, '/base'));
    expect(after).toEqual(before.map((p) => ({ field: p.field, path: `/base/${p.path}` })));
  });

  it('starts, streams events, pauses, resumes, cancels and deletes', async () => {
    const { service, runner } = newService();
    const events: AuditEvent[] = [];
    const off = service.onEvent((e) => events.push(e));
    service.onEvent(() => {
      throw new Error('a broken subscriber');
    });
    const { runId } = value(await service.startRun({ spec: smoke(), workers: 2 }));
    expect(runner.runs[0].opts).toMatchObject({ workers: 2, backend: 'wasm', fresh: true });
    expect(events[0]).toEqual({ type: 'run', runId, status: 'running', jobs: 1, done: 0 });
    // JSON-normalised like the browser transport: NaN arrives as null.
    expect((events[1] as Extract<AuditEvent, { type: 'progress' }>).event.values).toEqual({ loss: null });

    expect(value(await service.listRuns({})).map((r) => [r.id, r.status, r.active])).toEqual([
      [runId, 'running', true],
    ]);
    expect(error(await service.deleteRun({ runId })).code).toBe('RUN_BUSY');
    expect(error(await service.resumeRun({ runId })).code).toBe('RUN_BUSY');
    expect(error(await service.cancelJob({ runId, key: 'attack:nope' })).code).toBe('INVALID_ARGUMENT');

    expect(value(await service.pauseRun({ runId }))).toBeNull();
    await new Promise((r) => setTimeout(r, 0));
    expect(events.at(-1)).toMatchObject({ type: 'run', runId, status: 'paused' });
    expect(error(await service.pauseRun({ runId })).code).toBe('RUN_NOT_ACTIVE');

    value(await service.resumeRun({ runId, workers: 1 }));
    expect(runner.runs[1].opts).toMatchObject({ resumeRunId: runId, workers: 1, fresh: false });
    value(await service.cancelJob({ runId, key: 'attack:a' }));
    expect(runner.runs[1].cancelledJobs).toEqual(['attack:a']);
    expect(events.at(-1)).toMatchObject({ type: 'job', key: 'attack:a', status: 'cancelled' });
    value(await service.cancelRun({ runId }));
    await new Promise((r) => setTimeout(r, 0));

    const detail = value(await service.getRun({ runId }));
    expect(detail.run).toMatchObject({ id: runId, status: 'cancelled', active: false, name: 'smoke' });
    expect(detail.jobs).toEqual([expect.objectContaining({ key: 'attack:a', status: 'cancelled' })]);
    expect(detail.table.rows.map((r) => r.attack)).toEqual(['finetune', 'removalnet', 'negative']);

    off();
    value(await service.deleteRun({ runId, files: true }));
    expect(value(await service.listRuns({}))).toEqual([]);
    expect(error(await service.getRun({ runId })).code).toBe('RUN_NOT_FOUND');
  });

  it('lists stored calibrations with tau, rule and degenerate flags', async () => {
    const { service } = newService();
    service.store.importCalibration({
      filePath: '/cal/calibration.json',
      victimHash: 'v',
      document: {
        defenses: [{ id: 'deepjudge', params: {}, fingerprintsFile: 'f', fingerprintsHash: 'h' }],
        references: [{ path: '/ref/0', seed: 1000, testAccuracy: 0.9 }],
        metrics: [
          {
            id: 'deepjudge.lod',
            kind: 'distance',
            tau: 0.5,
            degenerate: false,
            rule: { name: 'paper' },
            values: [0.4, 0.6],
          },
          {
            id: 'deepjudge.lad',
            kind: 'distance',
            tau: Number.NaN,
            degenerate: true,
            rule: { name: 'quantile', parameter: 0.95 },
            values: [0, 0],
          },
        ],
      },
    });
    const [c] = value(await service.listCalibrations());
    expect(c.references).toEqual([{ path: '/ref/0', seed: 1000, testAccuracy: 0.9 }]);
    expect(c.metrics).toEqual([
      { id: 'deepjudge.lod', kind: 'distance', tau: 0.5, degenerate: false, rule: 'paper', values: [0.4, 0.6] },
      { id: 'deepjudge.lad', kind: 'distance', tau: null, degenerate: true, rule: 'quantile(0.95)', values: [0, 0] },
    ]);
  });

  it('exports the results table as CSV into the run folder', async () => {
    const { service, runner } = newService();
    const { runId } = value(await service.startRun({ spec: smoke() }));
    runner.runs[0].finish('completed');
    await new Promise((r) => setTimeout(r, 0));
    const { path } = value(await service.exportReport({ runId, format: 'csv' }));
    expect(path).toMatch(new RegExp(`${runId}.*report-${runId}\\.csv$`));
    expect(value(await service.getRun({ runId })).reports).toEqual([expect.objectContaining({ format: 'csv', path })]);
  });
});
