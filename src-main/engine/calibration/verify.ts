/**
 * Verification of one suspect: its value on every metric, against the calibrated taus when
 * a calibration is given (then a verdict), or against freshly extracted fingerprints
 * without one (values only, no verdict: without references there is no threshold).
 *
 * The suspect is a model folder (every metric), or only its recorded answers to the
 * exported queries (`responsesFile`: the black-box metrics; white-box ones do not apply).
 * Both routes compute the metrics from answers (score-answers.ts), so they agree exactly on
 * equal answers. With `evidenceDir`, everything the result rests on is written as a bundle
 * that `evidence check` recomputes without any model (evidence/bundle.ts).
 *
 * A calibration is refused when it was made for another victim, when its fingerprint
 * files changed since, or when the document itself was edited (calibration-file.ts); it is
 * read before any model is loaded, so a bad one costs nothing.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { activeBackend } from '../backend';
import { type RunContext } from '../context';
import { loadDataset } from '../datasets';
import { fingerprintHash, readFingerprints } from '../defenses/fingerprint-file';
import { allImages } from '../defenses/probe-data';
import { getDefense } from '../defenses/registry';
import { answerAllWithModel, answerWithModel, type ResponseMap } from '../defenses/responses';
import { AuditError } from '../errors';
import { writeEvidenceBundle } from '../evidence/bundle';
import { imageSetSha256 } from '../evidence/hashes';
import { checkAnsweredInputs, readResponsesFile } from '../evidence/responses-file';
import { loadModel, type LoadedModel } from '../models/io';
import { toolInfo, type ToolInfo } from '../tool-info';
import type { MetricScore, VoteRule } from '../verdict/verdict';
import {
  loadCalibration,
  type Calibration,
  type CalibrationIntegrity,
  type ReadCalibrationOptions,
} from './calibration-file';
import { DEFAULT_DEFENSES, resolveDefenses } from './calibrate';
import {
  FIDELITY_SET,
  fidelityFromAnswers,
  judge,
  labelsOf,
  metricsFromAnswers,
  verificationQuerySets,
  type DefenseSet,
  type VerifyDefenseVerdict,
  type VerifyVerdict,
  withFalseClaims,
} from './score-answers';

/** The version of `verify --json` (docs/verify-json.md). 1 was the unversioned output before issue 19. */
export const VERIFY_SCHEMA_VERSION = 2;

export interface VerifyRequest {
  victimDir: string;
  /** The suspect's model folder; or `responsesFile`, its recorded answers. */
  suspectDir?: string;
  responsesFile?: string;
  dataDir: string;
  calibrationFile?: string;
  defenses?: string[];
  defenseParams?: Record<string, Record<string, unknown>>;
  rule?: VoteRule;
  maxTest?: number;
  /** Keys a calibration's signature is checked against, and whether one must have signed it. */
  trust?: ReadCalibrationOptions;
  /** Write an evidence bundle here (needs a calibration). */
  evidenceDir?: string;
}

export interface VerifySuspect {
  /** 'model': a model folder; 'responses': recorded answers only. */
  kind: 'model' | 'responses';
  path: string;
  lineage: string | null;
  contentHash: string | null;
  /** For recorded answers: the file's sha256 and what the API returned. */
  responses?: { sha256: string; output: string };
}

/** The result as `verify --json` prints it; verify-schema.ts is the published form (a type test holds them together). */
export interface VerifyResult {
  schemaVersion: typeof VERIFY_SCHEMA_VERSION;
  createdAt: string;
  tool: ToolInfo;
  backend: string;
  victim: { path: string; contentHash: string; lineage: string };
  suspect: VerifySuspect;
  /** The test split fidelity was measured on, as loaded (hash: evidence/hashes.ts). */
  data: { path: string; testCount: number; testSha256: string };
  metrics: MetricScore[];
  verdict?: VerifyVerdict;
  /** With a calibration: each defence's own verdict (its metrics' strict majority; a tie named). */
  defenses?: VerifyDefenseVerdict[];
  calibration?: string;
  /** With a calibration: its format version, hash and signature status ("signed by ..." / "unsigned"). */
  calibrationIntegrity?: CalibrationIntegrity;
  /** The fingerprint sets scored against, by their content hash. */
  fingerprints: { defense: string; sha256: string }[];
  /** With `evidenceDir`: where the bundle is and the hash to publish. */
  evidence?: { dir: string; rootHash: string; files: number };
}

