/**
 * Everything an audit report shows, read from the store (and, for hashes, from the files
 * the run used) into one plain object: the run and its spec, the Table-1 view, the
 * trajectories, the calibration document (taus, rules, reference models), the attack
 * results (learning curves and cost), the chart data of the box plots and the efficiency
 * figure, and the environment (backend, versions, hashes, seeds, wall time per job).
 *
 * The HTML, CSV and JSON exports and the findings are pure functions of this object, so
 * the CLI and the app print the same report.
 */
import type { FrontierResult } from '../../src-shared/audit/frontier';
import { frontierOf } from '../runner/frontier';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as echarts from 'echarts';
import type { AuditSpec } from '../../src-shared/audit/spec';
import type { ResultsTable, Trajectory } from '../../src-shared/audit/results';
import type { EfficiencyChartData, MetricBoxplotData, SweepChartData } from '../../src-shared/charts';
import type { RunAttackResult } from '../engine/attacks/run-attack';
import type { Calibration } from '../engine/calibration/calibration-file';
import { attackColor } from '../engine/attacks/registry';
import { AuditError } from '../engine/errors';
import { jobPayload, jobResult } from '../runner/jobs';
import { loadResultsTable, loadTrajectories } from '../runner/results';
import type { AuditStore, JobRecord, MetricValue, RunRecord, SuspectRecord } from '../store/types';
import { efficiencyData } from './efficiency';
import { defenseName, displayLabel, metricInfo, type MetricInfo } from './names';
import { sweepChartData } from './sweeps';

export { attackName, defenseName, displayLabel, metricInfo, type MetricInfo } from './names';
export { comparableRemovalNet } from './efficiency';

export interface AttackRun {
  /** The attack job's key (also the suspect's key). */
  key: string;
  rowId: string;
  label: string;
  attack: string;
  scenario: string;
  seed: number;
  status: JobRecord['status'];
  /** The split point the attack worked at (RemovalNet), when the spec set one. */
  block: string | null;
  result: RunAttackResult | null;
}

export interface HashedPath {
  role: string;
  path: string;
  /** sha256 (hex); null when not hashed (see note). */
  sha256: string | null;
  note?: string;
}

export interface ReportEnvironment {
  backend: string;
  /** Versions recorded with the run (app, node, ...). */
  runVersions: Record<string, string>;
  /** Versions of the process that wrote the report. */
  reportVersions: Record<string, string>;
  victim: {
    path: string | null;
    contentHash: string | null;
    lineage: string | null;
    testAccuracy: number | null;
    seed: number | null;
  };
  /** Data folders the run read, with a hash over their files. */
  data: HashedPath[];
  /** Model and fingerprint files and their content hashes. */
  models: { role: string; name: string; path: string; contentHash: string }[];
  seeds: { what: string; seed: number }[];
  jobs: {
    key: string;
    label: string;
    kind: string;
    status: string;
    attempts: number;
    seconds: number | null;
    error: string | null;
  }[];
}

export interface ReportData {
  generatedAt: string;
  run: RunRecord;
  spec: AuditSpec;
  table: ResultsTable;
  trajectories: Trajectory[];
  suspects: SuspectRecord[];
  /** Final metric values (iteration null) of every suspect. */
  finalValues: MetricValue[];
  /** Every metric seen in the table, checkpoints or calibration. */
  metrics: Record<string, MetricInfo>;
  calibration: { id: string | null; filePath: string; document: Calibration } | null;
  attacks: AttackRun[];
  boxplots: MetricBoxplotData[];
  /** Null when the run has no KnockoffNets learning curve (see efficiencyReason). */
  efficiency: EfficiencyChartData | null;
  efficiencyReason: string | null;
  /** One per spec sweep (paper Fig. 6 and 8), in spec order. */
  sweeps: SweepChartData[];
  /** The evasion frontier when the spec has a frontier block (src-shared/audit/frontier.ts). */
  frontier: FrontierResult | null;
  environment: ReportEnvironment;
  /** Files the model figures (t-SNE, LayerCAM) need. */
  paths: { victimDir: string | null; testDir: string | null };
}

const HASH_LIMIT_BYTES = 2 * 1024 ** 3;
const hashCache = new Map<string, HashedPath>();

function walkFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    )) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile()) out.push(p);
    }
  };
  visit(dir);
  return out;
}

/**
 * sha256 over a folder's files in sorted path order: each file contributes its relative
 * path, its size and its bytes, so renaming, moving or editing any file changes the hash
 * (a single file is hashed the same way). Folders over 2 GiB are not hashed (noted instead).
 */
