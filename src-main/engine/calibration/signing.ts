/**
 * The optional Ed25519 signature of a calibration (node:crypto, no dependency): made over
 * the document's content hash with the home's private key, `<home>/keys/calibration-ed25519.pem`
 * (created on first use, mode 0600), and checked against that key's public half or a public
 * key the user names (`verify --trust-key`). The hash catches edits; the signature says
 * that the edit was not made by someone without the key.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditError } from '../errors';

export interface CalibrationSignature {
  algorithm: 'ed25519';
  /** SHA-256 (hex) of the signer's public key in DER SubjectPublicKeyInfo form. */
  publicKeyFingerprint: string;
  /** Base64 Ed25519 signature of the UTF-8 bytes of the document's `contentHash`. */
  value: string;
}

/** A key a signature may be checked against, and where it came from (for messages). */
export interface TrustedKey {
  key: KeyObject;
  source: string;
}

export function signingKeyFile(home: string): string {
  return join(home, 'keys', 'calibration-ed25519.pem');
}

export function keyFingerprint(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

function readKey(file: string, kind: 'private' | 'public'): KeyObject {
  try {
    const pem = readFileSync(file, 'utf8');
    const key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    return key;
  } catch (cause) {
    // The message never echoes the file's contents: it may be any file.
    throw new AuditError('INVALID_ARGUMENT', `Not an Ed25519 ${kind} key in PEM form`, {
      path: file,
      hint:
        kind === 'private'
          ? 'Move the damaged key away; `calibrate --sign` then creates a new one (calibrations signed with the old key stay unverifiable here).'
          : 'Pass the public key (PEM) of the home that signed the calibration.',
      cause,
    });
  }
}

/** The home's private signing key, created (mode 0600) when there is none yet. */
export function loadOrCreateSigningKey(home: string): KeyObject {
  const file = signingKeyFile(home);
  if (!existsSync(file)) {
    mkdirSync(join(home, 'keys'), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      // 'wx': two first uses at once must not overwrite each other's key.
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return readKey(file, 'private');
}

/** The public half of the home's key, when the home has one (verify checks against it). */
export function homeTrustedKey(home: string): TrustedKey | undefined {
  const file = signingKeyFile(home);
  return existsSync(file) ? { key: createPublicKey(readKey(file, 'private')), source: file } : undefined;
}

/** A public (or private) key file named by the user: `verify --trust-key FILE`. */
export function trustedKeyFile(file: string): TrustedKey {
  return { key: readKey(file, 'public'), source: file };
}

export function signContentHash(key: KeyObject, contentHash: string): CalibrationSignature {
  return {
    algorithm: 'ed25519',
    publicKeyFingerprint: keyFingerprint(key),
    value: sign(null, Buffer.from(contentHash, 'utf8'), key).toString('base64'),
  };
}

/** `signed`: checked against a trusted key; `unchecked`: signed by a key not trusted here. */
export type SignatureStatus = 'signed' | 'unsigned' | 'unchecked';

/**
 * Checks a document's signature against the trusted keys. A signature that does not match
 * its key is tampering; with `require` (the user named the key to trust), so is a
 * calibration that is unsigned or signed by another key.
 */
export function checkSignature(
  signature: CalibrationSignature | undefined,
  contentHash: string,
  trusted: TrustedKey[],
  require: boolean,
  file: string,
): SignatureStatus {
  const tampered = (message: string, hint: string): AuditError =>
    new AuditError('CALIBRATION_TAMPERED', message, { path: file, hint });
  if (!signature) {
    if (require)
      throw tampered(
        'The calibration is unsigned, but a signature by the trusted key was required',
        'Ask for a calibration signed with that key (`calibrate --sign`), or verify without --trust-key.',
      );
    return 'unsigned';
  }
  const match = trusted.find((t) => keyFingerprint(t.key) === signature.publicKeyFingerprint);
  if (!match) {
    if (require)
      throw tampered(
        `The calibration is signed by key ${signature.publicKeyFingerprint}, not by the trusted key`,
        'Pass the public key of the home that signed it, or calibrate again with your own key.',
      );
    return 'unchecked';
  }
  const ok = verify(null, Buffer.from(contentHash, 'utf8'), match.key, Buffer.from(signature.value, 'base64'));
  if (!ok)
    throw tampered(
      `The calibration's signature does not match its content (key ${signature.publicKeyFingerprint}, from ${match.source})`,
      'The file was changed after it was signed: calibrate again (`calibrate --sign`) from trusted references.',
    );
  return 'signed';
}
