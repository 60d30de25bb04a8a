/**
 * `queries send`: asks a suspect's HTTP API the exported queries (queries-export.ts) and
 * writes its answers as a responses file for `verify --responses` (responses-file.ts).
 *
 * Each request is a POST of a JSON body made from a template, in which the string "$INPUT"
 * stands for the image: a nested [h][w][c] array of the float32 inputs (normalised, as the
 * .f32 files hold them), or a base64 PNG (8-bit pixels, de-normalised; see toPixels). With a
 * batch of N > 1, "$INPUT" becomes an array of up to N images and the answer must be an
 * array with one answer per image. The answer is read at a dotted JSON path (`outputs.0.scores`).
 *
 * APIs are slow, rate-limited and flaky, and an export can hold thousands of queries, so:
 * a rate limit (requests started per second), retries with exponential backoff on network
 * errors, timeouts, 429 and 5xx (Retry-After honoured), and resumability: each answer is
 * appended to `<out>.partial` as it arrives, a rerun skips what is there, and the partial
 * file is removed once the responses file is written.
 */
import { appendFileSync, existsSync, readFileSync, unlinkSync } from 'node:fs';
import { AuditError } from '../errors';
import { pngOf, readQueriesManifest, readQuerySet, type QueriesManifest } from './queries-export';
import type { QuerySet } from '../defenses/responses';
import { readResponsesFile, writeResponsesFile, RESPONSES_FORMAT, type ResponsesDocument } from './responses-file';
import {
  atPath,
  checkAnswer,
  DEFAULT_ANSWER_PATH,
  fillTemplate,
  invalidArgument,
  preview,
  readTemplate,
  type Answer,
  type ApiInput,
  type ApiOutput,
} from './api-template';
import { partialHeader, readPartial } from './responses-partial';

export type { ApiInput, ApiOutput };

export interface SendQueriesOptions {
  queriesDir: string;
  url: string;
  outFile: string;
  /** A JSON file holding the body template (default {"input": "$INPUT"}). */
  templateFile?: string;
  input?: ApiInput;
  answerPath?: string;
  output?: ApiOutput;
  /** Requests started per second at most (default 10). */
  ratePerSecond?: number;
  /** Retries per request after the first try (default 5). */
  retries?: number;
  /** Images per request (default 1: "$INPUT" is one image). */
  batch?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** First backoff wait; doubled on each retry, at most 30 s (default 500 ms). */
  backoffMs?: number;
  headers?: Record<string, string>;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface SendQueriesResult {
  file: string;
  output: ApiOutput;
  input: ApiInput;
  sets: { id: string; count: number }[];
  /** Answers found in the partial file of an earlier run. */
  resumed: number;
  /** Answers received in this run. */
  answered: number;
  requests: number;
  retries: number;
}

/** One image as the template wants it: [h][w][c] floats, or base64 PNG. */
async function imageValue(set: QuerySet, index: number, input: ApiInput, manifest: QueriesManifest): Promise<unknown> {
  if (input === 'png') return (await pngOf(set.inputs, index, manifest.normalization)).toString('base64');
  const [, h, w, c] = set.inputs.shape;
  const base = index * h * w * c;
  const d = set.inputs.data;
  return Array.from({ length: h }, (_, y) =>
    Array.from({ length: w }, (_, x) => Array.from(d.subarray(base + (y * w + x) * c, base + (y * w + x + 1) * c))),
  );
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolveSleep, reject) => {
    if (ms <= 0) return resolveSleep();
    const t = setTimeout(resolveSleep, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(cancelled());
      },
      { once: true },
    );
  });

const cancelled = () =>
  new AuditError('CANCELLED', 'Sending the queries was cancelled', {
    hint: 'Run the same command again: it resumes from the partial file.',
  });

