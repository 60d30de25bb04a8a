/**
 * Checking an audit spec before it runs, and what it will cost. The problems are those the
 * CLI reports (shape and ranges from the shared schema, parameters and metrics from the
 * registries) plus what only the main side can see: whether the named model and data
 * folders exist and whether a reused calibration is stored. Each names its field.
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAuditSpec, type AuditSpec } from '../../src-shared/audit/spec';
import type { SpecCheck } from '../../src-shared/contract/api';
import { planJobs, validateAgainstRegistries, type PlannedJob } from '../runner/plan';
import { chainWeights } from '../runner/scheduler';
import type { AuditStore } from '../store/types';
import { blockProblems } from '../runner/victim-blocks';
import { estimateFindings, semanticProblems } from './semantic-checks';

export interface SpecCheckContext {
  store: AuditStore;
  home: string;
  /** Relative paths in the spec are resolved against this folder. */
  baseDir: string;
  /** Whether the API may read a path (path-policy.ts); a path it may not is never looked at. */
  readable?: (abs: string) => boolean;
  /** Cores of this machine (workers above it only share them); default: availableParallelism(). */
  cores?: number;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The spec with each path it names passed through `f` (with its field), in one place that
 * knows which fields are paths: the list of paths and their absolute form both come from it.
 */
function mapSpecPaths(spec: AuditSpec, f: (field: string, path: string) => string): AuditSpec {
  const victim =
    'model' in spec.victim
      ? { ...spec.victim, model: f('victim.model', spec.victim.model) }
      : { ...spec.victim, train: { ...spec.victim.train, data: f('victim.train.data', spec.victim.train.data) } };
  const train = f('data.train', spec.data.train);
  const test = spec.data.test === undefined ? {} : { test: f('data.test', spec.data.test) };
  return {
    ...spec,
    victim,
    data: { ...spec.data, train, ...test },
    scenarios: spec.scenarios.map((s, i) =>
      s.kind === 'lsd' && s.data !== undefined ? { ...s, data: f(`scenarios[${i}].data`, s.data) } : s,
    ),
  };
}

/** Every path a spec names, with its field. */
export function specPaths(spec: AuditSpec): { field: string; path: string }[] {
  const out: { field: string; path: string }[] = [];
  mapSpecPaths(spec, (field, path) => {
    out.push({ field, path });
    return path;
  });
  return out;
}

/**
 * The spec with every path it names made absolute against `baseDir`: the stored run then
 * reads the same files whichever folder a later resume starts in.
 */
export function withAbsolutePaths(spec: AuditSpec, baseDir: string): AuditSpec {
  return mapSpecPaths(spec, (_field, path) => resolve(baseDir, path));
}

/** Paths the API may not read (checked before anything on disk is looked at). */
function notAllowedProblems(spec: AuditSpec, ctx: SpecCheckContext): string[] {
  const { readable } = ctx;
  if (!readable) return [];
  return specPaths(spec)
    .map(({ field, path }) => ({ field, abs: resolve(ctx.baseDir, path) }))
    .filter(({ abs }) => !readable(abs))
    .map(({ field, abs }) => `${field}: ${abs} is not allowed (outside the folders the workbench may read)`);
}

/** Folders the spec names that are not there (a worker would fail on them minutes later). */
function pathProblems(spec: AuditSpec, baseDir: string): string[] {
  const abs = (p: string) => resolve(baseDir, p);
  const problems: string[] = [];
  for (const { field, path } of specPaths(spec)) {
    const p = abs(path);
    if (field === 'victim.model') {
      if (!(isDir(p) ? existsSync(join(p, 'model.json')) : p.endsWith('.json') && existsSync(p)))
        problems.push(`victim.model: no model.json in ${p}`);
    } else if (!isDir(p)) problems.push(`${field}: no data set folder at ${p}`);
  }
  return problems;
}

