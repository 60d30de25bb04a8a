/**
 * What a spec can only be judged on with the victim, the stored calibrations and this
 * machine in view: the checks that make the wizard refuse an audit that cannot work, and
 * warn about one that will waste compute. Each line names its field, like the schema's.
 *
 * Blocking (the run would fail or mean nothing):
 * - a defence block the victim does not have (DeepJudge's block 99 on a 3-block victim);
 * - a reused calibration that does not fit: another victim, a defence it did not calibrate,
 *   or defence parameters that differ from the ones it was made with (reuse takes the
 *   calibration's fingerprints and thresholds, so an edited parameter would silently not apply);
 * - an estimate beyond ESTIMATE_CEILING_HOURS on this machine (src-shared/audit/semantic-limits.ts).
 * Warnings (the run works, but probably not as meant):
 * - more workers than cores; an estimate above ESTIMATE_WARN_HOURS;
 * - a reused calibration with fewer than three references, or references far weaker than the victim.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ESTIMATE_CEILING_HOURS, ESTIMATE_WARN_HOURS } from '../../src-shared/audit/semantic-limits';
import type { AuditSpec } from '../../src-shared/audit/spec';
import { MODEL_META_FILE } from '../../src-shared/domain/model';
import { expandSpec, type PlannedJob } from '../runner/plan';
import type { CalibrationRecord } from '../store/types';

/** References this much less accurate than the victim (fraction) make thresholds too loose to trust. */
const WEAK_REFERENCE_GAP = 0.1;
/** A defence parameter with this name is a 1-based index into the victim's blocks, 0 its default (DeepJudge's). */
const BLOCK_PARAM = 'block';
/** The zoo's default block count (cnn, vgg and resnet), for a victim the audit trains. */
const ZOO_DEFAULT_BLOCKS = 3;

interface VictimFacts {
  blocks?: number;
  contentHash?: string;
  testAccuracy?: number;
}

/** The victim's sidecar facts, read without loading the model (the loader verifies them later). */
function victimFacts(spec: AuditSpec, baseDir: string): VictimFacts {
  if (!('model' in spec.victim)) return { blocks: spec.victim.train.blocks ?? ZOO_DEFAULT_BLOCKS };
  const p = resolve(baseDir, spec.victim.model);
  const dir = p.endsWith('.json') ? resolve(p, '..') : p;
  try {
    const meta = JSON.parse(readFileSync(join(dir, MODEL_META_FILE), 'utf8')) as {
      blocks?: unknown;
      contentHash?: unknown;
      testAccuracy?: unknown;
    };
    return {
      blocks: Array.isArray(meta.blocks) ? meta.blocks.length : undefined,
      contentHash: typeof meta.contentHash === 'string' ? meta.contentHash : undefined,
      testAccuracy: typeof meta.testAccuracy === 'number' ? meta.testAccuracy : undefined,
    };
  } catch {
    return {};
  }
}

function blockRangeProblems(spec: AuditSpec, facts: VictimFacts): string[] {
  if (facts.blocks === undefined) return [];
  const problems: string[] = [];
  spec.defenses.forEach((d, i) => {
    const block = d.params?.[BLOCK_PARAM];
    if (typeof block === 'number' && block > facts.blocks!)
      problems.push(
        `defenses[${i}].params.${BLOCK_PARAM}: the victim has ${facts.blocks} blocks, so block ${block} does not exist: pick 1-${facts.blocks}, or 0 for its default block`,
      );
  });
  return problems;
}

interface CalibrationDoc {
  victim?: { contentHash?: string };
  defenses?: { id: string; params?: Record<string, unknown> }[];
  references?: { testAccuracy?: number }[];
}