function checkOptions(o: SendQueriesOptions): void {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch (cause) {
    throw invalidArgument(
      `--url: "${o.url}" is not a URL`,
      'Pass the endpoint, e.g. http://127.0.0.1:8080/predict.',
      undefined,
      cause,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalidArgument(`--url: ${url.protocol} is not http or https`, 'Pass an http:// or https:// endpoint.');
  const positive = (v: number | undefined, name: string, int: boolean) => {
    if (v !== undefined && (!(v > 0) || !Number.isFinite(v) || (int && !Number.isInteger(v))))
      throw invalidArgument(`${name} must be a positive ${int ? 'integer' : 'number'}, got ${v}`, `Pass ${name} > 0.`);
  };
  positive(o.ratePerSecond, '--rate', false);
  positive(o.batch, '--batch', true);
  positive(o.timeoutMs, 'the timeout', false);
  if (o.retries !== undefined && !(Number.isInteger(o.retries) && o.retries >= 0))
    throw invalidArgument(`--retries must be an integer >= 0, got ${o.retries}`, 'Pass --retries 0 or more.');
}

interface Poster {
  post: (body: unknown, where: string) => Promise<unknown>;
  stats: { requests: number; retries: number };
}

/** POSTs JSON with the rate limit, the timeout and retries; returns the parsed JSON answer. */
function poster(o: SendQueriesOptions): Poster {
  const rate = o.ratePerSecond ?? 10;
  const retries = o.retries ?? 5;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const backoff = o.backoffMs ?? 500;
  const stats = { requests: 0, retries: 0 };
  let nextStart = 0;
  const post = async (body: unknown, where: string): Promise<unknown> => {
    const text = JSON.stringify(body);
    let lastProblem = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (o.signal?.aborted) throw cancelled();
      await sleep(nextStart - Date.now(), o.signal);
      nextStart = Date.now() + 1000 / rate;
      stats.requests++;
      if (attempt > 0) stats.retries++;
      let res: Response;
      try {
        const signals = [AbortSignal.timeout(timeoutMs), ...(o.signal ? [o.signal] : [])];
        res = await fetch(o.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...(o.headers ?? {}) },
          body: text,
          signal: AbortSignal.any(signals),
        });
      } catch (e) {
        if (o.signal?.aborted) throw cancelled();
        const err = e as Error & { cause?: { code?: string } };
        lastProblem =
          err.name === 'TimeoutError'
            ? `no answer within ${timeoutMs / 1000} s`
            : `${err.message}${err.cause?.code ? ` (${err.cause.code})` : ''}`;
        await wait(attempt, undefined);
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        lastProblem = `HTTP ${res.status} ${res.statusText}`;
        await res.body?.cancel();
        await wait(attempt, res.headers.get('retry-after'));
        continue;
      }
      const answerText = await res.text();
      if (!res.ok)
        throw new AuditError(
          'DEPENDENCY_FAILED',
          `The API refused ${where}: HTTP ${res.status} ${res.statusText} ${preview(answerText)}`,
          {
            hint: 'Check --url, --template (the body the API expects) and --input; a 4xx is not retried.',
          },
        );
      try {
        return JSON.parse(answerText);
      } catch (cause) {
        throw new AuditError('RESPONSES_INVALID', `The API's answer to ${where} is not JSON: ${preview(answerText)}`, {
          hint: 'queries send reads JSON answers; check --url (the prediction endpoint, not a web page).',
          cause,
        });
      }
    }
    throw new AuditError(
      'DEPENDENCY_FAILED',
      `The API did not answer ${where} after ${retries + 1} tries (last: ${lastProblem})`,
      {
        hint: 'Check that the API is up and reachable, then run the same command again: answers so far are kept in the partial file and are not asked again. Raise --retries or lower --rate for a flaky or rate-limited API.',
      },
    );
  };
  // Exponential backoff, or the server's Retry-After (seconds) when it gives one; at most 30 s.
  const wait = (attempt: number, retryAfter: string | null | undefined) => {
    if (attempt >= retries) return Promise.resolve();
    const asked = retryAfter && /^\d+(\.\d+)?$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
    return sleep(Math.min(30_000, asked ?? backoff * 2 ** attempt), o.signal);
  };
  return { post, stats };
}