export function loadCalibratedFingerprints(calibration: Calibration, file: string, victimHash: string): DefenseSet[] {
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

function checkRequest(req: VerifyRequest): void {
  if (Boolean(req.suspectDir) === Boolean(req.responsesFile))
    throw new AuditError(
      'INVALID_ARGUMENT',
      'Give the suspect as a model folder or as recorded answers, one of the two',
      {
        hint: 'Pass --suspect DIR, or --responses FILE (from `ownership-audit queries send` or your own client).',
      },
    );
  if (req.responsesFile && !req.calibrationFile)
    throw new AuditError('INVALID_ARGUMENT', 'Recorded answers are to the queries of a calibration; none was given', {
      hint: 'Pass the --calibration the queries were exported from.',
    });
  if (req.evidenceDir && !req.calibrationFile)
    throw new AuditError(
      'INVALID_ARGUMENT',
      'An evidence bundle needs a calibration (its thresholds are the evidence)',
      {
        hint: 'Pass --calibration, or leave out --evidence.',
      },
    );
}

/** The suspect's answers from its model: defences it does not fit are set aside with the reason. */
function answersFromModel(
  ctx: RunContext,
  victim: LoadedModel,
  suspect: LoadedModel,
  sets: DefenseSet[],
  querySets: ReturnType<typeof verificationQuerySets>,
): { answers: ResponseMap; notApplicable: Map<string, string> } {
  const notApplicable = new Map<string, string>();
  for (const { defense, fingerprints } of sets) {
    const app = defense.applicability(victim, suspect, fingerprints);
    if (!app.applicable) notApplicable.set(defense.id, app.reason ?? 'not applicable');
  }
  const skipped = new Set(
    sets
      .filter((s) => notApplicable.has(s.defense.id))
      .flatMap((s) => s.defense.querySets?.(s.fingerprints) ?? [])
      .map((q) => q.id),
  );
  const answers: ResponseMap = {};
  for (const q of querySets) if (!skipped.has(q.id)) answers[q.id] = answerWithModel(suspect.model, q, 'suspect', ctx);
  return { answers, notApplicable };
}

/** Defences without query sets (none in the registry today) are scored the old way, from the model. */
async function modelOnlyScores(
  ctx: RunContext,
  victim: LoadedModel,
  suspect: LoadedModel | undefined,
  sets: DefenseSet[],
  notApplicable: Map<string, string>,
): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  for (const { defense, fingerprints } of sets) {
    if (defense.scoreResponses || !suspect || notApplicable.has(defense.id)) continue;
    out.set(defense.id, await defense.score(ctx, victim, suspect, fingerprints));
  }
  return out;
}

