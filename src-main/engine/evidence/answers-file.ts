/**
 * One model's answers to the query sets, on disk (evidence bundles): JSON with every array
 * as little-endian float32 in base64, the encoding of fingerprint files.
 *
 *   { "formatVersion": 1, "model": { "role": "suspect", "contentHash": "..." },
 *     "sets": { "<set id>": { "output": "logits", "shape": [n, 10], "base64": "..." } } }
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { decodeArray, encodeArray } from '../defenses/fingerprint-file';
import { firstNonFinite } from '../defenses/math';
import { RESPONSE_OUTPUTS, type ResponseMap } from '../defenses/responses';
import { AuditError } from '../errors';
import { writeFileAtomicSync } from '../files/atomic-write';

export interface AnswersModel {
  /** 'suspect', 'victim' or 'reference-<i>'. */
  role: string;
  /** The model's content hash, or null when the suspect is known only by its answers. */
  contentHash: string | null;
}

const AnswersSchema = z.object({
  formatVersion: z.literal(1),
  model: z.object({ role: z.string().min(1), contentHash: z.string().nullable() }),
  sets: z.record(
    z.string(),
    z.object({
      output: z.enum(RESPONSE_OUTPUTS),
      shape: z.array(z.number().int().nonnegative()).min(1).max(2),
      base64: z.string(),
    }),
  ),
});

export function writeAnswersFile(file: string, model: AnswersModel, answers: ResponseMap): void {
  const sets = Object.fromEntries(
    Object.entries(answers).map(([id, a]) => [id, { output: a.output, ...encodeArray(a.data) }]),
  );
  writeFileAtomicSync(file, JSON.stringify({ formatVersion: 1, model, sets }));
}

export function readAnswersFile(file: string): { model: AnswersModel; answers: ResponseMap } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new AuditError('EVIDENCE_MISMATCH', 'An answers file cannot be read as JSON', {
      path: file,
      hint: 'The bundle is damaged: ask its author for a fresh copy.',
      cause,
    });
  }
  const r = AnswersSchema.safeParse(raw);
  if (!r.success)
    throw new AuditError('EVIDENCE_MISMATCH', `An answers file is not valid: ${r.error.issues[0]?.message}`, {
      path: file,
      hint: 'The bundle is damaged: ask its author for a fresh copy.',
    });
  const answers: ResponseMap = {};
  for (const [id, s] of Object.entries(r.data.sets)) {
    const data = decodeArray(s, file);
    // A NaN would be read differently by every argmax: no checker may have to guess.
    if (firstNonFinite(data.data) >= 0)
      throw new AuditError('EVIDENCE_MISMATCH', `An answers file holds a non-finite value in its ${id} answers`, {
        path: file,
        hint: 'The bundle is damaged or forged: ask its author for a fresh copy.',
      });
    answers[id] = { output: s.output, data };
  }
  return { model: r.data.model, answers };
}
