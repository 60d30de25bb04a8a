/**
 * `<out>.partial`: the answers `queries send` has received so far, one JSON line each after a
 * header naming the export and the declared answers, so a killed run resumes where it was
 * and a rerun with other queries or another output is refused.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { checkAnswer, invalidArgument, type Answer, type ApiInput, type ApiOutput } from './api-template';
import type { QueriesManifest } from './queries-export';

export const PARTIAL_KIND = 'ownership-audit-responses-partial';

/** What a partial file belongs to: the export's sets and the declared answers. */
export function partialHeader(manifest: QueriesManifest, output: ApiOutput, input: ApiInput, url: string) {
  const queries = createHash('sha256')
    .update(manifest.sets.map((s) => `${s.id}:${s.inputsSha256}`).join(','))
    .digest('hex');
  return { kind: PARTIAL_KIND, queries, output, input, url };
}

/** Answers recorded by an earlier run, keyed `set:index`; a torn last line (a killed run) is dropped. */
export function readPartial(
  file: string,
  header: ReturnType<typeof partialHeader>,
  output: ApiOutput,
): Map<string, Answer> {
  const answers = new Map<string, Answer>();
  if (!existsSync(file)) return answers;
  const lines = readFileSync(file, 'utf8').split('\n');
  const first = lines[0] ? safeParse(lines[0]) : undefined;
  const h = first as Partial<typeof header> | undefined;
  if (!h || h.kind !== PARTIAL_KIND)
    throw invalidArgument(
      'The partial responses file is not one written by `queries send`',
      'Delete it to start again, or pass another --out.',
      file,
    );
  if (h.queries !== header.queries || h.output !== header.output || h.input !== header.input)
    throw invalidArgument(
      `The partial responses file is from another run (${h.queries !== header.queries ? 'other queries' : `output ${h.output}, input ${h.input}`})`,
      'Rerun with the same --queries, --output and --input, or delete the partial file to start again.',
      file,
    );
  for (const line of lines.slice(1)) {
    const rec = safeParse(line) as { set?: unknown; index?: unknown; answer?: unknown } | undefined;
    if (!rec || typeof rec.set !== 'string' || typeof rec.index !== 'number') continue;
    answers.set(`${rec.set}:${rec.index}`, checkAnswer(rec.answer, output, `${file}: ${rec.set}[${rec.index}]`));
  }
  return answers;
}

function safeParse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
