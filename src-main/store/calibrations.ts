/** The `calibrations` and `fingerprint_sets` tables: imported calibration documents. */
import { AuditError } from '../engine/errors';
import { now, type Db } from './db';
import { newId } from './ids';
import {
  calibrationFromRow,
  fingerprintSetFromRow,
  toJson,
  type CalibrationRow,
  type FingerprintSetRecord,
  type FingerprintSetRow,
} from './rows';
import type { AuditStore, CalibrationRecord } from './types';

export type ImportCalibration = Parameters<AuditStore['importCalibration']>[0];

interface CalibrationDefense {
  id: string;
  params: Record<string, unknown>;
  fingerprintsFile: string;
  fingerprintsHash: string;
}

/** The `defenses` of a calibration document, checked enough to index them. */
function calibrationDefenses(document: unknown, filePath: string): CalibrationDefense[] {
  const bad = (why: string): AuditError =>
    new AuditError('CALIBRATION_MISMATCH', `The calibration document cannot be imported: ${why}`, {
      path: filePath,
      hint: 'Import a file written by `ownership-audit calibrate`.',
    });
  const defenses = (document as { defenses?: unknown } | null)?.defenses;
  if (!Array.isArray(defenses)) throw bad('it has no `defenses` list');
  const seen = new Set<string>();
  return defenses.map((d: unknown, i) => {
    const e = (d ?? {}) as Partial<Record<keyof CalibrationDefense, unknown>>;
    if (typeof e.id !== 'string' || typeof e.fingerprintsFile !== 'string' || typeof e.fingerprintsHash !== 'string') {
      throw bad(`defenses[${i}] needs string id, fingerprintsFile and fingerprintsHash`);
    }
    if (seen.has(e.id)) throw bad(`defence ${e.id} is listed twice`);
    seen.add(e.id);
    const params =
      e.params !== undefined && e.params !== null && typeof e.params === 'object'
        ? (e.params as Record<string, unknown>)
        : {};
    return { id: e.id, params, fingerprintsFile: e.fingerprintsFile, fingerprintsHash: e.fingerprintsHash };
  });
}

/**
 * Records a calibration document and its fingerprint sets. Importing again under the
 * same id replaces both (the file was recalibrated in place).
 */
export function importCalibration(db: Db, c: ImportCalibration): CalibrationRecord {
  const defenses = calibrationDefenses(c.document, c.filePath);
  const id = c.id ?? newId('c');
  const docCreated = (c.document as { createdAt?: unknown }).createdAt;
  const createdAt = typeof docCreated === 'string' ? docCreated : now();
  db.transaction(() => {
    db.stmt(
      `INSERT INTO calibrations (id, created_at, file_path, victim_hash, document_json, run_id)
      VALUES (@id, @created_at, @file_path, @victim_hash, @document_json, @run_id)
      ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, file_path = excluded.file_path,
        victim_hash = excluded.victim_hash, document_json = excluded.document_json, run_id = excluded.run_id`,
    ).run({
      id,
      created_at: createdAt,
      file_path: c.filePath,
      victim_hash: c.victimHash,
      document_json: toJson(c.document),
      run_id: c.runId ?? null,
    });
    db.stmt('DELETE FROM fingerprint_sets WHERE calibration_id = ?').run(id);
    const insert = db.stmt(`INSERT INTO fingerprint_sets (calibration_id, defense, path, content_hash, params_json)
      VALUES (@calibration_id, @defense, @path, @content_hash, @params_json)`);
    for (const d of defenses) {
      insert.run({
        calibration_id: id,
        defense: d.id,
        path: d.fingerprintsFile,
        content_hash: d.fingerprintsHash,
        params_json: toJson(d.params),
      });
    }
  });
  return getCalibration(db, id) as CalibrationRecord;
}

export function getCalibration(db: Db, id: string): CalibrationRecord | undefined {
  const row = db.stmt('SELECT * FROM calibrations WHERE id = ?').get(id) as CalibrationRow | undefined;
  return row && calibrationFromRow(row);
}

/** Newest first. */
export function listCalibrations(db: Db): CalibrationRecord[] {
  return (db.stmt('SELECT * FROM calibrations ORDER BY created_at DESC, rowid DESC').all() as CalibrationRow[]).map(
    calibrationFromRow,
  );
}

export function listFingerprintSets(db: Db, calibrationId: string): FingerprintSetRecord[] {
  return (
    db
      .stmt('SELECT * FROM fingerprint_sets WHERE calibration_id = ? ORDER BY id')
      .all(calibrationId) as FingerprintSetRow[]
  ).map(fingerprintSetFromRow);
}
