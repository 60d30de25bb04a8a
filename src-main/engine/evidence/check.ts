/**
 * `evidence check DIR`: recomputes a bundle's verdict from its raw answers alone, no model
 * needed and no stored metric value read: every file against the manifest, the calibration's
 * hash (and signature), the fingerprints against the calibration, each reference's metric
 * values from its answers and each tau from those with the calibration's rule, the suspect's
 * metrics and fidelity, the verdict, the victim's answers against its fingerprints (each
 * metric at its identity), and finally the claimed result (verify.json) against all of it.
 * Any difference is named with its file; the output is verify's JSON with `evidence` added.
 */
import { join } from 'node:path';
import { loadCalibration, type ReadCalibrationOptions } from '../calibration/calibration-file';
import { computeThreshold } from '../calibration/rules';
import {
  FIDELITY_SET,
  fidelityFromAnswers,
  judge,
  labelsOf,
  metricsFromAnswers,
  type DefenseSet,
  withFalseClaims,
} from '../calibration/score-answers';
import { loadCalibratedFingerprints, VERIFY_SCHEMA_VERSION, type VerifyResult } from '../calibration/verify';
import { decodeArray } from '../defenses/fingerprint-file';
import { fingerprintHash } from '../defenses/fingerprint-file';
import { ALL_METRICS } from '../defenses/registry';
import { AuditError } from '../errors';
import { readAnswersFile } from './answers-file';
import { readFileSync } from 'node:fs';
import { CLAIM_FILE, fileProblems, readManifest, TEST_LABELS_FILE, type Manifest } from './manifest';
import type { MetricScore } from '../verdict/verdict';

/** Relative tolerance between a recomputed value and the one a file states (float32 answers, another backend). */
export const RECOMPUTE_TOLERANCE = 1e-4;
/** How far the victim may sit from a metric's identity value when scored against its own fingerprints. */
export const IDENTITY_TOLERANCE = 1e-3;

export interface EvidenceCheck {
  dir: string;
  rootHash: string;
  files: number;
  /** Every check made, in order, with its outcome. */
  checks: { name: string; ok: boolean; detail: string }[];
}

function close(a: number, b: number, tol: number): boolean {
  return a === b || Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new AuditError('EVIDENCE_MISMATCH', `${file} is not valid JSON`, {
      path: file,
      hint: 'The bundle is damaged.',
      cause,
    });
  }
}

class Findings {
  readonly checks: EvidenceCheck['checks'] = [];
  add(name: string, problems: string[], okDetail: string): void {
    this.checks.push({ name, ok: problems.length === 0, detail: problems.length ? problems.join('; ') : okDetail });
  }
  get problems(): string[] {
    return this.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  }
}

function valueOf(metrics: MetricScore[], id: string): number | null {
  return metrics.find((m) => m.id === id)?.value ?? null;
}

