/** Store records and runner events in the shapes of the API contract (what the history, monitor and calibration screens show). */
import type { AuditEvent, CalibrationSummary, JobView, RunSummary } from '../../src-shared/contract/api';
import type { RunEvent } from '../runner/run-audit';
import type { CalibrationRecord, JobRecord, RunRecord } from '../store/types';
import { jobKindOf } from '../runner/jobs';

export function runSummary(run: RunRecord, jobs: JobRecord[], active: boolean): RunSummary {
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    createdAt: run.createdAt,
    wallSeconds: run.wallSeconds,
    backend: run.backend,
    jobs: jobs.length,
    done: jobs.filter((j) => j.status === 'done').length,
    active,
  };
}

function progressView(p: unknown): JobView['progress'] {
  if (!p || typeof p !== 'object') return null;
  const e = p as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const values = e.values && typeof e.values === 'object' ? (e.values as Record<string, number>) : undefined;
  return {
    stage: typeof e.stage === 'string' ? e.stage : undefined,
    iteration: num(e.iteration),
    total: num(e.total),
    values,
  };
}

export function jobView(j: JobRecord): JobView {
  return {
    key: j.key,
    label: j.label,
    kind: jobKindOf(j),
    status: j.status,
    attempts: j.attempts,
    seconds: j.seconds,
    error: j.errorMessage,
    progress: progressView(j.progress),
  };
}

interface CalibrationDocument {
  references?: { path?: string; seed?: number; testAccuracy?: number }[];
  metrics?: {
    id?: string;
    kind?: string;
    tau?: number;
    degenerate?: boolean;
    rule?: { name?: string; parameter?: number };
    values?: number[];
  }[];
}

const finite = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export function ruleText(rule: { name?: string; parameter?: number } | undefined): string {
  if (!rule?.name) return 'paper';
  return rule.parameter === undefined ? rule.name : `${rule.name}(${rule.parameter})`;
}

export function calibrationSummary(c: CalibrationRecord): CalibrationSummary {
  const doc = (c.document ?? {}) as CalibrationDocument;
  return {
    id: c.id,
    createdAt: c.createdAt,
    file: c.filePath,
    runId: c.runId,
    references: (doc.references ?? []).map((r) => ({
      path: r.path ?? '',
      seed: r.seed ?? 0,
      ...(finite(r.testAccuracy) !== null ? { testAccuracy: r.testAccuracy } : {}),
    })),
    metrics: (doc.metrics ?? []).map((m) => ({
      id: m.id ?? '',
      kind: m.kind ?? 'distance',
      tau: finite(m.tau),
      // A tau that is not finite cannot separate anything either.
      degenerate: Boolean(m.degenerate) || finite(m.tau) === null,
      rule: ruleText(m.rule),
      values: (m.values ?? []).map(finite),
    })),
  };
}

/** A runner event as the API sends it. */
export function toAuditEvent(e: RunEvent): AuditEvent {
  if (e.type === 'run') return { type: 'run', runId: e.runId, status: e.status, jobs: e.jobs, done: e.done };
  if (e.type === 'job')
    return {
      type: 'job',
      runId: e.runId,
      key: e.key,
      kind: e.kind,
      label: e.label,
      status: e.status,
      attempt: e.attempt,
      ...(e.error ? { error: e.error } : {}),
    };
  const { stage, iteration, total, values } = e.event;
  return {
    type: 'progress',
    runId: e.runId,
    key: e.key,
    kind: e.kind,
    label: e.label,
    event: { stage, iteration, total, ...(values ? { values } : {}) },
    done: e.done,
    total: e.total,
    etaSeconds: e.etaSeconds,
  };
}
