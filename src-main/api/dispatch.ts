/**
 * The one entry point both transports call: `dispatch(method, rawInput)` checks that the
 * method exists, validates the input against the contract's zod schema, runs the handler
 * and turns whatever happens into a `Result`. It never throws and never rejects.
 */
import type { z } from 'zod';
import {
  API_INPUT_SCHEMAS,
  API_METHODS,
  type ApiMethod,
  type AuditApi,
  type Result,
} from '../../src-shared/contract/api';
import { formatPath } from '../../src-shared/audit/spec';
import { failed, jsonNormalized, toApiError } from './errors';

/** What a method's handler gets (the validated input) and returns (the plain value). */
export type ApiInput<M extends ApiMethod> = Parameters<AuditApi[M]> extends [infer I] ? I : undefined;
export type ApiValue<M extends ApiMethod> = Awaited<ReturnType<AuditApi[M]>> extends Result<infer V> ? V : never;
export type ApiHandlers = { [M in ApiMethod]: (input: ApiInput<M>) => Promise<ApiValue<M>> | ApiValue<M> };

export type Dispatch = (method: string, rawInput: unknown) => Promise<Result<unknown>>;

export function isApiMethod(method: unknown): method is ApiMethod {
  return typeof method === 'string' && (API_METHODS as readonly string[]).includes(method);
}

/** One line per problem, each naming its field, e.g. `workers: Too big: expected number to be <=64`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    // Unknown keys sit at the object's own path; the message names them.
    const field = i.path.length ? formatPath(i.path) : '(input)';
    return `${field}: ${i.message}`;
  });
}

export function createDispatch(handlers: ApiHandlers): Dispatch {
  return async (method, rawInput) => {
    if (!isApiMethod(method)) {
      return failed(
        'UNKNOWN_METHOD',
        `Unknown API method "${String(method).slice(0, 100)}"`,
        `Known methods: ${API_METHODS.join(', ')}.`,
      );
    }
    const schema = API_INPUT_SCHEMAS[method] as z.ZodType;
    const parsed = schema.safeParse(rawInput);
    if (!parsed.success) {
      const problems = describeIssues(parsed.error.issues);
      return failed(
        'INVALID_ARGUMENT',
        `Invalid input for ${method}: ${problems.join('; ')}`,
        'Fix the field named above; the contract is src-shared/contract/api.ts.',
      );
    }
    try {
      const handler = handlers[method] as (input: unknown) => unknown;
      const value = await handler(parsed.data);
      return { ok: true, value: jsonNormalized(value === undefined ? null : value) };
    } catch (e) {
      return { ok: false, error: toApiError(e) };
    }
  };
}
