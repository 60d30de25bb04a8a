/**
 * What a calibration document must hold before any of it is trusted (issue 16): finite
 * numbers where numbers decide a verdict (taus, reference values, rule parameters), at least
 * one defence and one voting metric, at least two references and one value per reference,
 * and, per defence, exactly its voting metrics with the kinds the registry gives them.
 * Problems come back as `path: message` lines naming the field (`metrics[1].tau: ...`).
 */
import { z } from 'zod';
import { formatIssues } from '../../../src-shared/audit/spec-issues';
import { DEFENSES } from '../defenses/registry';
import { metricVotes } from '../defenses/types';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
/** Informational numbers (not used by a verdict): a NaN accuracy is written by JSON as null. */
const info = finite
  .nullish()
  .transform((v) => v ?? undefined)
  .optional();
const text = z.string().min(1);

const RuleSchema = z.object({
  name: z.enum(['paper', 'normal', 'confidence', 'quantile', 'reference-ratio']),
  parameter: finite.optional(),
});

const MetricSchema = z.object({
  id: text,
  kind: z.enum(['distance', 'similarity']),
  values: z.array(finite),
  tau: finite,
  rule: RuleSchema,
  degenerate: z.boolean(),
});

const DefenseSchema = z.object({
  id: text,
  params: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])),
  fingerprintsFile: text,
  fingerprintsHash: text,
});

const ReferenceSchema = z.object({
  path: text,
  contentHash: text,
  lineage: z.string(),
  seed: z.number().int(),
  learningRate: info,
  iterations: info,
  testAccuracy: info,
});

const SignatureSchema = z.object({
  algorithm: z.literal('ed25519'),
  publicKeyFingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  value: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
});

export const CalibrationSchema = z
  .object({
    formatVersion: z.union([z.literal(1), z.literal(2)]),
    createdAt: z.string(),
    backend: z.string(),
    victim: z.object({ path: text, contentHash: text, lineage: z.string() }),
    data: z.object({ path: text }),
    defenses: z.array(DefenseSchema).min(1),
    references: z.array(ReferenceSchema).min(2),
    metrics: z.array(MetricSchema).min(1),
    contentHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')
      .optional(),
    signature: SignatureSchema.optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (path: PropertyKey[], message: string): void => void ctx.addIssue({ code: 'custom', path, message });
    const expected = new Map<string, { kind: string; defense: string }>();
    c.defenses.forEach((d, i) => {
      const defense = DEFENSES.find((x) => x.id === d.id);
      if (!defense) return issue(['defenses', i, 'id'], `unknown defence "${d.id}"`);
      if (c.defenses.findIndex((x) => x.id === d.id) !== i)
        return issue(['defenses', i, 'id'], `${d.id} is listed twice`);
      for (const m of defense.metrics.filter(metricVotes)) expected.set(m.id, { kind: m.kind, defense: d.id });
    });
    const seen = new Set<string>();
    c.metrics.forEach((m, i) => {
      const want = expected.get(m.id);
      if (!want) return issue(['metrics', i, 'id'], `${m.id} is not a voting metric of the listed defences`);
      if (seen.has(m.id)) return issue(['metrics', i, 'id'], `${m.id} is listed twice`);
      seen.add(m.id);
      if (m.kind !== want.kind) issue(['metrics', i, 'kind'], `${m.id} is a ${want.kind}, not a ${m.kind}`);
      if (m.values.length !== c.references.length)
        issue(
          ['metrics', i, 'values'],
          `must hold one value per reference (${c.references.length}), has ${m.values.length}`,
        );
    });
    for (const [id, want] of expected)
      if (!seen.has(id)) issue(['metrics'], `has no entry for ${id} (a voting metric of ${want.defense})`);
    if (c.formatVersion === 2 && c.contentHash === undefined) issue(['contentHash'], 'is required in formatVersion 2');
    if (c.formatVersion === 1 && c.signature !== undefined) issue(['signature'], 'needs formatVersion 2');
  });

/** The problems of a parsed document, one `path: message` line each; empty when it is valid. */
export function calibrationProblems(error: z.ZodError): string[] {
  return formatIssues(error.issues);
}