export function checkEvidence(
  dir: string,
  opts: { trust?: ReadCalibrationOptions; rootHash?: string } = {},
): { result: VerifyResult; evidence: EvidenceCheck } {
  const { manifest, rootHash } = readManifest(dir);
  const findings = new Findings();
  if (opts.rootHash !== undefined)
    findings.add(
      'root hash',
      opts.rootHash.toLowerCase() === rootHash
        ? []
        : [`manifest.json hashes to ${rootHash}, not the published ${opts.rootHash}`],
      rootHash,
    );
  const fileIssues = fileProblems(dir, manifest);
  findings.add('files', fileIssues, `${manifest.files.length} files match the manifest`);
  // A changed file makes everything after it meaningless: stop here, naming the files.
  if (fileIssues.length) throw mismatch(dir, findings);

  const calFile = join(dir, manifest.calibration);
  const { calibration, integrity } = loadCalibration(calFile, opts.trust);
  findings.add(
    'calibration',
    calibration.victim.contentHash === manifest.victim.contentHash
      ? []
      : [
          `${manifest.calibration} was made for victim ${calibration.victim.contentHash}, the manifest names ${manifest.victim.contentHash}`,
        ],
    `content hash ${integrity.contentHash}, ${integrity.summary}`,
  );
  const sets: DefenseSet[] = loadCalibratedFingerprints(calibration, calFile, calibration.victim.contentHash);

  const suspect = readAnswersFile(join(dir, 'answers', 'suspect.json')).answers;
  const victim = readAnswersFile(join(dir, 'answers', 'victim.json')).answers;
  const testLabels = decodeArray(
    (readJson(join(dir, TEST_LABELS_FILE)) as { labels: { shape: number[]; base64: string } }).labels,
    TEST_LABELS_FILE,
  ).data;

  // Taus from the references' answers, with the calibration's rule.
  if (manifest.references.length !== calibration.references.length)
    findings.add(
      'references',
      [
        `the manifest lists ${manifest.references.length} answer files, the calibration ${calibration.references.length} references`,
      ],
      '',
    );
  const refMetrics = manifest.references.map((f) => metricsFromAnswers(sets, readAnswersFile(join(dir, f)).answers));
  const taus = new Map<string, { tau: number; degenerate: boolean }>();
  const tauProblems: string[] = [];
  for (const m of calibration.metrics) {
    const values = refMetrics.map((r) => valueOf(r, m.id));
    if (values.some((v) => v === null)) {
      tauProblems.push(`${m.id}: a reference's answers do not give it`);
      continue;
    }
    const t = computeThreshold(m.kind, values as number[], m.rule);
    taus.set(m.id, { tau: t.tau, degenerate: t.degenerate });
    values.forEach((v, i) => {
      if (!close(v as number, m.values[i], RECOMPUTE_TOLERANCE))
        tauProblems.push(
          `${m.id}: reference ${i + 1} recomputes to ${v}, ${manifest.calibration} states ${m.values[i]}`,
        );
    });
    if (!close(t.tau, m.tau, RECOMPUTE_TOLERANCE))
      tauProblems.push(`${m.id}: tau recomputes to ${t.tau}, ${manifest.calibration} states ${m.tau}`);
  }
  findings.add('thresholds', tauProblems, `${taus.size} taus re-derived from ${refMetrics.length} references' answers`);

  // The victim against its own fingerprints: every metric at its identity value.
  const selfProblems: string[] = [];
  for (const m of metricsFromAnswers(sets, victim)) {
    const spec = ALL_METRICS.find((s) => s.id === m.id);
    if (m.value === null || !spec) continue;
    const scale = Math.max(1, Math.abs(taus.get(m.id)?.tau ?? 0));
    if (Math.abs(m.value - spec.identity) > IDENTITY_TOLERANCE * scale)
      selfProblems.push(`${m.id}: the victim's answers give ${m.value}, its fingerprints imply ${spec.identity}`);
  }
  findings.add('victim answers', selfProblems, "the victim's answers reproduce its fingerprints");

  // The suspect: metrics, fidelity, verdict.
  const computed = metricsFromAnswers(sets, suspect);
  const naProblems: string[] = [];
  const metrics = computed.map((m) => {
    const reason = manifest.notApplicable[m.id.split('.')[0]];
    if (reason === undefined) return m;
    if (m.value !== null)
      naProblems.push(`the manifest calls ${m.id} not applicable, but the suspect's answers give it`);
    return { ...m, reason };
  });
  findings.add(
    'applicability',
    naProblems,
    `${Object.keys(manifest.notApplicable).length} defences not applicable, as stated`,
  );
  const victimFidelity = victim[FIDELITY_SET];
  if (!victimFidelity || victimFidelity.output === 'activations')
    throw new AuditError('EVIDENCE_MISMATCH', 'answers/victim.json holds no answers on the test split (fidelity)', {
      path: join(dir, 'answers', 'victim.json'),
      hint: 'The bundle is incomplete: ask its author for a fresh copy.',
    });
  findings.add(
    TEST_LABELS_FILE,
    testLabels.length === manifest.data.testCount && victimFidelity.data.shape[0] === testLabels.length
      ? []
      : [
          `${testLabels.length} labels and ${victimFidelity.data.shape[0]} victim answers for the ${manifest.data.testCount} test images the manifest states`,
        ],
    `${testLabels.length} test labels`,
  );
  const victimClasses =
    victimFidelity.output === 'labels'
      ? Math.max(...labelsOf(victimFidelity)) + 1
      : (victimFidelity.data.shape[1] ?? 0);
  const fidelity = fidelityFromAnswers(suspect, testLabels, labelsOf(victimFidelity), victimClasses);
  const judged = judge([...metrics, ...fidelity], taus, manifest.parameters.rule);

  const claim = readJson(join(dir, CLAIM_FILE)) as VerifyResult;
  const claimProblems: string[] = [];
  for (const m of judged.metrics) {
    const stated = claim.metrics?.find((c) => c.id === m.id);
    if (!stated) claimProblems.push(`${m.id} is missing`);
    else if (
      (stated.value === null) !== (m.value === null) ||
      (m.value !== null && !close(m.value, stated.value as number, RECOMPUTE_TOLERANCE))
    )
      claimProblems.push(`${m.id} is stated as ${stated.value}, recomputed ${m.value}`);
    else if (
      (stated.tau === undefined) !== (m.tau === undefined) ||
      (m.tau !== undefined && !close(m.tau, stated.tau as number, RECOMPUTE_TOLERANCE))
    )
      claimProblems.push(`${m.id}'s tau is stated as ${stated.tau}, recomputed ${m.tau}`);
  }
  for (const stated of claim.metrics ?? [])
    if (!judged.metrics.some((m) => m.id === stated.id))
      claimProblems.push(`${stated.id} is stated but not in the calibration`);
  const v = judged.verdict;
  const c = claim.verdict;
  if (
    c?.derived !== v.derived ||
    c?.votes !== v.votes ||
    c?.of !== v.of ||
    c?.insufficientEvidence !== v.insufficientEvidence
  )
    claimProblems.push(
      `the verdict is stated as ${c?.derived ? 'derived' : 'not derived'} (${c?.votes}/${c?.of}${c?.insufficientEvidence ? ', insufficient evidence' : ''}), recomputed ${v.derived ? 'derived' : 'not derived'} (${v.votes}/${v.of}${v.insufficientEvidence ? ', insufficient evidence' : ''})`,
    );
  findings.add(CLAIM_FILE, claimProblems, 'the stated result equals the recomputed one');
  if (findings.problems.length) throw mismatch(dir, findings);

  const evidence: EvidenceCheck = { dir, rootHash, files: manifest.files.length, checks: findings.checks };
  return {
    result: {
      schemaVersion: VERIFY_SCHEMA_VERSION,
      createdAt: manifest.createdAt,
      tool: manifest.tool,
      backend: manifest.backend.name,
      victim: {
        path: claim.victim?.path ?? '',
        contentHash: manifest.victim.contentHash,
        lineage: manifest.victim.lineage,
      },
      suspect: {
        kind: manifest.suspect.kind,
        path: claim.suspect?.path ?? '',
        lineage: manifest.suspect.lineage,
        contentHash: manifest.suspect.contentHash,
        ...(manifest.suspect.responsesSha256
          ? { responses: { sha256: manifest.suspect.responsesSha256, output: claim.suspect?.responses?.output ?? '' } }
          : {}),
      },
      data: { path: claim.data?.path ?? '', testCount: manifest.data.testCount, testSha256: manifest.data.testSha256 },
      metrics: judged.metrics,
      verdict: judged.verdict,
      defenses: withFalseClaims(judged.defenses, calibration.metrics),
      calibration: calFile,
      calibrationIntegrity: integrity,
      fingerprints: sets.map((s) => ({ defense: s.defense.id, sha256: fingerprintHash(s.fingerprints) })),
      evidence: { dir, rootHash, files: manifest.files.length },
    },
    evidence,
  };
}

function mismatch(dir: string, findings: Findings): AuditError {
  return new AuditError('EVIDENCE_MISMATCH', `The evidence does not check: ${findings.problems.join(' | ')}`, {
    path: dir,
    hint: 'Each problem names the file that differs. Ask the bundle author for an unmodified copy; never trust its verdict as it is.',
  });
}

export type { Manifest };
