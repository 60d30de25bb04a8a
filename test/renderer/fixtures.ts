/**
 * A catalog like the engine's (a subset of each parameter list, the real presets) and a
 * fake AuditClient whose answers each test sets, recording every call.
 */
import type { ResultsTable } from '../../src-shared/audit/results';
import type { AuditClient, AuditEvent, Catalog, Result, RunDetail, RunSummary } from '../../src-shared/contract/api';
import { demoSpec, smokeSpec } from '../../src-main/runner/presets';

export const DEMO = { model: '/app/resources/models/demo-victim', data: '/app/resources/datasets/fashion-mnist-demo' };

const int = (key: string, def: number, min?: number, max?: number) => ({
  key,
  type: 'integer' as const,
  default: def,
  ...(min !== undefined ? { min } : {}),
  ...(max !== undefined ? { max } : {}),
  help: `${key} help`,
});
const num = (key: string, def: number, min?: number, max?: number) => ({
  key,
  type: 'number' as const,
  default: def,
  ...(min !== undefined ? { min } : {}),
  ...(max !== undefined ? { max } : {}),
  help: `${key} help`,
});

export function catalog(): Catalog {
  const paths = { demoModel: DEMO.model, demoData: DEMO.data };
  return {
    attacks: [
      {
        id: 'removalnet',
        name: 'RemovalNet',
        role: 'removal',
        defaultSeeds: [1],
        title: 'RemovalNet',
        help: 'the attack under study',
        params: [
          { key: 'loss', type: 'enum', default: 'code', choices: ['code', 'paper'], help: 'loss form' },
          num('alpha', 0.2, 0),
          num('beta', 2, 0),
          int('latentSteps', 10, 0, 1000),
          num('shuffleRatio', 0.1, 0, 1),
        ],
        needs: { block: true },
      },
      {
        id: 'finetune',
        name: 'FT',
        role: 'modification',
        defaultSeeds: [1],
        title: 'Fine-tuning FT(r)',
        help: 'retrains the last layers',
        params: [
          num('ratio', 0.5, 0, 1),
          { key: 'labels', type: 'enum', default: 'victim', choices: ['victim', 'true'], help: 'labels' },
        ],
        needs: {},
      },
      {
        id: 'prune',
        name: 'WP',
        role: 'modification',
        defaultSeeds: [1],
        title: 'Weight pruning',
        help: 'zeroes weights',
        params: [num('ratio', 0.5, 0, 1)],
        needs: {},
      },
      {
        id: 'distill',
        name: 'Distill',
        role: 'modification',
        defaultSeeds: [1],
        title: 'Feature distillation',
        help: 'imitates features',
        params: [num('featureWeight', 0.1, 0)],
        needs: { sameArchitecture: true },
      },
      {
        id: 'negative',
        name: 'Negative',
        role: 'independent',
        defaultSeeds: [777],
        title: 'Negative model',
        help: 'independent model',
        params: [int('seed', 1000003, 0)],
        needs: {},
      },
      {
        id: 'knockoff',
        name: 'KnockoffNets',
        role: 'stealing',
        defaultSeeds: [1],
        title: 'KnockoffNets',
        help: 'steals through answers',
        params: [int('budget', 0, 0)],
        needs: { labels: true },
      },
    ],
    defenses: [
      {
        id: 'deepjudge',
        name: 'DeepJudge',
        title: 'DeepJudge (LOD, LAD)',
        help: 'layer outputs',
        params: [
          int('seeds', 50, 1, 10000),
          int('fuzzSteps', 100, 0, 10000),
          { key: 'ladNormalized', type: 'boolean', default: false, help: 'normalise LAD' },
        ],
        metrics: [
          { id: 'deepjudge.lod', label: 'DeepJudge LOD', shortLabel: 'LOD', kind: 'distance', votes: true },
          { id: 'deepjudge.lad', label: 'DeepJudge LAD', shortLabel: 'LAD', kind: 'distance', votes: true },
        ],
      },
      {
        id: 'zest',
        name: 'ZEST',
        title: 'ZEST',
        help: 'LIME explanations',
        params: [int('references', 100, 1), int('masks', 1000, 1)],
        metrics: [
          { id: 'zest.l2', label: 'ZEST L2', shortLabel: 'ZEST L2', kind: 'distance', votes: true },
          { id: 'zest.cosine', label: 'ZEST cosine (1 - cos)', shortLabel: 'ZEST cos', kind: 'distance', votes: true },
        ],
      },
      {
        id: 'modeldiff',
        name: 'ModelDiff',
        title: 'ModelDiff (DDV)',
        help: 'decision distance vectors',
        params: [int('seeds', 100, 1), int('pgdSteps', 10, 0)],
        metrics: [{ id: 'modeldiff.ddv', label: 'ModelDiff DDV', shortLabel: 'DDV', kind: 'similarity', votes: true }],
      },
      {
        id: 'ipguard',
        name: 'IPGuard',
        title: 'IPGuard (MR)',
        help: 'boundary points',
        params: [int('fingerprints', 100, 1), int('steps', 100, 1)],
        metrics: [{ id: 'ipguard.mr', label: 'IPGuard MR', shortLabel: 'MR', kind: 'similarity', votes: true }],
      },
    ],
    reportedMetrics: [
      { id: 'fidelity.accuracy', label: 'Accuracy', shortLabel: 'Acc.', kind: 'similarity', votes: false },
      {
        id: 'fidelity.agreement',
        label: 'Agreement with the victim',
        shortLabel: 'Agree.',
        kind: 'similarity',
        votes: false,
      },
    ],
    presets: [
      { id: 'smoke', title: 'Smoke', spec: smokeSpec(paths) },
      { id: 'demo', title: 'Demo', spec: demoSpec(paths) },
    ],
    demo: DEMO,
  };
}

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const err = (code: string, message: string, hint = ''): Result<never> => ({
  ok: false,
  error: { code, message, hint },
});

