/**
 * A finished audit run built straight into a temp store, without running the engine: the
 * demo victim and data, a small calibration document on disk, attack and score jobs with
 * results (learning curves, compute), suspects with final and per-checkpoint metric
 * values, and one RemovalNet "surrogate" (the demo victim with noisy weights) on disk so
 * the t-SNE and LayerCAM figures have models to load.
 *
 * The numbers are plausible, not measured: finetuning keeps every fingerprint, KnockoffNets
 * keeps most, RemovalNet removes DeepJudge's and ModelDiff's, the negative model is flagged
 * by none.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseAuditSpec, type AuditSpec } from '../../src-shared/audit/spec';
import type { Calibration } from '../../src-main/engine/calibration/calibration-file';
import { loadModel, saveModel } from '../../src-main/engine/models/io';
import { createRng } from '../../src-main/engine/rng';
import { decide, isFlagged, type MetricScore } from '../../src-main/engine/verdict/verdict';
import { planJobs, planRows } from '../../src-main/runner/plan';
import { specHash } from '../../src-main/runner/run-audit';
import { databasePath, openStore, type SqliteAuditStore } from '../../src-main/store';

export const DEMO_VICTIM = resolve('resources/models/demo-victim');
export const DEMO_DATA = resolve('resources/datasets/fashion-mnist-demo');

type Kind = 'distance' | 'similarity';

/** Reference values per metric (5 references); tau by the paper rule (closest reference). */
const REFERENCES: { id: string; kind: Kind; values: number[] }[] = [
  { id: 'deepjudge.lod', kind: 'distance', values: [4.73, 4.24, 4.75, 4.59, 5.1] },
  { id: 'deepjudge.lad', kind: 'distance', values: [25.3, 21.2, 25.6, 22.0, 24.5] },
  { id: 'zest.l2', kind: 'distance', values: [44.2, 43.3, 43.4, 45.1, 43.1] },
  { id: 'zest.cosine', kind: 'distance', values: [0.327, 0.295, 0.311, 0.316, 0.315] },
  { id: 'modeldiff.ddv', kind: 'similarity', values: [0.515, 0.52, 0.398, 0.395, 0.415] },
  { id: 'ipguard.mr', kind: 'similarity', values: [0.01, 0.02, 0, 0.01, 0.01] },
];

export const TAUS: Record<string, number> = Object.fromEntries(
  REFERENCES.map((r) => [r.id, r.kind === 'distance' ? Math.min(...r.values) : Math.max(...r.values)]),
);
const KINDS: Record<string, Kind> = Object.fromEntries(REFERENCES.map((r) => [r.id, r.kind]));

/** Final metric values per attack (one entry per seed), accuracies and cost per suspect. */
const SUSPECTS: Record<
  string,
  { accuracy: number[]; values: Record<string, number[]>; passesPerIteration: number; secondsPerIteration: number }
> = {
  finetune: {
    accuracy: [0.8967, 0.8971],
    values: {
      'deepjudge.lod': [0.58, 0.61],
      'deepjudge.lad': [1.22, 1.31],
      'zest.l2': [32.5, 33.1],
      'zest.cosine': [0.0328, 0.0351],
      'modeldiff.ddv': [0.984, 0.979],
      'ipguard.mr': [0.58, 0.55],
    },
    passesPerIteration: 256,
    secondsPerIteration: 0.05,
  },
  knockoff: {
    accuracy: [0.8512],
    values: {
      'deepjudge.lod': [3.02],
      'deepjudge.lad': [15.4],
      'zest.l2': [44.0],
      'zest.cosine': [0.301],
      'modeldiff.ddv': [0.561],
      'ipguard.mr': [0.05],
    },
    passesPerIteration: 384,
    secondsPerIteration: 0.19,
  },
  removalnet: {
    accuracy: [0.878, 0.8784],
    values: {
      'deepjudge.lod': [4.61, 4.52],
      'deepjudge.lad': [23.4, 22.9],
      'zest.l2': [45.6, 44.9],
      'zest.cosine': [0.269, 0.281],
      'modeldiff.ddv': [0.502, 0.489],
      'ipguard.mr': [0.01, 0.02],
    },
    passesPerIteration: 1536,
    secondsPerIteration: 0.55,
  },
  negative: {
    accuracy: [0.8954],
    values: {
      'deepjudge.lod': [5.09],
      'deepjudge.lad': [22.3],
      'zest.l2': [45.1],
      'zest.cosine': [0.315],
      'modeldiff.ddv': [0.328],
      'ipguard.mr': [0.0],
    },
    passesPerIteration: 256,
    secondsPerIteration: 0.19,
  },
};

