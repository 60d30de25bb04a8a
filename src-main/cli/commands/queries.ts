/**
 * `ownership-audit queries export|send`: a suspect known only through its API (docs/black-box.md).
 * export writes the queries of a calibration as files; send asks an HTTP API and records the
 * answers for `verify --responses`.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { allCores, initBackend } from '../../engine/backend';
import { AuditError } from '../../engine/errors';
import { sendQueries, type ApiInput, type ApiOutput } from '../../engine/evidence/http-adapter';
import { exportQueries } from '../../engine/evidence/queries-export';
import { intArg, positiveNumber } from '../options';
import { emit, fail, progress } from '../output';
import { abortOnSignals, calibrationTrust } from './verification';

/** "N/s", "N" or "N/min" as requests per second. */
function rateArg(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute))?\s*$/i.exec(value);
  const n = m ? Number(m[1]) : NaN;
  if (!m || !(n > 0)) throw new InvalidArgumentError(`expected N/s or N/min (e.g. 5/s, 100/min), got "${value}"`);
  return m[2] && m[2].toLowerCase().startsWith('m') ? n / 60 : n;
}

function collectHeader(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function headerMap(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf(':');
    if (i <= 0)
      throw new AuditError('INVALID_ARGUMENT', `--header: expected "Name: value", got "${h}"`, {
        hint: 'e.g. --header "Authorization: Bearer $TOKEN".',
      });
    out[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  return out;
}

export function registerQueries(program: Command): void {
  const queries = program
    .command('queries')
    .description("a suspect known only through its API: export a calibration's queries, send them, record the answers");

  queries
    .command('export')
    .description('write the queries `verify --responses` needs answered, as float32 files (and PNGs with --png)')
    .requiredOption('--calibration <file>', 'calibration from `calibrate`')
    .requiredOption('--victim <dir>', 'the victim the calibration was made for')
    .option('--data <dir>', 'data set whose test split is the fidelity queries (use the same with verify)')
    .option('--max-test <n>', 'class-balanced prefix of the test split (use the same with verify)', intArg(1))
    .requiredOption('--out <dir>', 'folder to write queries.json and the <set>.f32 files into')
    .option('--png', 'also write each input as an 8-bit PNG under png/<set>/<index>.png')
    .option('--trust-key <file>', 'require the calibration to be signed by this Ed25519 public key (PEM)')
    .option(
      '--home <dir>',
      'data folder holding the signing key (default: env OWNERSHIP_AUDIT_HOME or the app data folder)',
    )
    .option('--json', 'print the manifest as JSON')
    .action(
      async (f: {
        calibration: string;
        victim: string;
        data?: string;
        maxTest?: number;
        out: string;
        png?: boolean;
        trustKey?: string;
        home?: string;
        json?: boolean;
      }) => {
        const mode = { json: Boolean(f.json) };
        try {
          const trust = calibrationTrust(f.trustKey, f.home, true);
          await initBackend(program.opts<{ backend?: string }>().backend, allCores());
          const { dir, manifest } = await exportQueries({
            calibrationFile: f.calibration,
            victimDir: f.victim,
            dataDir: f.data,
            maxTest: f.maxTest,
            outDir: f.out,
            png: f.png,
            trust,
          });
          emit(mode, { dir, ...manifest }, () =>
            [
              `wrote ${dir}/queries.json`,
              ...manifest.sets.map(
                (s) =>
                  `${s.id.padEnd(10)} ${String(s.count).padStart(5)} inputs  needs ${s.needs.padEnd(13)} ${s.file ?? `(${s.note ?? 'not exported'})`}`,
              ),
              `inputs ${manifest.inputShape.join('x')} NHWC float32; preprocessing: ${manifest.preprocessing}`,
            ].join('\n'),
          );
        } catch (e) {
          fail(mode, e);
        }
      },
    );

  queries
    .command('send')
    .description("POST every exported query to a suspect's HTTP API and record the answers for `verify --responses`")
    .requiredOption('--queries <dir>', 'folder written by `queries export`')
    .requiredOption('--url <url>', 'the prediction endpoint (POST, JSON in and out)')
    .requiredOption('--out <file>', 'responses file to write (progress goes to <file>.partial; a rerun resumes)')
    .option('--template <file>', 'JSON request body in which the string "$INPUT" stands for the image', undefined)
    .addOption(
      new Option('--input <form>', 'image form: nested [h][w][c] float32 array, or base64 PNG')
        .choices(['float32', 'png'])
        .default('float32'),
    )
    .option('--answer-path <path>', 'dotted JSON path of the answer in the reply, e.g. outputs.0.scores', 'output')
    .addOption(
      new Option('--output <kind>', 'what the API answers')
        .choices(['logits', 'probabilities', 'labels'])
        .default('logits'),
    )
    .option('--rate <n/s>', 'requests started per second at most (N/s or N/min)', rateArg, 10)
    .option('--retries <n>', 'retries per request on network errors, timeouts, 429 and 5xx', intArg(0), 5)
    .option('--batch <n>', 'images per request ("$INPUT" becomes an array, the answer must be one too)', intArg(1), 1)
    .option('--timeout <seconds>', 'per-request timeout', positiveNumber, 30)
    .option('--header <"Name: value">', 'extra request header (repeatable), e.g. Authorization', collectHeader, [])
    .option('--json', 'print the summary as JSON')
    .action(
      async (f: {
        queries: string;
        url: string;
        out: string;
        template?: string;
        input: ApiInput;
        answerPath: string;
        output: ApiOutput;
        rate: number;
        retries: number;
        batch: number;
        timeout: number;
        header: string[];
        json?: boolean;
      }) => {
        const mode = { json: Boolean(f.json) };
        try {
          const r = await sendQueries({
            queriesDir: f.queries,
            url: f.url,
            outFile: f.out,
            templateFile: f.template,
            input: f.input,
            answerPath: f.answerPath,
            output: f.output,
            ratePerSecond: f.rate,
            retries: f.retries,
            batch: f.batch,
            timeoutMs: f.timeout * 1000,
            headers: headerMap(f.header),
            log: (m) => progress(m),
            signal: abortOnSignals().signal,
          });
          emit(mode, r, () =>
            [
              `wrote ${r.file} (${r.output}, ${r.input} inputs): ${r.sets.map((s) => `${s.id} ${s.count}`).join(', ')}`,
              `${r.answered} answered now, ${r.resumed} from an earlier run; ${r.requests} requests, ${r.retries} retries`,
              'next: ownership-audit verify --victim V --data D --calibration C --responses ' + r.file,
            ].join('\n'),
          );
        } catch (e) {
          fail(mode, e);
        }
      },
    );
}
