/**
 * The calibration document: everything a later `verify` needs to trust a threshold, in
 * one JSON file: the victim's hash, the fingerprint sets (stored beside it, pinned by
 * content hash), the defence parameters, every reference model with its values, and the
 * rule that turned those values into tau.
 *
 * Tamper-evident as a whole (issue 16, docs/calibration-format.md): on load the document is
 * validated (calibration-schema.ts), every tau is derived again from the stored reference
 * values with the stored rule and must equal the stored one, a formatVersion 2 file carries
 * a content hash over its canonical JSON (content-hash.ts) and may carry an Ed25519 signature
 * over that hash (signing.ts). Paths inside a formatVersion 2 file are relative to the file's
 * folder, so a calibration folder can be copied elsewhere; in memory they are absolute.
 *
 * formatVersion 1 files (absolute paths, no hash) are still read: this tool wrote them, runs
 * in existing homes reuse them, and re-derivation covers the defect that mattered (an edited
 * tau); `verify` reports them as unsigned and un-hashed.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { ParamValues } from '../../../src-shared/params';
import type { MetricKind } from '../defenses/types';
import { AuditError } from '../errors';
import { writeFileAtomicSync } from '../files/atomic-write';
import { CalibrationSchema, calibrationProblems } from './calibration-schema';
import { calibrationContentHash } from './content-hash';
import { computeThreshold, type ThresholdRule } from './rules';
import {
  checkSignature,
  signContentHash,
  type CalibrationSignature,
  type SignatureStatus,
  type TrustedKey,
} from './signing';

export const CALIBRATION_FORMAT_VERSION = 2;

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

/** A calibration in memory: paths absolute (resolved against the file's folder on load). */
export interface Calibration {
  formatVersion: 1 | 2;
  createdAt: string;
  backend: string;
  victim: { path: string; contentHash: string; lineage: string };
  data: { path: string };
  defenses: { id: string; params: ParamValues; fingerprintsFile: string; fingerprintsHash: string }[];
  references: CalibrationReference[];
  metrics: CalibrationMetric[];
  /** SHA-256 of the canonical document without this field and `signature` (formatVersion 2). */
  contentHash?: string;
  signature?: CalibrationSignature;
}

/** What `verify` says about a calibration's integrity (its JSON `calibrationIntegrity`). */
export interface CalibrationIntegrity {
  formatVersion: 1 | 2;
  contentHash: string | null;
  /** signed: checked against a trusted key; unchecked: signed by a key not trusted here. */
  signature: SignatureStatus;
  signedBy: string | null;
  summary: string;
}

export interface ReadCalibrationOptions {
  /** Keys a signature is checked against (the home's, or `verify --trust-key`). */
  trusted?: TrustedKey[];
  /** Refuse a calibration not signed by one of `trusted` (the user named the key to trust). */
  requireSignature?: boolean;
}

const HINT = 'Pass a file written by `ownership-audit calibrate`, or calibrate again.';

/** Every path field of the document mapped by `f` (to relative on write, to absolute on read). */
function mapPaths(c: Calibration, f: (p: string) => string): Calibration {
  return {
    ...c,
    victim: { ...c.victim, path: f(c.victim.path) },
    data: { path: f(c.data.path) },
    defenses: c.defenses.map((d) => ({ ...d, fingerprintsFile: f(d.fingerprintsFile) })),
    references: c.references.map((r) => ({ ...r, path: f(r.path) })),
  };
}

/**
 * Writes `c` (absolute paths) as formatVersion 2: paths relative to the file's folder with
 * `/` separators, the content hash, and a signature when a signing key is given. Returns the
 * calibration as a later read gives it (absolute paths, hash, signature).
 */
export function writeCalibration(file: string, c: Calibration, signingKey?: KeyObject): Calibration {
  const folder = dirname(resolve(file));
  const {
    contentHash: _h,
    signature: _s,
    ...body
  } = mapPaths(
    { ...c, formatVersion: CALIBRATION_FORMAT_VERSION },
    (p) => relative(folder, resolve(p)).split(sep).join('/') || '.',
  );
  const doc = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  const contentHash = calibrationContentHash(doc);
  const signature = signingKey ? signContentHash(signingKey, contentHash) : undefined;
  writeFileAtomicSync(
    file,
    `${JSON.stringify({ ...doc, contentHash, ...(signature ? { signature } : {}) }, null, 2)}\n`,
  );
  return { ...c, formatVersion: CALIBRATION_FORMAT_VERSION, contentHash, ...(signature ? { signature } : {}) };
}

