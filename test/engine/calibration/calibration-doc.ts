/**
 * Calibration documents built by hand for the tamper-evidence tests, with a second, independent
 * implementation of the content hash (docs/calibration-format.md): canonical JSON with sorted
 * keys, `contentHash` and `signature` left out, SHA-256 in hex. If the engine and this file
 * disagree, one of them departs from the documented format.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function canonicalJson(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function contentHashOf(doc: Record<string, Json>): string {
  const { contentHash: _h, signature: _s, ...rest } = doc;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

const hex = (i: number): string => i.toString(16).padStart(2, '0').repeat(32);

/** Every voting metric of deepjudge and ipguard, with taus by the paper rule. */
function metrics(): Json[] {
  const m = (id: string, kind: 'distance' | 'similarity', values: number[]): Json => ({
    id,
    kind,
    values,
    tau: kind === 'distance' ? Math.min(...values) : Math.max(...values),
    rule: { name: 'paper' },
    degenerate: false,
  });
  return [
    m('deepjudge.lod', 'distance', [4.73, 4.24, 4.75]),
    m('deepjudge.lad', 'distance', [25.3, 21.2, 25.6]),
    m('ipguard.mr', 'similarity', [0.1, 0.3, 0.2]),
  ];
}

/** A formatVersion 1 document (absolute paths, no hash), as calibrate wrote before issue 16. */
export function v1Doc(folder: string): Record<string, Json> {
  return {
    formatVersion: 1,
    createdAt: '2026-12-01T10:00:00.000Z',
    backend: 'wasm',
    victim: { path: `${folder}/victim`, contentHash: hex(1), lineage: 'train(cnn,bands)' },
    data: { path: `${folder}/data` },
    defenses: ['deepjudge', 'ipguard'].map((id, i) => ({
      id,
      params: { seeds: 10 },
      fingerprintsFile: `${folder}/cal.json.fingerprints/${id}.json`,
      fingerprintsHash: hex(2 + i),
    })),
    references: [0, 1, 2].map((i) => ({
      path: `${folder}/cal.json.references/reference-${i}`,
      contentHash: hex(10 + i),
      lineage: 'reference-train(cnn,bands)',
      seed: 10_000 + i,
      learningRate: 0.05,
      iterations: 40,
      testAccuracy: 0.9,
    })),
    metrics: metrics(),
  };
}

/** A formatVersion 2 document: paths relative to the calibration file, with its content hash. */
export function v2Doc(): Record<string, Json> {
  const doc: Record<string, Json> = {
    ...v1Doc('.'),
    formatVersion: 2,
    victim: { path: '../victim', contentHash: hex(1), lineage: 'train(cnn,bands)' },
    data: { path: '../data' },
    defenses: ['deepjudge', 'ipguard'].map((id, i) => ({
      id,
      params: { seeds: 10 },
      fingerprintsFile: `cal.json.fingerprints/${id}.json`,
      fingerprintsHash: hex(2 + i),
    })),
    references: [0, 1, 2].map((i) => ({
      path: `cal.json.references/reference-${i}`,
      contentHash: hex(10 + i),
      lineage: 'reference-train(cnn,bands)',
      seed: 10_000 + i,
    })),
  };
  return { ...doc, contentHash: contentHashOf(doc) };
}

/** Signs a v2 document's content hash with a fresh Ed25519 key; returns the public key too. */
export function signDoc(doc: Record<string, Json>, key?: KeyObject): { doc: Record<string, Json>; publicPem: string } {
  const privateKey = key ?? generateKeyPairSync('ed25519').privateKey;
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const signature = {
    algorithm: 'ed25519',
    publicKeyFingerprint: createHash('sha256').update(der).digest('hex'),
    value: sign(null, Buffer.from(String(doc.contentHash), 'utf8'), privateKey).toString('base64'),
  };
  return { doc: { ...doc, signature }, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export function writeDoc(file: string, doc: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}
