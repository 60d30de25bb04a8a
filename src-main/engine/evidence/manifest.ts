/**
 * An evidence bundle's manifest (manifest.json): what the bundle states about the
 * verification (models, data, parameters, tool) and the sha256 of every other file in it.
 * The root hash, to publish out of band, is the sha256 of manifest.json's bytes: it pins the
 * manifest, which pins every file. docs/evidence-format.md describes it for other readers.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { AuditError } from '../errors';
import { fileSha256, sha256Hex } from './hashes';

export const EVIDENCE_FORMAT = 'ownership-audit-evidence';
export const MANIFEST_FILE = 'manifest.json';
/** The verification result as the bundle's author saw it; `evidence check` recomputes and compares. */
export const CLAIM_FILE = 'verify.json';
export const TEST_LABELS_FILE = 'test-labels.json';
export const ANSWERS_DIR = 'answers';
export const CALIBRATION_DIR = 'calibration';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

export const ManifestSchema = z.object({
  format: z.literal(EVIDENCE_FORMAT),
  formatVersion: z.literal(1),
  createdAt: z.string(),
  tool: z.object({ name: z.string(), version: z.string() }),
  backend: z.object({ name: z.string(), tfjs: z.string().nullable() }),
  parameters: z.object({ rule: z.enum(['majority', 'any', 'all']), maxTest: z.number().int().positive().nullable() }),
  victim: z.object({ contentHash: z.string(), lineage: z.string() }),
  suspect: z.object({
    kind: z.enum(['model', 'responses']),
    contentHash: z.string().nullable(),
    lineage: z.string().nullable(),
    responsesSha256: hex64.nullable(),
  }),
  data: z.object({ testCount: z.number().int().nonnegative(), testSha256: hex64 }),
  /** The calibration document, relative to the bundle. */
  calibration: z.string(),
  /** Answers files of the reference models, in the calibration's reference order. */
  references: z.array(z.string()),
  /** Defences that did not apply to the suspect, with the reason verify gave. */
  notApplicable: z.record(z.string(), z.string()),
  files: z.array(z.object({ path: z.string(), sha256: hex64, bytes: z.number().int().nonnegative() })),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** Every file under `dir`, relative with `/` separators, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

export function fileEntries(dir: string, paths: readonly string[]): Manifest['files'] {
  return paths.map((p) => ({ path: p, sha256: fileSha256(join(dir, p)), bytes: statSync(join(dir, p)).size }));
}

export function readManifest(dir: string): { manifest: Manifest; rootHash: string } {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file))
    throw new AuditError('EVIDENCE_MISMATCH', `${MANIFEST_FILE} is missing: this is not an evidence bundle`, {
      path: dir,
      hint: 'Pass the folder written by `verify --evidence DIR`.',
    });
  const bytes = readFileSync(file);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new AuditError('EVIDENCE_MISMATCH', `${MANIFEST_FILE} is not valid JSON`, {
      path: file,
      hint: 'The manifest was damaged or edited: ask the bundle author for a fresh copy.',
      cause,
    });
  }
  const r = ManifestSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new AuditError('EVIDENCE_MISMATCH', `${MANIFEST_FILE} is not valid: ${i?.path.join('.')}: ${i?.message}`, {
      path: file,
      hint: 'The manifest was damaged or edited: ask the bundle author for a fresh copy.',
    });
  }
  return { manifest: r.data, rootHash: sha256Hex(bytes) };
}

/** File-level problems: a listed file missing or changed, an unlisted file present. One line each, naming the file. */
export function fileProblems(dir: string, manifest: Manifest): string[] {
  const problems: string[] = [];
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const f of manifest.files) {
    const p = join(dir, f.path);
    if (f.path.split('/').includes('..') || f.path.startsWith('/'))
      problems.push(`${f.path}: a path outside the bundle`);
    else if (!existsSync(p)) problems.push(`${f.path}: missing`);
    else if (fileSha256(p) !== f.sha256)
      problems.push(`${f.path}: its sha256 differs from the manifest (the file was changed)`);
  }
  for (const p of listFiles(dir))
    if (p !== MANIFEST_FILE && !listed.has(p))
      problems.push(`${p}: not listed in the manifest (added after the bundle was written)`);
  return problems;
}
