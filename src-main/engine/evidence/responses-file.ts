/**
 * The answers of a suspect known only through its API (`verify --responses`): what the HTTP
 * adapter writes, or what a verifier assembles by hand. Plain JSON numbers, one row per query
 * in the export's order:
 *
 *   { "format": "ownership-audit-responses", "formatVersion": 1, "output": "probabilities",
 *     "sets": { "modeldiff": { "inputsSha256": "...", "answers": [[0.1, 0.9], ...] },
 *               "ipguard":   { "inputsSha256": "...", "answers": [3, 7, ...] } } }
 *
 * `output` is what the API gave for every set: logits, probabilities, or labels (then each
 * answer is one class index). `inputsSha256` is the export's hash of the set's float32
 * inputs: `verify` refuses answers to other queries.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { QuerySet, ResponseMap } from '../defenses/responses';
import { AuditError } from '../errors';
import { writeFileAtomicSync } from '../files/atomic-write';

export const RESPONSES_FORMAT = 'ownership-audit-responses';

const SetSchema = z.object({
  inputsSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  answers: z.array(z.union([z.number(), z.array(z.number())])),
});

export const ResponsesSchema = z.object({
  format: z.literal(RESPONSES_FORMAT),
  formatVersion: z.literal(1),
  output: z.enum(['logits', 'probabilities', 'labels']),
  sets: z.record(z.string(), SetSchema),
});
export type ResponsesDocument = z.infer<typeof ResponsesSchema>;

/** sha256 (hex) of a query set's inputs as little-endian float32 bytes: the export's file, byte for byte. */
export function inputsSha256(set: Pick<QuerySet, 'inputs'>): string {
  const d = set.inputs.data;
  return createHash('sha256')
    .update(Buffer.from(d.buffer, d.byteOffset, d.byteLength))
    .digest('hex');
}

function invalid(file: string, message: string): AuditError {
  return new AuditError('RESPONSES_INVALID', message, {
    path: file,
    hint: 'Answer the queries of `ownership-audit queries export` in their order (see docs/black-box.md).',
  });
}

/** Reads and checks a responses file; every row is checked for its type, width and finiteness. */
export function readResponsesFile(file: string): { doc: ResponsesDocument; answers: ResponseMap; sha256: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AuditError('RESPONSES_INVALID', 'The responses file cannot be read', {
      path: file,
      hint: 'Check the path.',
      cause,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (cause) {
    throw invalid(file, `The responses file is not valid JSON (${(cause as Error).message})`);
  }
  const r = ResponsesSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw invalid(file, `The responses file is not valid: ${i?.path.join('.')}: ${i?.message}`);
  }
  const doc = r.data;
  const answers: ResponseMap = {};
  for (const [id, set] of Object.entries(doc.sets)) {
    const rows = set.answers;
    if (doc.output === 'labels') {
      const bad = rows.findIndex((v) => typeof v !== 'number' || !Number.isInteger(v) || v < 0);
      if (bad >= 0) throw invalid(file, `sets.${id}.answers[${bad}] is not a class index (labels output)`);
      answers[id] = { output: 'labels', data: { shape: [rows.length], data: Float32Array.from(rows as number[]) } };
      continue;
    }
    const width = Array.isArray(rows[0]) ? rows[0].length : 0;
    const data = new Float32Array(rows.length * width);
    rows.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== width || width === 0)
        throw invalid(file, `sets.${id}.answers[${i}] is not a row of ${width || 'one or more'} scores`);
      row.forEach((v, j) => {
        if (!Number.isFinite(v)) throw invalid(file, `sets.${id}.answers[${i}][${j}] is not a finite number`);
        data[i * width + j] = v;
      });
    });
    answers[id] = { output: doc.output, data: { shape: [rows.length, width], data } };
  }
  return { doc, answers, sha256: createHash('sha256').update(text).digest('hex') };
}

/** Refuses answers given to other inputs than `sets` (the hash of each answered set must match). */
export function checkAnsweredInputs(file: string, doc: ResponsesDocument, sets: readonly QuerySet[]): void {
  for (const [id, answered] of Object.entries(doc.sets)) {
    const set = sets.find((s) => s.id === id);
    if (!set)
      throw invalid(
        file,
        `sets.${id}: the calibration has no query set "${id}" (known: ${sets.map((s) => s.id).join(', ')})`,
      );
    if (inputsSha256(set) !== answered.inputsSha256)
      throw invalid(
        file,
        `sets.${id}: the answers are to other inputs (inputsSha256 differs from this calibration's ${id} queries)`,
      );
  }
}

export function writeResponsesFile(file: string, doc: ResponsesDocument): void {
  writeFileAtomicSync(file, JSON.stringify(doc));
}