export async function verify(ctx: RunContext, req: VerifyRequest): Promise<VerifyResult> {
  checkRequest(req);
  const loaded = req.calibrationFile ? loadCalibration(req.calibrationFile, req.trust) : undefined;
  const recorded = req.responsesFile ? readResponsesFile(req.responsesFile) : undefined;
  const victim = await loadModel(req.victimDir);
  const suspect = req.suspectDir ? await loadModel(req.suspectDir) : undefined;
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
    let sets: DefenseSet[];
    if (calibration && req.calibrationFile) {
      sets = loadCalibratedFingerprints(calibration, req.calibrationFile, victim.meta.contentHash);
    } else {
      sets = [];
      for (const { defense, params } of resolveDefenses(req.defenses ?? [...DEFAULT_DEFENSES], req.defenseParams)) {
        sets.push({ defense, fingerprints: await defense.extract(ctx, victim, data.test, params) });
      }
    }
    const querySets = verificationQuerySets(sets, allImages(data.test));
    let answers: ResponseMap;
    let notApplicable: Map<string, string>;
    if (suspect) {
      ({ answers, notApplicable } = answersFromModel(ctx, victim, suspect, sets, querySets));
    } else {
      const r = recorded as NonNullable<typeof recorded>;
      checkAnsweredInputs(req.responsesFile as string, r.doc, querySets);
      answers = r.answers;
      notApplicable = new Map(
        sets
          .filter((s) => s.defense.access === 'white-box')
          .map((s) => [
            s.defense.id,
            `${s.defense.name} is white-box: it needs the suspect's weights, not its answers`,
          ]),
      );
    }
    const fidelitySet = querySets.find((q) => q.id === FIDELITY_SET);
    const victimFidelity = answerWithModel(victim.model, fidelitySet!, 'victim', ctx);
    const victimLabels = labelsOf(victimFidelity);
    const metrics: MetricScore[] = [
      ...metricsFromAnswers(
        sets,
        answers,
        notApplicable,
        await modelOnlyScores(ctx, victim, suspect, sets, notApplicable),
      ),
      ...fidelityFromAnswers(
        answers,
        data.test.labels.subarray(0, data.test.count),
        victimLabels,
        victim.meta.numClasses,
      ),
    ];
    const taus = new Map((calibration?.metrics ?? []).map((m) => [m.id, { tau: m.tau, degenerate: m.degenerate }]));
    const judged = calibration ? judge(metrics, taus, req.rule ?? 'majority') : undefined;
    const result: VerifyResult = {
      schemaVersion: VERIFY_SCHEMA_VERSION,
      createdAt: new Date().toISOString(),
      tool: toolInfo(),
      backend: activeBackend()?.backend ?? 'unknown',
      victim: { path: resolve(req.victimDir), contentHash: victim.meta.contentHash, lineage: victim.meta.lineage },
      suspect: suspect
        ? {
            kind: 'model',
            path: resolve(req.suspectDir as string),
            lineage: suspect.meta.lineage,
            contentHash: suspect.meta.contentHash,
          }
        : {
            kind: 'responses',
            path: resolve(req.responsesFile as string),
            lineage: null,
            contentHash: null,
            responses: { sha256: recorded!.sha256, output: recorded!.doc.output },
          },
      data: { path: resolve(req.dataDir), testCount: data.test.count, testSha256: imageSetSha256(data.test) },
      metrics: judged ? judged.metrics : metrics,
      ...(judged && calibration
        ? { verdict: judged.verdict, defenses: withFalseClaims(judged.defenses, calibration.metrics) }
        : {}),
      ...(calibration
        ? { calibration: resolve(req.calibrationFile as string), calibrationIntegrity: loaded?.integrity }
        : {}),
      fingerprints: sets.map((s) => ({ defense: s.defense.id, sha256: fingerprintHash(s.fingerprints) })),
    };
    if (req.evidenceDir && calibration) {
      const victimAnswers = {
        ...answerAllWithModel(
          victim.model,
          querySets.filter((q) => q.id !== FIDELITY_SET),
          'victim',
          ctx,
        ),
        [FIDELITY_SET]: victimFidelity,
      };
      result.evidence = await writeEvidenceBundle(ctx, {
        dir: req.evidenceDir,
        calibrationFile: req.calibrationFile as string,
        calibration,
        querySets,
        suspectAnswers: answers,
        victimAnswers,
        testLabels: data.test.labels.subarray(0, data.test.count),
        maxTest: req.maxTest,
        result,
      });
    }
    return result;
  } finally {
    victim.model.dispose();
    suspect?.model.dispose();
  }
}