export async function hashPath(role: string, path: string): Promise<HashedPath> {
  const abs = resolve(path);
  const cached = hashCache.get(abs);
  if (cached) return { ...cached, role };
  if (!existsSync(abs)) return { role, path: abs, sha256: null, note: 'not on this machine' };
  const files = statSync(abs).isDirectory() ? walkFiles(abs) : [abs];
  const total = files.reduce((n, f) => n + statSync(f).size, 0);
  if (total > HASH_LIMIT_BYTES)
    return { role, path: abs, sha256: null, note: `not hashed (${(total / 1024 ** 3).toFixed(1)} GiB)` };
  const h = createHash('sha256');
  for (const f of files) {
    h.update(`${relative(abs, f) || '.'}\u0000${statSync(f).size}\u0000`);
    for await (const chunk of createReadStream(f)) h.update(chunk as Buffer);
  }
  const r: HashedPath = {
    role,
    path: abs,
    sha256: h.digest('hex'),
    note: `${files.length} file${files.length === 1 ? '' : 's'}, ${(total / 1024 ** 2).toFixed(1)} MiB`,
  };
  hashCache.set(abs, r);
  return r;
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The run's calibration document (from its calibrate job's file), or null when there is none or it cannot be read. */
export function findCalibration(store: AuditStore, run: RunRecord, jobs: JobRecord[]): ReportData['calibration'] {
  const spec = run.spec as AuditSpec;
  const job = jobs.find((j) => j.kind === 'calibrate');
  const file = jobResult(job, 'calibrate')?.file;
  const all = store.listCalibrations();
  const record =
    (file ? all.find((c) => resolve(c.filePath) === resolve(file)) : undefined) ??
    all.find((c) => c.runId === run.id) ??
    ('reuse' in spec.calibration ? store.getCalibration(spec.calibration.reuse) : undefined);
  if (record) return { id: record.id, filePath: record.filePath, document: record.document as Calibration };
  if (file && existsSync(file)) {
    const doc = readJsonFile(file) as Calibration | undefined;
    if (doc && Array.isArray(doc.metrics)) return { id: null, filePath: file, document: doc };
  }
  return null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Loads everything the report needs for one run; RUN_NOT_FOUND when there is no such run. */
export async function collectReportData(store: AuditStore, runId: string): Promise<ReportData> {
  const run = store.getRun(runId);
  if (!run)
    throw new AuditError('RUN_NOT_FOUND', `No run with id ${runId}`, {
      hint: 'List runs with `ownership-audit runs list`.',
    });
  const spec = run.spec as AuditSpec;
  const table = loadResultsTable(store, runId);
  const trajectories = loadTrajectories(store, runId);
  const suspects = store.listSuspects(runId);
  const finalValues = store.listMetricValues(runId).filter((v) => v.iteration === null);
  const jobs = store.listJobs(runId);
  const calibration = findCalibration(store, run, jobs);

  const metricIds = new Set<string>([
    ...table.metrics.map((m) => m.id),
    ...(calibration?.document.metrics ?? []).map((m) => m.id),
  ]);
  for (const t of trajectories) for (const p of t.points) for (const id of Object.keys(p.metrics)) metricIds.add(id);
  const metrics = Object.fromEntries([...metricIds].map((id) => [id, metricInfo(id)]));

  const attacks: AttackRun[] = jobs
    .filter((j) => j.kind === 'attack')
    .map((j) => {
      const p = jobPayload(j, 'attack');
      const result = jobResult(j, 'attack') ?? null;
      return {
        key: j.key,
        rowId: str(p?.rowId) ?? '',
        label: str(p?.label) ?? str(p?.attack) ?? j.label,
        attack: str(p?.attack) ?? result?.attack ?? '',
        scenario: str(p?.scenario) ?? '-',
        seed: num(p?.seed) ?? 0,
        status: j.status,
        block: str(p?.block),
        result,
      };
    });

  const boxplots: MetricBoxplotData[] = table.metrics.map((col) => {
    const info = metrics[col.id] ?? metricInfo(col.id);
    return {
      metricId: col.id,
      metricLabel: info.label,
      kind: col.kind ?? info.kind,
      tau: col.tau,
      degenerate: col.degenerate,
      rows: table.rows.map((r) => {
        const keys = new Set(
          suspects.filter((s) => s.rowId === r.rowId && s.scenario === r.scenario).map((s) => s.key),
        );
        const values = finalValues
          .filter(
            (v) =>
              keys.has(v.suspectKey) &&
              v.metricId === col.id &&
              typeof v.value === 'number' &&
              Number.isFinite(v.value),
          )
          .map((v) => v.value as number);
        return {
          label: displayLabel(r),
          ...(r.scenario !== '-' ? { sublabel: r.scenario } : {}),
          values,
          color: attackColor(r.attack),
        };
      }),
    };
  });

  const { efficiency, efficiencyReason } = efficiencyData(spec, attacks, table.victimAccuracy);

  // Paths the run used: the victim and the data, from the planned jobs (absolute there).
  const attackPayloads = jobs.flatMap((j) => jobPayload(j, 'attack') ?? []);
  const calibratePayload = jobPayload(
    jobs.find((j) => j.kind === 'calibrate'),
    'calibrate',
  );
  const calibrationData = calibratePayload && 'dataDir' in calibratePayload ? calibratePayload.dataDir : undefined;
  const victimJob = jobs.find((j) => j.kind === 'train-victim');
  const victimResult = jobResult(victimJob, 'train-victim') ?? null;
  const victimDir =
    str(attackPayloads[0]?.victimDir) ??
    str(calibratePayload?.victimDir) ??
    victimResult?.model ??
    str(calibration?.document.victim.path) ??
    null;
  const testDir =
    str(attackPayloads[0]?.testDir) ?? str(attackPayloads[0]?.substituteDir) ?? str(calibrationData) ?? null;
  const dataDirs = new Map<string, string[]>();
  const addData = (p: unknown, role: string): void => {
    const s = str(p);
    if (!s) return;
    const key = resolve(s);
    const roles = dataDirs.get(key) ?? [];
    if (!roles.includes(role)) roles.push(role);
    dataDirs.set(key, roles);
  };
  addData(jobPayload(victimJob, 'train-victim')?.dataDir, 'victim training');
  addData(calibrationData, 'calibration');
  for (const p of attackPayloads) addData(p.substituteDir, 'attacker substitute');
  for (const p of attackPayloads) addData(p.testDir, 'test (fidelity)');
  const data: HashedPath[] = [];
  for (const [path, roles] of dataDirs) data.push(await hashPath(roles.join(', '), path));

  const victimMeta = victimDir
    ? (readJsonFile(join(victimDir, 'ownership-audit.json')) as
        { seed?: number; testAccuracy?: number; lineage?: string; contentHash?: string } | undefined)
    : undefined;
  const doc = calibration?.document;
  const victim = {
    path: victimDir,
    contentHash: doc?.victim.contentHash ?? victimResult?.contentHash ?? victimMeta?.contentHash ?? null,
    lineage: doc?.victim.lineage ?? victimResult?.lineage ?? victimMeta?.lineage ?? null,
    testAccuracy: victimResult?.testAccuracy ?? num(victimMeta?.testAccuracy) ?? null,
    seed: ('train' in spec.victim ? spec.victim.train.seed : null) ?? num(victimMeta?.seed),
  };

  const models: ReportEnvironment['models'] = [];
  if (victim.contentHash && victim.path)
    models.push({
      role: 'victim',
      name: victim.lineage ?? 'victim',
      path: victim.path,
      contentHash: victim.contentHash,
    });
  (doc?.references ?? []).forEach((r, i) =>
    models.push({
      role: 'reference',
      name: `reference ${i + 1} (${r.lineage})`,
      path: r.path,
      contentHash: r.contentHash,
    }),
  );
  for (const s of suspects)
    models.push({
      role: 'suspect',
      name: `${displayLabel(s)}${s.scenario !== '-' ? ` ${s.scenario}` : ''} seed ${s.seed}`,
      path: s.modelPath,
      contentHash: s.modelHash,
    });
  for (const d of doc?.defenses ?? [])
    models.push({
      role: 'fingerprints',
      name: defenseName(d.id),
      path: d.fingerprintsFile,
      contentHash: d.fingerprintsHash,
    });

  const seeds: ReportEnvironment['seeds'] = [];
  if (victim.seed !== null) seeds.push({ what: 'victim training', seed: victim.seed });
  (doc?.references ?? []).forEach((r, i) => seeds.push({ what: `reference ${i + 1}`, seed: r.seed }));
  for (const a of attacks)
    seeds.push({ what: `${displayLabel(a)}${a.scenario !== '-' ? ` ${a.scenario}` : ''}`, seed: a.seed });

  const environment: ReportEnvironment = {
    backend: run.backend,
    runVersions: run.versions,
    reportVersions: { node: process.versions.node, tfjs: tf.version.tfjs, echarts: echarts.version },
    victim,
    data,
    models,
    seeds,
    jobs: jobs.map((j) => ({
      key: j.key,
      label: j.label,
      kind: j.kind,
      status: j.status,
      attempts: j.attempts,
      seconds: j.seconds,
      error: j.errorMessage,
    })),
  };

  return {
    generatedAt: new Date().toISOString(),
    run,
    spec,
    table,
    trajectories,
    suspects,
    finalValues,
    metrics,
    calibration,
    attacks,
    boxplots,
    efficiency,
    efficiencyReason,
    sweeps: sweepChartData(spec, table, metrics),
    frontier: frontierOf({ spec, table, trajectories, suspects }),
    environment,
    paths: { victimDir, testDir },
  };
}
