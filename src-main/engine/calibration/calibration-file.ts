/**
 * The calibration document: everything a later `verify` needs to trust a threshold, in
 * one JSON file: the victim's hash, the fingerprint sets (stored beside it, pinned by
 * content hash), the defence parameters, every reference model with its values, and the
 * rule that turned those values into tau.
 */
import { readFileSync } from 'node:fs';
import type { ParamValues } from '../../../src-shared/params';
import type { MetricKind } from '../defenses/types';
import { AuditError } from '../errors';
import { writeFileAtomicSync } from '../files/atomic-write';
import type { ThresholdRule } from './rules';

export interface CalibrationReference {
  path: string;
  contentHash: string;
  lineage: string;
  seed: number;
  learningRate?: number;
  iterations?: number;
  testAccuracy?: number;
}

export interface CalibrationMetric {
  id: string;
  kind: MetricKind;
  /** One value per reference, in the order of `references`. */
  values: number[];
  tau: number;
  rule: ThresholdRule;
  degenerate: boolean;
}

export interface Calibration {
  formatVersion: 1;
  createdAt: string;
  backend: string;
  victim: { path: string; contentHash: string; lineage: string };
  data: { path: string };
  defenses: { id: string; params: ParamValues; fingerprintsFile: string; fingerprintsHash: string }[];
  references: CalibrationReference[];
  metrics: CalibrationMetric[];
}

export function writeCalibration(file: string, c: Calibration): void {
  writeFileAtomicSync(file, `${JSON.stringify(c, null, 2)}\n`);
}

export function readCalibration(file: string): Calibration {
  let c: Calibration;
  try {
    c = JSON.parse(readFileSync(file, 'utf8')) as Calibration;
  } catch (cause) {
    throw new AuditError('CALIBRATION_MISMATCH', 'The calibration file cannot be read', {
      path: file,
      hint: 'Pass a file written by `ownership-audit calibrate`.',
      cause,
    });
  }
  if (c.formatVersion !== 1 || !c.victim || !Array.isArray(c.metrics) || !Array.isArray(c.defenses)) {
    throw new AuditError('CALIBRATION_MISMATCH', 'The file is not an Ownership Audit calibration', {
      path: file,
      hint: 'Pass a file written by `ownership-audit calibrate`.',
    });
  }
  return c;
}