type Handlers = { [K in keyof AuditClient]?: AuditClient[K] };

/** A client whose methods answer from `handlers` (NOT_IMPLEMENTED otherwise) and record calls. */
export function fakeClient(
  handlers: Handlers = {},
): AuditClient & { calls: { method: string; input: unknown }[]; emit(e: AuditEvent): void; listenerCount(): number } {
  const calls: { method: string; input: unknown }[] = [];
  const listeners = new Set<(e: AuditEvent) => void>();
  const methods = [
    'engineInfo',
    'catalog',
    'inspectModel',
    'previewDataset',
    'checkSpec',
    'startRun',
    'resumeRun',
    'pauseRun',
    'cancelRun',
    'cancelJob',
    'listRuns',
    'getRun',
    'deleteRun',
    'listCalibrations',
    'exportReport',
    'pickPath',
    'saveReportAs',
    'showInFolder',
  ] as const;
  const client = Object.fromEntries(
    methods.map((m) => [
      m,
      async (input?: unknown) => {
        calls.push({ method: m, input });
        const h = handlers[m] as ((x?: unknown) => Promise<Result<unknown>>) | undefined;
        return h ? h(input) : err('NOT_IMPLEMENTED', `${m} is not faked`);
      },
    ]),
  ) as unknown as AuditClient;
  return Object.assign(client, {
    calls,
    onEvent(l: (e: AuditEvent) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    emit(e: AuditEvent) {
      for (const l of listeners) l(e);
    },
    listenerCount() {
      return listeners.size;
    },
  });
}

export function summary(id: string, name: string, status: RunSummary['status'], createdAt: string): RunSummary {
  return {
    id,
    name,
    status,
    createdAt,
    wallSeconds: 42,
    backend: 'wasm',
    jobs: 9,
    done: status === 'completed' ? 9 : 3,
  };
}

export function table(runId: string, opts: { finetuneDerived?: boolean; done?: boolean } = {}): ResultsTable {
  const derived = opts.finetuneDerived ?? true;
  const done = opts.done ?? true;
  return {
    runId,
    status: done ? 'completed' : 'running',
    victimAccuracy: 0.91,
    metrics: [
      { id: 'deepjudge.lod', kind: 'distance', tau: 3.6617, degenerate: false },
      { id: 'ipguard.mr', kind: 'similarity', tau: 0.4, degenerate: true },
    ],
    rows: [
      {
        rowId: 'finetune',
        attack: 'finetune',
        label: 'finetune',
        scenario: 'ltd2',
        suspects: done ? 2 : 0,
        fidelity: done ? { accuracy: 0.9, drop: 0.01, accuracyStd: 0.01, agreement: 0.95 } : null,
        metrics: done
          ? {
              'deepjudge.lod': { mean: 0.031726, std: 0.0042, tau: 3.6617, flagged: derived ? 2 : 0, n: 2 },
              'ipguard.mr': { mean: 0.8, std: 0.1, tau: 0.4, flagged: 2, n: 2, degenerate: true },
            }
          : {},
        ownership: done
          ? {
              derived: derived ? 2 : 0,
              total: 2,
              verdict: derived ? 'derived' : 'not-derived',
              label: derived ? 'Yes (2/2)' : 'No (0/2)',
            }
          : { derived: 0, total: 0, verdict: 'pending', label: '-' },
        compute: { seconds: 3, passes: 100, iterations: 10 },
        defenses: done ? { deepjudge: { recognised: derived ? 2 : 0, ties: 0, judged: 2 } } : {},
      },
      {
        rowId: 'negative',
        attack: 'negative',
        label: 'negative',
        scenario: '-',
        suspects: 1,
        fidelity: { accuracy: 0.63, drop: 0.28, accuracyStd: 0, agreement: 0.6 },
        metrics: { 'deepjudge.lod': { mean: 4.1424, std: 0, tau: 3.6617, flagged: 0, n: 1 } },
        ownership: { derived: 0, total: 1, verdict: 'not-derived', label: 'No (0/1)' },
        compute: { seconds: 13, passes: 100, iterations: 20 },
        defenses: { deepjudge: { recognised: 0, ties: 0, judged: 1 } },
      },
    ],
  };
}

export function detail(
  runId: string,
  opts: { status?: RunSummary['status']; done?: boolean; finetuneDerived?: boolean } = {},
): RunDetail {
  const status = opts.status ?? 'running';
  const spec = smokeSpec({ demoModel: DEMO.model, demoData: DEMO.data });
  return {
    run: {
      ...summary(runId, 'smoke', status, '2026-11-30T10:00:00Z'),
      spec,
      error: null,
      workDir: `/home/runs/${runId}`,
    },
    jobs: [
      {
        key: 'reference:0',
        label: 'reference model 1/2',
        kind: 'reference',
        status: 'done',
        attempts: 1,
        seconds: 9,
        error: null,
        progress: null,
      },
      {
        key: 'attack:finetune:ltd2:1',
        label: 'finetune ltd2 seed 1',
        kind: 'attack',
        status: opts.done ? 'done' : 'running',
        attempts: 1,
        seconds: opts.done ? 9 : null,
        error: null,
        progress: { stage: 'finetune', iteration: 5, total: 10 },
      },
      {
        key: 'score:finetune:ltd2:1',
        label: 'score finetune ltd2 seed 1',
        kind: 'score',
        status: opts.done ? 'done' : 'pending',
        attempts: 0,
        seconds: null,
        error: null,
        progress: null,
      },
    ],
    table: table(runId, { done: opts.done, finetuneDerived: opts.finetuneDerived }),
    trajectories: [
      {
        suspectKey: 'attack:finetune:ltd2:1',
        rowId: 'finetune',
        points: [
          { iteration: 5, fidelity: 0.9, metrics: { 'deepjudge.lod': { value: 0.05, normalized: 0.0137 } } },
          { iteration: 10, fidelity: 0.91, metrics: { 'deepjudge.lod': { value: 0.03, normalized: 0.0082 } } },
        ],
      },
    ],
    curves: {
      'attack:finetune:ltd2:1': [
        { iteration: 0, fidelity: 0.91, agreement: 1 },
        { iteration: 5, fidelity: 0.905, agreement: 0.99 },
      ],
    },
    reports: [],
  };
}
