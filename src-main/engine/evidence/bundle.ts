/**
 * `verify --evidence DIR`: everything a verdict rests on, in one folder a third party can
 * check without any model (check.ts): the calibration document and its fingerprints (copied
 * byte for byte), every model's raw answers to every query (suspect, victim, each
 * reference), the test labels, the claimed result, and a manifest with the sha256 of each
 * file. References' answers let every tau be derived again; the victim's let the
 * fingerprints' victim side be checked.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { activeBackend } from '../backend';
import { throwIfCancelled, type RunContext } from '../context';
import type { Calibration } from '../calibration/calibration-file';
import type { VerifyResult } from '../calibration/verify';
import { encodeArray } from '../defenses/fingerprint-file';
import { answerAllWithModel, type QuerySet, type ResponseMap } from '../defenses/responses';
import { AuditError } from '../errors';
import { loadModel } from '../models/io';
import { writeAnswersFile } from './answers-file';
import { sha256Hex } from './hashes';
import {
  ANSWERS_DIR,
  CALIBRATION_DIR,
  CLAIM_FILE,
  EVIDENCE_FORMAT,
  fileEntries,
  listFiles,
  MANIFEST_FILE,
  TEST_LABELS_FILE,
  type Manifest,
} from './manifest';

export interface EvidenceRequest {
  dir: string;
  calibrationFile: string;
  calibration: Calibration;
  querySets: QuerySet[];
  suspectAnswers: ResponseMap;
  victimAnswers: ResponseMap;
  testLabels: ArrayLike<number>;
  maxTest?: number;
  result: VerifyResult;
}

/** A path inside the calibration's folder, relative to it; refused when it leaves the folder. */
function insideCalibration(calibrationFile: string, p: string): string {
  const rel = relative(dirname(resolve(calibrationFile)), p)
    .split(sep)
    .join('/');
  if (rel.startsWith('../') || isAbsolute(rel))
    throw new AuditError('INVALID_ARGUMENT', `The calibration's fingerprints lie outside its folder (${p})`, {
      path: calibrationFile,
      hint: 'Calibrate again: `calibrate` keeps fingerprints in <calibration>.fingerprints/ beside the document.',
    });
  return rel;
}

function prepareDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new AuditError('INVALID_ARGUMENT', `The evidence folder ${dir} is not empty`, {
      path: dir,
      hint: 'Name a new or empty folder: a bundle never overwrites files.',
    });
  mkdirSync(join(dir, ANSWERS_DIR), { recursive: true });
}

export async function writeEvidenceBundle(
  ctx: RunContext,
  req: EvidenceRequest,
): Promise<{ dir: string; rootHash: string; files: number }> {
  const dir = resolve(req.dir);
  const { calibration } = req;
  if (calibration.formatVersion !== 2)
    throw new AuditError(
      'INVALID_ARGUMENT',
      'An evidence bundle needs a formatVersion 2 calibration (hashed, relative paths)',
      {
        path: req.calibrationFile,
        hint: 'Calibrate again with this version.',
      },
    );
  const fingerprintPaths = calibration.defenses.map((d) => insideCalibration(req.calibrationFile, d.fingerprintsFile));
  prepareDir(dir);

  // 1. The calibration and its fingerprints, byte for byte, in the layout its relative paths name.
  const calName = basename(req.calibrationFile);
  mkdirSync(join(dir, CALIBRATION_DIR), { recursive: true });
  copyFileSync(req.calibrationFile, join(dir, CALIBRATION_DIR, calName));
  calibration.defenses.forEach((d, i) => {
    const target = join(dir, CALIBRATION_DIR, fingerprintPaths[i]);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(d.fingerprintsFile, target);
  });

  // 2. Answers: suspect, victim, and every reference on the defences' query sets.
  writeAnswersFile(
    join(dir, ANSWERS_DIR, 'suspect.json'),
    { role: 'suspect', contentHash: req.result.suspect.contentHash },
    req.suspectAnswers,
  );
  writeAnswersFile(
    join(dir, ANSWERS_DIR, 'victim.json'),
    { role: 'victim', contentHash: req.result.victim.contentHash },
    req.victimAnswers,
  );
  const defenseSets = req.querySets.filter((q) => q.id !== 'fidelity');
  const references: string[] = [];
  for (const [i, ref] of calibration.references.entries()) {
    throwIfCancelled(ctx, 'Evidence bundle');
    if (!existsSync(ref.path))
      throw new AuditError('CALIBRATION_MISMATCH', `Reference model ${i + 1} of the calibration is missing`, {
        path: ref.path,
        hint: "Keep the calibration's .references folder beside it: the bundle records every reference's answers so each tau can be re-derived.",
      });
    const model = await loadModel(ref.path);
    try {
      if (model.meta.contentHash !== ref.contentHash)
        throw new AuditError('CALIBRATION_MISMATCH', `Reference model ${i + 1} changed since the calibration`, {
          path: ref.path,
          hint: 'Calibrate again.',
        });
      const name = `${ANSWERS_DIR}/reference-${i + 1}.json`;
      writeAnswersFile(
        join(dir, name),
        { role: `reference-${i + 1}`, contentHash: ref.contentHash },
        answerAllWithModel(model.model, defenseSets, 'suspect', ctx),
      );
      references.push(name);
    } finally {
      model.model.dispose();
    }
    ctx.progress?.({ stage: 'evidence.references', iteration: i + 1, total: calibration.references.length });
  }

  // 3. Test labels and the claimed result.
  writeFileSync(
    join(dir, TEST_LABELS_FILE),
    JSON.stringify({
      labels: encodeArray({ shape: [req.testLabels.length], data: Float32Array.from(req.testLabels) }),
    }),
  );
  writeFileSync(join(dir, CLAIM_FILE), `${JSON.stringify(req.result, null, 2)}\n`);

  // 4. The manifest over every file written.
  const backend = activeBackend();
  const manifest: Manifest = {
    format: EVIDENCE_FORMAT,
    formatVersion: 1,
    createdAt: req.result.createdAt,
    tool: req.result.tool,
    backend: { name: backend?.backend ?? 'unknown', tfjs: backend?.tfjsVersion ?? null },
    parameters: { rule: req.result.verdict?.rule ?? 'majority', maxTest: req.maxTest ?? null },
    victim: { contentHash: req.result.victim.contentHash, lineage: req.result.victim.lineage },
    suspect: {
      kind: req.result.suspect.kind,
      contentHash: req.result.suspect.contentHash,
      lineage: req.result.suspect.lineage,
      responsesSha256: req.result.suspect.responses?.sha256 ?? null,
    },
    data: { testCount: req.result.data.testCount, testSha256: req.result.data.testSha256 },
    calibration: `${CALIBRATION_DIR}/${calName}`,
    references,
    notApplicable: Object.fromEntries(
      req.result.metrics
        .filter((m) => m.value === null && m.reason && !m.id.startsWith('fidelity.'))
        .map((m) => [m.id.split('.')[0], m.reason as string]),
    ),
    files: [],
  };
  manifest.files = fileEntries(
    dir,
    listFiles(dir).filter((p) => p !== MANIFEST_FILE),
  );
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(join(dir, MANIFEST_FILE), text);
  return { dir, rootHash: sha256Hex(text), files: manifest.files.length };
}
