/**
 * The JSON side of `queries send`: the request body made from a template in which the
 * string "$INPUT" stands for the image(s), the answer read at a dotted path, and each
 * answer checked against the declared output (scores or a class index).
 */
import { readFileSync } from 'node:fs';
import { AuditError } from '../errors';

export type ApiOutput = 'logits' | 'probabilities' | 'labels';
export type ApiInput = 'float32' | 'png';

export const INPUT_PLACEHOLDER = '$INPUT';
export const DEFAULT_TEMPLATE = { input: INPUT_PLACEHOLDER };
export const DEFAULT_ANSWER_PATH = 'output';

/** One answer as the responses file holds it: a row of scores, or a class index. */
export type Answer = number | number[];

export function invalidArgument(message: string, hint: string, path?: string, cause?: unknown): AuditError {
  return new AuditError('INVALID_ARGUMENT', message, { hint, path, cause });
}

/** Reads the template and checks that it holds "$INPUT" exactly once. */
export function readTemplate(file: string | undefined): unknown {
  if (!file) return DEFAULT_TEMPLATE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (cause) {
    throw invalidArgument(
      'The request template is not a readable JSON file',
      'Pass a JSON file in which the string "$INPUT" stands for the image, e.g. {"instances": ["$INPUT"]}.',
      file,
      cause,
    );
  }
  const count = countPlaceholders(parsed);
  if (count !== 1)
    throw invalidArgument(
      `The request template holds the string "${INPUT_PLACEHOLDER}" ${count} times; it needs it once`,
      'Put "$INPUT" (with the quotes, as a JSON string) where the API expects the image.',
      file,
    );
  return parsed;
}

function countPlaceholders(v: unknown): number {
  if (v === INPUT_PLACEHOLDER) return 1;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countPlaceholders(x), 0);
  if (v && typeof v === 'object') return Object.values(v).reduce((n: number, x) => n + countPlaceholders(x), 0);
  return 0;
}

/** The template with "$INPUT" replaced by `value`. */
export function fillTemplate(template: unknown, value: unknown): unknown {
  if (template === INPUT_PLACEHOLDER) return value;
  if (Array.isArray(template)) return template.map((x) => fillTemplate(x, value));
  if (template && typeof template === 'object')
    return Object.fromEntries(Object.entries(template).map(([k, x]) => [k, fillTemplate(x, value)]));
  return template;
}

/** The value at a dotted path (`outputs.0.scores`); an empty path is the whole body. */
export function atPath(body: unknown, path: string): { found: true; value: unknown } | { found: false; at: string } {
  let v = body;
  const parts = path === '' ? [] : path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const key = parts[i];
    if (Array.isArray(v) && /^\d+$/.test(key) && Number(key) < v.length) v = v[Number(key)];
    else if (v && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, key))
      v = (v as Record<string, unknown>)[key];
    else return { found: false, at: parts.slice(0, i + 1).join('.') };
  }
  return { found: true, value: v };
}

/** Checks one answer for the declared output; returns it in the responses file's form. */
export function checkAnswer(value: unknown, output: ApiOutput, where: string): Answer {
  const hint =
    output === 'labels'
      ? 'With --output labels each answer must be one class index; check --answer-path.'
      : `With --output ${output} each answer must be an array of one score per class; check --answer-path and --output.`;
  if (output === 'labels') {
    // A one-element array (or a string of digits) is a common way to return a class.
    const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw new AuditError('RESPONSES_INVALID', `${where}: the answer ${preview(value)} is not a class index`, {
        hint,
      });
    return n;
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((x) => typeof x === 'number' && Number.isFinite(x)))
    throw new AuditError(
      'RESPONSES_INVALID',
      `${where}: the answer ${preview(value)} is not an array of finite scores`,
      {
        hint,
      },
    );
  return value as number[];
}

export function preview(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