/** Whether a reused calibration fits the spec: errors block, warnings only inform. */
function calibrationFit(
  spec: AuditSpec,
  record: CalibrationRecord,
  facts: VictimFacts,
): { errors: string[]; warnings: string[] } {
  const doc = record.document as CalibrationDoc;
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!('model' in spec.victim))
    errors.push(
      'calibration.reuse: this audit trains its victim, and a stored calibration belongs to one victim: build the calibration with the audit instead',
    );
  else if (facts.contentHash && record.victimHash && facts.contentHash !== record.victimHash)
    errors.push(
      `calibration.reuse: calibration ${record.id} was made for another victim (${record.victimHash.slice(0, 12)}…, this one is ${facts.contentHash.slice(0, 12)}…): pick one made for this victim, or build a new one`,
    );
  const calibrated = doc.defenses ?? [];
  spec.defenses.forEach((d, i) => {
    const c = calibrated.find((x) => x.id === d.id);
    if (!c) {
      errors.push(
        `defenses[${i}]: calibration ${record.id} has no thresholds for ${d.id} (it calibrated ${calibrated.map((x) => x.id).join(', ') || 'nothing'}): drop the defence or build a new calibration`,
      );
      return;
    }
    for (const [key, value] of Object.entries(d.params ?? {})) {
      const made = c.params?.[key];
      if (made !== undefined && made !== value)
        errors.push(
          `defenses[${i}].params.${key}: calibration ${record.id} was made with ${key}=${String(made)}, not ${String(value)}; reuse keeps its fingerprints and thresholds, so set it back to ${String(made)} or build a new calibration`,
        );
    }
  });
  const refs = doc.references ?? [];
  if (refs.length > 0 && refs.length < 3)
    warnings.push(
      `calibration.reuse: calibration ${record.id} rests on ${refs.length} reference models: each tau is then one of ${refs.length} values; 5 or more give thresholds worth defending`,
    );
  const accs = refs.map((r) => r.testAccuracy).filter((a): a is number => typeof a === 'number');
  if (accs.length && facts.testAccuracy !== undefined) {
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
    if (mean < facts.testAccuracy - WEAK_REFERENCE_GAP)
      warnings.push(
        `calibration.reuse: its reference models reach ${(mean * 100).toFixed(1)}% against the victim's ${(facts.testAccuracy * 100).toFixed(1)}%: independent models that weak sit far from the victim, so the thresholds claim too much; build a calibration with references trained as long as the victim`,
      );
  }
  return { errors, warnings };
}

/** Checks that need the victim's files and the store: blocking problems only (every caller refuses on them). */
export function semanticProblems(
  spec: AuditSpec,
  baseDir: string,
  reuse: CalibrationRecord | undefined,
): { problems: string[]; warnings: string[] } {
  const facts = victimFacts(spec, baseDir);
  const fit = reuse ? calibrationFit(spec, reuse, facts) : { errors: [], warnings: [] };
  return { problems: [...blockRangeProblems(spec, facts), ...fit.errors], warnings: fit.warnings };
}

/** '3.5 h', or '579 days' beyond two days. */
function formatHours(hours: number): string {
  return hours < 48 ? `${hours.toFixed(1)} h` : `${Math.round(hours / 24).toLocaleString('en-US')} days`;
}

/** The spec field a planned job's cost comes from: the victim's training, the references, or an attack's iterations. */
function jobField(job: Pick<PlannedJob, 'key'>, rowIndex: Map<string, number>): string {
  if (job.key === 'victim') return 'victim.train.epochs';
  if (job.key.startsWith('reference:') || job.key === 'calibrate') return 'calibration.references';
  const i = rowIndex.get(job.key.split(':')[1] ?? '');
  return i === undefined ? 'attacks' : `attacks[${i}].iterations`;
}

/** Warnings and the ceiling from the estimate and this machine's cores. */
export function estimateFindings(
  spec: AuditSpec,
  jobs: Pick<PlannedJob, 'key' | 'weight'>[],
  estimate: { wallSeconds: number; workerSeconds: number; workers: number },
  cores: number,
): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const hours = estimate.wallSeconds / 3600;
  if (hours > ESTIMATE_WARN_HOURS) {
    const rowIndex = new Map(expandSpec(spec).attacks.map((a) => [a.rowId, a.index]));
    const byField = new Map<string, number>();
    for (const j of jobs) {
      const field = jobField(j, rowIndex);
      byField.set(field, (byField.get(field) ?? 0) + j.weight);
    }
    const [field, seconds] = [...byField.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['attacks', 0];
    const share = estimate.workerSeconds > 0 ? Math.round((100 * seconds) / estimate.workerSeconds) : 0;
    const line = `${field}: the audit would take about ${formatHours(hours)} on this machine, ${share}% of it from this field`;
    if (hours > ESTIMATE_CEILING_HOURS)
      problems.push(
        `${line}; the workbench does not start audits estimated above ${ESTIMATE_CEILING_HOURS / 24} days: lower it`,
      );
    else warnings.push(`${line}; lower it for a first look, or leave it for a long run`);
  }
  if (estimate.workers > cores)
    warnings.push(
      `workers: ${estimate.workers} workers on ${cores} ${cores === 1 ? 'core' : 'cores'} share the cores and each runs slower: the audit does not finish sooner; ${cores} is the most that helps`,
    );
  return { problems, warnings };
}
