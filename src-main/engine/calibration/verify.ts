/**
 * Verification of one suspect: its value on every metric, against the calibrated taus when
 * a calibration is given (then a verdict), or against freshly extracted fingerprints
 * without one (values only, no verdict: without references there is no threshold).
 * A calibration is refused when it was made for another victim, when its fingerprint
 * files changed since, or when the document itself was edited (calibration-file.ts); it is
 * read before any model is loaded, so a bad one costs nothing.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type RunContext } from '../context';
import { loadDataset } from '../datasets';
import { fingerprintHash, readFingerprints } from '../defenses/fingerprint-file';
import { getDefense } from '../defenses/registry';
import type { Defense, Fingerprints } from '../defenses/types';
import { AuditError } from '../errors';
import { loadModel } from '../models/io';
import { evaluate, predictLabels } from '../training/evaluate';
import { applyThresholds, decide, type MetricScore, type Verdict, type VoteRule } from '../verdict/verdict';
import {
  loadCalibration,
  type Calibration,
  type CalibrationIntegrity,
  type ReadCalibrationOptions,
} from './calibration-file';
import { DEFAULT_DEFENSES, resolveDefenses, scoreSuspect } from './calibrate';

export interface VerifyRequest {
  victimDir: string;
  suspectDir: string;
  dataDir: string;
  calibrationFile?: string;
  defenses?: string[];
  defenseParams?: Record<string, Record<string, unknown>>;
  rule?: VoteRule;
  maxTest?: number;
  /** Keys a calibration's signature is checked against, and whether one must have signed it. */
  trust?: ReadCalibrationOptions;
}

export interface VerifyResult {
  metrics: MetricScore[];
  verdict?: Verdict;
  suspect: { path: string; lineage: string; contentHash: string };
  calibration?: string;
  /** With a calibration: its format version, hash and signature status ("signed by ..." / "unsigned"). */
  calibrationIntegrity?: CalibrationIntegrity;
}

export function loadCalibratedFingerprints(
  calibration: Calibration,
  file: string,
  victimHash: string,
): { defense: Defense; fingerprints: Fingerprints }[] {
  if (calibration.victim.contentHash !== victimHash) {
    throw new AuditError(
      'CALIBRATION_MISMATCH',
      'The calibration was made for another victim model (content hashes differ)',
      {
        path: file,
        hint: 'Calibrate this victim with `ownership-audit calibrate`, or pass the victim the calibration was made for.',
      },
    );
  }
  return calibration.defenses.map((d) => {
    if (!existsSync(d.fingerprintsFile)) {
      throw new AuditError('CALIBRATION_MISMATCH', `The calibration's ${d.id} fingerprints are missing`, {
        path: d.fingerprintsFile,
        hint: 'Keep the .fingerprints folder beside the calibration file, or calibrate again.',
      });
    }
    const fingerprints = readFingerprints(d.fingerprintsFile);
    if (fingerprintHash(fingerprints) !== d.fingerprintsHash || fingerprints.victimHash !== victimHash) {
      throw new AuditError('CALIBRATION_MISMATCH', `The ${d.id} fingerprints changed since the calibration`, {
        path: d.fingerprintsFile,
        hint: 'Calibrate again: thresholds only hold for the fingerprints they were computed with.',
      });
    }
    return { defense: getDefense(d.id), fingerprints };
  });
}

export async function verify(ctx: RunContext, req: VerifyRequest): Promise<VerifyResult> {
  const loaded = req.calibrationFile ? loadCalibration(req.calibrationFile, req.trust) : undefined;
  const victim = await loadModel(req.victimDir);
  const suspect = await loadModel(req.suspectDir);
  try {
    const data = await loadDataset(req.dataDir, {
      inputShape: victim.meta.inputShape,
      // The test data must be the victim's task: its channels, size and classes.
      fit: { inputShape: victim.meta.inputShape, numClasses: victim.meta.numClasses },
      normalization: victim.meta.normalization,
      maxTrain: victim.meta.normalization ? 1 : undefined,
      maxTest: req.maxTest,
    });
    const calibration: Calibration | undefined = loaded?.calibration;
    let sets: { defense: Defense; fingerprints: Fingerprints }[];
    if (calibration && req.calibrationFile) {
      sets = loadCalibratedFingerprints(calibration, req.calibrationFile, victim.meta.contentHash);
    } else {
      sets = [];
      for (const { defense, params } of resolveDefenses(req.defenses ?? [...DEFAULT_DEFENSES], req.defenseParams)) {
        sets.push({ defense, fingerprints: await defense.extract(ctx, victim, data.test, params) });
      }
    }
    const raw = await scoreSuspect(ctx, victim, suspect, sets);
    const metrics: MetricScore[] = [];
    for (const { defense } of sets) {
      for (const m of defense.metrics) {
        const r = raw.find((x) => x.id === m.id);
        const cal = calibration?.metrics.find((c) => c.id === m.id);
        metrics.push({
          id: m.id,
          kind: m.kind,
          value: r?.value ?? null,
          applicable: r?.value !== null && r?.value !== undefined,
          ...(r?.reason ? { reason: r.reason } : {}),
          votes: m.votes !== false,
          ...(cal ? { tau: cal.tau, degenerate: cal.degenerate } : {}),
        });
      }
    }
    // Fidelity: reported beside the metrics, never voting.
    const sameClasses = suspect.meta.numClasses === victim.meta.numClasses;
    const accuracy = sameClasses ? evaluate(suspect.model, data.test).accuracy : null;
    let agreement: number | null = null;
    if (sameClasses) {
      const a = predictLabels(victim.model, data.test);
      const b = predictLabels(suspect.model, data.test);
      agreement = a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / Math.max(1, a.length);
    }
    metrics.push({
      id: 'fidelity.accuracy',
      kind: 'similarity',
      value: accuracy,
      applicable: accuracy !== null,
      votes: false,
    });
    metrics.push({
      id: 'fidelity.agreement',
      kind: 'similarity',
      value: agreement,
      applicable: agreement !== null,
      votes: false,
    });
    const scored = calibration ? applyThresholds(metrics) : metrics;
    return {
      metrics: scored,
      ...(calibration
        ? {
            verdict: decide(scored, req.rule ?? 'majority'),
            calibration: resolve(req.calibrationFile as string),
            calibrationIntegrity: loaded?.integrity,
          }
        : {}),
      suspect: { path: resolve(req.suspectDir), lineage: suspect.meta.lineage, contentHash: suspect.meta.contentHash },
    };
  } finally {
    victim.model.dispose();
    suspect.model.dispose();
  }
}