/** Sends every exported query not yet answered and writes the responses file when all are. */
export async function sendQueries(o: SendQueriesOptions): Promise<SendQueriesResult> {
  checkOptions(o);
  const input = o.input ?? 'float32';
  const output = o.output ?? 'logits';
  const answerPath = o.answerPath ?? DEFAULT_ANSWER_PATH;
  const batch = o.batch ?? 1;
  const template = readTemplate(o.templateFile);
  const manifest = readQueriesManifest(o.queriesDir);
  const entries = manifest.sets.filter((s) => s.exported);
  if (entries.length === 0)
    throw invalidArgument(
      'The export holds no query an API can answer (only white-box sets)',
      'Export from a calibration with a black-box defence (zest, modeldiff, ipguard) or pass --data for fidelity.',
      o.queriesDir,
    );
  const sets = entries.map((e) => readQuerySet(o.queriesDir, manifest, e));
  const partialFile = `${o.outFile}.partial`;
  const header = partialHeader(manifest, output, input, o.url);
  const answers = readPartial(partialFile, header, output);
  const resumed = answers.size;
  if (!existsSync(partialFile)) appendFileSync(partialFile, `${JSON.stringify(header)}\n`);
  else if (!readFileSync(partialFile, 'utf8').endsWith('\n')) appendFileSync(partialFile, '\n'); // after a torn line
  const { post, stats } = poster(o);
  const total = sets.reduce((n, s) => n + (s.inputs.shape[0] ?? 0), 0);
  if (resumed > 0) o.log?.(`resuming: ${resumed} of ${total} answers already in ${partialFile}`);
  let answered = 0;
  for (const set of sets) {
    const n = set.inputs.shape[0] ?? 0;
    const todo = Array.from({ length: n }, (_, i) => i).filter((i) => !answers.has(`${set.id}:${i}`));
    for (let k = 0; k < todo.length; k += batch) {
      const indices = todo.slice(k, k + batch);
      const where = `${set.id}[${indices.length === 1 ? indices[0] : `${indices[0]}..${indices[indices.length - 1]}`}]`;
      const images = await Promise.all(indices.map((i) => imageValue(set, i, input, manifest)));
      const body = await post(fillTemplate(template, batch > 1 ? images : images[0]), where);
      const found = atPath(body, answerPath);
      if (!found.found)
        throw new AuditError(
          'RESPONSES_INVALID',
          `The API's answer to ${where} has nothing at "${found.at}" (answer: ${preview(body)})`,
          { hint: 'Set --answer-path to where the answer is, dotted (e.g. outputs.0.scores; "" for the whole body).' },
        );
      let rows: unknown[];
      if (batch > 1) {
        if (!Array.isArray(found.value) || found.value.length !== indices.length)
          throw new AuditError(
            'RESPONSES_INVALID',
            `The API's answer to ${where} is not an array of ${indices.length} answers: ${preview(found.value)}`,
            { hint: 'With --batch N > 1 the answer path must give one answer per image sent; or use --batch 1.' },
          );
        rows = found.value;
      } else rows = [found.value];
      const lines = indices.map((i, j) => {
        const a = checkAnswer(rows[j], output, `${set.id}[${i}]`);
        answers.set(`${set.id}:${i}`, a);
        return JSON.stringify({ set: set.id, index: i, answer: a });
      });
      appendFileSync(partialFile, `${lines.join('\n')}\n`);
      answered += indices.length;
      if (answered % 50 < indices.length) o.log?.(`${resumed + answered}/${total} answered`);
    }
  }
  const doc: ResponsesDocument = {
    format: RESPONSES_FORMAT,
    formatVersion: 1,
    output,
    sets: Object.fromEntries(
      entries.map((e) => [
        e.id,
        {
          inputsSha256: e.inputsSha256,
          answers: Array.from({ length: e.count }, (_, i) => answers.get(`${e.id}:${i}`) as Answer),
        },
      ]),
    ),
  };
  writeResponsesFile(o.outFile, doc);
  readResponsesFile(o.outFile); // the same checks verify makes (row widths), before the partial file goes
  unlinkSync(partialFile);
  return {
    file: o.outFile,
    output,
    input,
    sets: entries.map((e) => ({ id: e.id, count: e.count })),
    resumed,
    answered,
    requests: stats.requests,
    retries: stats.retries,
  };
}