export const VICTIM_ACCURACY = 0.8992;

export function fixtureSpec(name = 'report-fixture'): AuditSpec {
  const parsed = parseAuditSpec({
    version: 1,
    name,
    victim: { model: DEMO_VICTIM },
    data: { train: DEMO_DATA, maxTest: 1000 },
    scenarios: [{ id: 'ltd10', kind: 'ltd', fraction: 0.1 }],
    defenses: [{ id: 'deepjudge' }, { id: 'zest' }, { id: 'modeldiff' }, { id: 'ipguard' }],
    calibration: { references: 5 },
    attacks: [
      { name: 'finetune', params: { ratio: 0.5 }, seeds: [1, 2], iterations: 300 },
      { name: 'knockoff', seeds: [1], iterations: 300 },
      { name: 'removalnet', seeds: [1, 2], iterations: 300 },
      { name: 'negative', seeds: [777], iterations: 300 },
    ],
    checkpoints: { every: 100, metrics: ['deepjudge.lod'] },
    verdict: { rule: 'majority' },
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  return parsed.spec;
}

/** The demo victim with Gaussian noise (10% of each weight tensor's std) on every weight: a stand-in surrogate. */
async function writeNoisySurrogate(dir: string, seed: number): Promise<void> {
  const { model, meta } = await loadModel(DEMO_VICTIM);
  try {
    const rng = createRng(seed);
    for (const layer of model.layers) {
      const ws = layer.getWeights();
      if (ws.length === 0) continue;
      const noisy = ws.map((w) =>
        tf.tidy(() => {
          const std = tf.moments(w).variance.sqrt();
          return w.add(tf.randomNormal(w.shape, 0, 1, 'float32', rng.seed()).mul(std).mul(0.1));
        }),
      );
      layer.setWeights(noisy);
      tf.dispose(noisy);
    }
    const { formatVersion: _f, contentHash: _c, inputShape: _i, numClasses: _n, createdAt: _d, ...rest } = meta;
    await saveModel(model, dir, {
      ...rest,
      lineage: `${meta.lineage}-removalnet(ltd,block2)`,
      testAccuracy: 0.878,
      seed: 1,
    });
  } finally {
    model.dispose();
  }
}

export interface Fixture {
  home: string;
  store: SqliteAuditStore;
  runId: string;
  spec: AuditSpec;
  calibrationFile: string;
}

const hex = (i: number): string =>
  createRng(1000 + i)
    .seed()
    .toString(16)
    .padStart(8, '0')
    .repeat(8);

/** What one attack's suspects score instead of the defaults above (a variant run for comparisons). */
export type SuspectOverride = Partial<Pick<(typeof SUSPECTS)[string], 'accuracy' | 'values'>>;

export interface FixtureOptions {
  /** false: no surrogate model on disk (the model figures must be skipped). */
  surrogate?: boolean;
  /** The run's name; several fixture runs can share one home under different names. */
  name?: string;
  /** Per attack name: other accuracies or metric values than the defaults. */
  overrides?: Record<string, SuspectOverride>;
}

/** Builds the run in `<home>/audit.db` (the layout `--home` expects). */
export async function buildFixture(home: string, opts: FixtureOptions = {}): Promise<Fixture> {
  const store = openStore(databasePath(home));
  const spec = fixtureSpec(opts.name);
  const workDir = join(home, 'runs', opts.name ? opts.name.replace(/[^A-Za-z0-9-]+/g, '-') : 'fixture');
  const run = store.createRun({
    name: spec.name,
    spec,
    specHash: specHash(spec),
    backend: 'wasm',
    versions: { node: '20.19.0', app: '0.1.0', tfjs: '4.22.0' },
    workDir,
  });
  const runId = run.id;
  const jobs = planJobs(spec, { workDir, runId, baseDir: process.cwd() });
  store.insertJobs(runId, jobs);

  // Calibration document on disk, imported as the runner does.
  const victimMeta = (await loadModel(DEMO_VICTIM)).meta;
  const calibrationFile = join(workDir, 'calibration', 'calibration.json');
  mkdirSync(join(workDir, 'calibration'), { recursive: true });
  const doc: Calibration = {
    formatVersion: 1,
    createdAt: '2026-12-01T10:00:00.000Z',
    backend: 'wasm',
    victim: { path: DEMO_VICTIM, contentHash: victimMeta.contentHash, lineage: victimMeta.lineage },
    data: { path: DEMO_DATA },
    defenses: ['deepjudge', 'zest', 'modeldiff', 'ipguard'].map((id, i) => ({
      id,
      params: { seeds: 50 },
      fingerprintsFile: `${calibrationFile}.fingerprints/${id}.json`,
      fingerprintsHash: hex(i),
    })),
    references: [0, 1, 2, 3, 4].map((i) => ({
      path: `${calibrationFile}.references/reference-${i}`,
      contentHash: hex(10 + i),
      lineage: 'reference-train(cnn,fashion-mnist-demo)',
      seed: 10_000 + i,
      learningRate: 0.05 * (0.9 + 0.05 * i),
      iterations: 1248,
      testAccuracy: 0.894 + 0.001 * i,
    })),
    metrics: REFERENCES.map((r) => ({
      id: r.id,
      kind: r.kind,
      values: r.values,
      tau: TAUS[r.id],
      rule: { name: 'paper' },
      degenerate: false,
    })),
  };
  writeFileSync(calibrationFile, `${JSON.stringify(doc, null, 2)}\n`);
  store.importCalibration({ filePath: calibrationFile, document: doc, victimHash: victimMeta.contentHash, runId });

  const t0 = Date.parse('2026-12-01T10:00:00.000Z');
  const iso = (s: number): string => new Date(t0 + s * 1000).toISOString();
  for (const j of jobs.filter((x) => x.kind === 'reference')) {
    const i = (j.payload as { index: number }).index;
    store.updateJob(runId, j.key, {
      status: 'done',
      attempts: 1,
      startedAt: iso(0),
      finishedAt: iso(235),
      seconds: 235 + i,
      result: {
        model: doc.references[i].path,
        testAccuracy: doc.references[i].testAccuracy,
        seed: doc.references[i].seed,
      },
    });
  }
  store.updateJob(runId, 'calibrate', {
    status: 'done',
    attempts: 1,
    seconds: 45.2,
    result: {
      file: calibrationFile,
      victimHash: victimMeta.contentHash,
      metrics: doc.metrics.map((m) => ({ id: m.id, kind: m.kind, tau: m.tau, degenerate: m.degenerate })),
    },
  });

  const rows = planRows(spec);
  for (const j of jobs.filter((x) => x.kind === 'attack')) {
    const p = j.payload as {
      attack: string;
      seed: number;
      rowId: string;
      scenario: string;
      label: string;
      outDir: string;
      iterations: number;
    };
    const def = { ...SUSPECTS[p.attack], ...opts.overrides?.[p.attack] };
    const seeds = spec.attacks.find((a) => a.name === p.attack)?.seeds ?? [p.seed];
    const k = seeds.indexOf(p.seed);
    const accuracy = def.accuracy[k];
    const iterations = p.iterations;
    const passes = def.passesPerIteration * iterations;
    const seconds = def.secondsPerIteration * iterations + 8;
    if (p.attack === 'removalnet' && k === 0 && opts.surrogate !== false) await writeNoisySurrogate(p.outDir, 1);
    // Learning curve on held-out images every 15 iterations: KnockoffNets starts from scratch.
    const curve = Array.from({ length: iterations / 15 + 1 }, (_, i) => {
      const it = i * 15;
      const fidelity =
        p.attack === 'knockoff' || p.attack === 'negative'
          ? 0.1 + (accuracy - 0.1) * (1 - Math.exp(-it / 70))
          : accuracy + 0.01 * Math.exp(-it / 50);
      return { iteration: it, fidelity, agreement: Math.min(1, fidelity + 0.05) };
    });
    const result = {
      model: p.outDir,
      attack: p.attack,
      scenario: 'ltd',
      lineage: `${victimMeta.lineage}-${p.attack}`,
      fidelity: { accuracy, agreement: accuracy + 0.04, victimAccuracy: VICTIM_ACCURACY },
      compute: { iterations, forwardPasses: passes * 0.6, backwardPasses: passes * 0.4, seconds, passes },
      curve,
    };
    store.updateJob(runId, j.key, {
      status: 'done',
      attempts: 1,
      startedAt: iso(300),
      finishedAt: iso(300 + seconds),
      seconds,
      result,
    });

    // Scoring: final values with flags and the verdict, and deepjudge.lod at checkpoints 100, 200, 300.
    const scores: MetricScore[] = REFERENCES.map((r) => {
      const value = def.values[r.id][k];
      return {
        id: r.id,
        kind: r.kind,
        value,
        tau: TAUS[r.id],
        applicable: true,
        votes: true,
        flagged: isFlagged(r.kind, value, TAUS[r.id]),
        normalized: value / TAUS[r.id],
      };
    });
    const verdict = decide(scores);
    const finalLod = def.values['deepjudge.lod'][k];
    const checkpoints = p.attack === 'negative' ? [] : [100, 200, 300];
    const lodAt = (it: number): number =>
      p.attack === 'removalnet' ? 1.2 + (finalLod - 1.2) * (it / 300) : finalLod * (0.8 + 0.2 * (it / 300));
    const accAt = (it: number): number =>
      p.attack === 'knockoff' ? 0.1 + (accuracy - 0.1) * (1 - Math.exp(-it / 70)) : accuracy + 0.006 * (1 - it / 300);
    const row = rows.find((r) => r.rowId === p.rowId && r.scenario === p.scenario);
    store.recordSuspect(
      {
        runId,
        key: j.key,
        rowId: p.rowId,
        attack: p.attack,
        label: row?.label ?? p.label,
        scenario: p.scenario,
        seed: p.seed,
        modelPath: p.outDir,
        modelHash: hex(100 + jobs.indexOf(j)),
        accuracy,
        agreement: accuracy + 0.04,
        victimAccuracy: VICTIM_ACCURACY,
        derived: verdict.derived,
        votes: verdict.votes,
        of: verdict.of,
        seconds,
        passes,
        iterations,
      },
      [
        ...scores.map((s) => ({
          iteration: null,
          metricId: s.id,
          value: s.value,
          tau: s.tau ?? null,
          flagged: s.flagged ?? null,
          normalized: s.normalized ?? null,
        })),
        ...checkpoints.flatMap((it) => {
          const v = lodAt(it);
          return [
            {
              iteration: it,
              metricId: 'deepjudge.lod',
              value: v,
              tau: TAUS['deepjudge.lod'],
              flagged: isFlagged(KINDS['deepjudge.lod'], v, TAUS['deepjudge.lod']),
              normalized: v / TAUS['deepjudge.lod'],
            },
            {
              iteration: it,
              metricId: 'fidelity.accuracy',
              value: accAt(it),
              tau: null,
              flagged: null,
              normalized: null,
            },
            {
              iteration: it,
              metricId: 'fidelity.agreement',
              value: accAt(it) + 0.04,
              tau: null,
              flagged: null,
              normalized: null,
            },
          ];
        }),
      ],
      curve,
      checkpoints.map((it) => ({ iteration: it, path: `${p.outDir}.work/trajectory/iter-${it}` })),
    );
  }
  for (const j of jobs.filter((x) => x.kind === 'score'))
    store.updateJob(runId, j.key, {
      status: 'done',
      attempts: 1,
      seconds: 6.5,
      result: { suspectKey: (j.payload as { suspectKey: string }).suspectKey },
    });
  store.updateRun(runId, { status: 'completed', startedAt: iso(0), finishedAt: iso(1000), wallSeconds: 1000 });
  return { home, store, runId, spec, calibrationFile };
}