/** The spec, or every problem found, each naming its field. */
export function specProblems(
  raw: unknown,
  ctx: SpecCheckContext,
): { spec?: AuditSpec; problems: string[]; notAllowed?: string[]; warnings?: string[] } {
  const parsed = parseAuditSpec(raw);
  if (!parsed.ok) return { problems: parsed.problems };
  const spec = parsed.spec;
  const notAllowed = notAllowedProblems(spec, ctx);
  if (notAllowed.length) return { problems: [...validateAgainstRegistries(spec), ...notAllowed], notAllowed };
  const problems = [...validateAgainstRegistries(spec), ...pathProblems(spec, ctx.baseDir)];
  if ('reuse' in spec.calibration && !ctx.store.getCalibration(spec.calibration.reuse)) {
    problems.push(`calibration.reuse: no stored calibration with id ${spec.calibration.reuse}`);
  }
  // Blocks and the calibration's fit are read from the victim only once its folder is known to be there.
  if (problems.length) return { problems };
  problems.push(...blockProblems(spec, ctx.baseDir));
  const reuse = 'reuse' in spec.calibration ? ctx.store.getCalibration(spec.calibration.reuse) : undefined;
  const semantic = semanticProblems(spec, ctx.baseDir, reuse);
  problems.push(...semantic.problems);
  return problems.length ? { problems, warnings: semantic.warnings } : { spec, problems, warnings: semantic.warnings };
}

/**
 * The planner's weights are seconds measured on the wasm backend (2-core AMD EPYC, see
 * src-main/runner/plan.ts); the other backends have not been measured on the audit jobs,
 * so their factors are rough assumptions and the note says so.
 */
export const BACKEND_SPEED: Record<string, { factor: number; basis: string }> = {
  wasm: { factor: 1, basis: 'job times measured on the wasm backend (2-core AMD EPYC)' },
  cpu: { factor: 8, basis: "wasm job times x8 (assumed: TF.js's plain JavaScript backend is several times slower)" },
  tensorflow: { factor: 0.5, basis: 'wasm job times x0.5 (assumed for native TensorFlow on the CPU; not measured)' },
  'tensorflow-gpu': { factor: 0.25, basis: 'wasm job times x0.25 (assumed for a CUDA GPU; not measured)' },
};

export function estimateJobs(
  jobs: Pick<PlannedJob, 'key' | 'deps' | 'weight'>[],
  workers: number,
  backend: string,
): Required<NonNullable<SpecCheck['estimate']>> {
  const speed = BACKEND_SPEED[backend] ?? BACKEND_SPEED.wasm;
  const total = jobs.reduce((a, j) => a + j.weight, 0);
  const longest = Math.max(0, ...chainWeights(jobs.map((j) => ({ ...j, status: 'pending' as const }))).values());
  return {
    jobs: jobs.length,
    workerSeconds: Math.round(total * speed.factor),
    wallSeconds: Math.round(Math.max(total / Math.max(1, workers), longest) * speed.factor),
    workers,
    backend,
    note: `${speed.basis}; wall time = max(work / ${workers} workers, longest chain of dependent jobs)`,
  };
}

export function checkSpec(raw: unknown, workers: number, backend: string, ctx: SpecCheckContext): SpecCheck {
  const { spec, problems, warnings = [] } = specProblems(raw, ctx);
  if (!spec) return { problems, warnings };
  const reuse = 'reuse' in spec.calibration ? ctx.store.getCalibration(spec.calibration.reuse) : undefined;
  // Planning is pure apart from reading the victim's recorded recipe; the work folder is never created.
  const jobs = planJobs(spec, {
    workDir: join(ctx.home, 'runs', 'estimate'),
    runId: 'r-estimate',
    baseDir: ctx.baseDir,
    calibration: reuse ? { filePath: reuse.filePath } : undefined,
  });
  const estimate = estimateJobs(jobs, workers, backend);
  const found = estimateFindings(spec, jobs, estimate, ctx.cores ?? availableParallelism());
  return { problems: found.problems, warnings: [...warnings, ...found.warnings], estimate };
}