/** Equal, or within 1e-12 relative: a tau written through JSON comes back bit-equal in practice. */
function sameTau(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));
}

/** Every tau (and degenerate flag) derived again from the stored values with the stored rule. */
function checkTaus(c: Calibration, file: string): void {
  for (const m of c.metrics) {
    const t = computeThreshold(m.kind, m.values, m.rule);
    const ruleChanged = t.rule.parameter !== m.rule.parameter;
    if (ruleChanged || !sameTau(t.tau, m.tau) || t.degenerate !== m.degenerate) {
      throw new AuditError(
        'CALIBRATION_MISMATCH',
        `The calibration's threshold for ${m.id} does not follow from its reference values: stored tau ${m.tau}${m.degenerate ? ' (degenerate)' : ''}, the ${m.rule.name} rule gives ${t.tau}${t.degenerate ? ' (degenerate)' : ''}`,
        {
          path: file,
          hint: 'The file was edited after calibration: calibrate again (`ownership-audit calibrate`), or restore the file written by it.',
        },
      );
    }
  }
}

function parse(file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    // No parse message: it quotes the file's contents, and the file may be anything.
    throw new AuditError('CALIBRATION_MISMATCH', 'The calibration file cannot be read as JSON', {
      path: file,
      hint: HINT,
      cause,
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new AuditError('CALIBRATION_MISMATCH', 'The file is not an Ownership Audit calibration', {
      path: file,
      hint: HINT,
    });
  const version = (raw as { formatVersion?: unknown }).formatVersion;
  if (version !== 1 && version !== 2)
    throw new AuditError(
      'CALIBRATION_MISMATCH',
      `The file is not an Ownership Audit calibration this version reads (formatVersion ${JSON.stringify(version) ?? 'missing'}; 1 or 2 expected)`,
      { path: file, hint: HINT },
    );
  return raw as Record<string, unknown>;
}

/** Reads, checks and resolves a calibration, and says how far it can be trusted. */
export function loadCalibration(
  file: string,
  opts: ReadCalibrationOptions = {},
): { calibration: Calibration; integrity: CalibrationIntegrity } {
  const raw = parse(file);
  // The hash first: an edit anywhere is named as tampering, before its symptoms are.
  if (raw.formatVersion === 2 && typeof raw.contentHash === 'string' && calibrationContentHash(raw) !== raw.contentHash)
    throw new AuditError('CALIBRATION_TAMPERED', "The calibration's content does not match its content hash", {
      path: file,
      hint: 'The file was changed after `calibrate` wrote it: restore it, or calibrate again.',
    });
  const r = CalibrationSchema.safeParse(raw, { reportInput: true });
  if (!r.success)
    throw new AuditError(
      'CALIBRATION_MISMATCH',
      `The calibration is not valid: ${calibrationProblems(r.error).join('; ')}`,
      {
        path: file,
        hint: HINT,
      },
    );
  const parsed: Calibration = r.data;
  const signature = checkSignature(
    parsed.signature,
    parsed.contentHash ?? '',
    opts.trusted ?? [],
    opts.requireSignature === true,
    file,
  );
  checkTaus(parsed, file);
  const folder = dirname(resolve(file));
  const signedBy = parsed.signature?.publicKeyFingerprint ?? null;
  return {
    calibration: mapPaths(parsed, (p) => resolve(folder, p)),
    integrity: {
      formatVersion: parsed.formatVersion,
      contentHash: parsed.contentHash ?? null,
      signature,
      signedBy,
      summary:
        signature === 'signed'
          ? `signed by ${signedBy}`
          : signature === 'unchecked'
            ? `signed by ${signedBy} (not checked: no trusted key with that fingerprint)`
            : parsed.formatVersion === 1
              ? 'unsigned and un-hashed (formatVersion 1)'
              : 'unsigned',
    },
  };
}

export function readCalibration(file: string, opts: ReadCalibrationOptions = {}): Calibration {
  return loadCalibration(file, opts).calibration;
}
