/**
 * The wording of spec problems: zod's issues flattened to one `path: message` line each, in
 * the words of the spec (`attacks[1].seeds: must contain at least 1 item`), choosing the
 * branch a union value was meant for.
 */
import type { z } from 'zod';

/** `['attacks', 1, 'seeds']` -> `attacks[1].seeds`; keys that are not identifiers are quoted. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out || '(spec)';
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${Number(n) === 1 ? '' : 's'}`;
}

type Issue = z.core.$ZodIssue;

const DISCRIMINATOR_CHOICES: Record<string, string> = { kind: '"ltd" or "lsd"' };

function isMissing(issue: Issue): boolean {
  return issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined;
}

/** How badly a union branch misses the shape: unknown keys and required keys it lacks at its top level. */
function structuralScore(issues: readonly Issue[]): number {
  return issues.filter(
    (i) => (i.code === 'unrecognized_keys' && i.path.length === 0) || (isMissing(i) && i.path.length === 1),
  ).length;
}

function issueMessage(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const input = (issue as { input?: unknown }).input;
      if (input === undefined) return 'required';
      if (issue.expected === 'int') return `must be an integer, got ${typeName(input)}`;
      return `expected ${issue.expected}, got ${typeName(input)}`;
    }
    case 'too_small': {
      const min = issue.minimum;
      if (issue.origin === 'array' || issue.origin === 'set') return `must contain at least ${plural(min, 'item')}`;
      if (issue.origin === 'string')
        return Number(min) <= 1 ? 'must not be empty' : `must have at least ${plural(min, 'character')}`;
      return `must be ${issue.inclusive ? '>=' : '>'} ${min}, got ${String((issue as { input?: unknown }).input)}`;
    }
    case 'too_big': {
      const max = issue.maximum;
      if (issue.origin === 'array' || issue.origin === 'set') return `must contain at most ${plural(max, 'item')}`;
      if (issue.origin === 'string') return `must have at most ${plural(max, 'character')}`;
      return `must be ${issue.inclusive ? '<=' : '<'} ${max}, got ${String((issue as { input?: unknown }).input)}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      const got = typeName((issue as { input?: unknown }).input);
      return values.length === 1
        ? `must be ${values[0]}, got ${got}`
        : `must be one of ${values.join(', ')}, got ${got}`;
    }
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    default:
      return issue.message;
  }
}

/** Flattens zod issues to `path: message` lines, choosing the branch a union value was meant for. */
export function formatIssues(issues: readonly Issue[], base: readonly PropertyKey[] = []): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const at = [...base, ...issue.path];
    if (issue.code !== 'invalid_union') {
      out.push(`${formatPath(at)}: ${issueMessage(issue)}`);
      continue;
    }
    const branches = issue.errors;
    if (branches.length === 0) {
      const d = (issue as { discriminator?: string }).discriminator;
      const input = (issue as { input?: Record<string, unknown> }).input;
      const value = d && input && typeof input === 'object' ? input[d] : undefined;
      out.push(
        `${formatPath(at)}: ${value === undefined ? 'required' : `unknown ${d} ${JSON.stringify(value)}`}${d && DISCRIMINATOR_CHOICES[d] ? ` (must be ${DISCRIMINATOR_CHOICES[d]})` : ''}`,
      );
      continue;
    }
    // A value of the wrong type for every branch (e.g. a parameter that is null).
    if (branches.every((b) => b.length === 1 && b[0].code === 'invalid_type' && b[0].path.length === 0)) {
      const expected = branches.map((b) => (b[0] as { expected: string }).expected);
      const list =
        expected.length > 1 ? `${expected.slice(0, -1).join(', ')} or ${expected[expected.length - 1]}` : expected[0];
      out.push(`${formatPath(at)}: expected ${list}, got ${typeName((issue as { input?: unknown }).input)}`);
      continue;
    }
    const scores = branches.map(structuralScore);
    const best = Math.min(...scores);
    const chosen = branches.filter((_, i) => scores[i] === best);
    if (chosen.length === 1) {
      out.push(...formatIssues(chosen[0], at));
    } else {
      out.push(
        `${formatPath(at)}: matches none of the allowed forms: ${chosen.map((b) => `{ ${formatIssues(b, []).join('; ')} }`).join(' or ')}`,
      );
    }
  }
  return out;
}
