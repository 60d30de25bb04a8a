/**
 * The one `verify --json` schema (schemaVersion 2; docs/verify-json.md), shared by `verify`,
 * `evidence check` (which adds its checks under `evidence`) and the score jobs of a run.
 * Consumers validate against it; a test holds the CLI's output to it.
 */
import { z } from 'zod';
import type { VerifyResult } from './verify';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const MetricScoreSchema = z.object({
  id: z.string(),
  kind: z.enum(['distance', 'similarity']),
  value: z.number().nullable(),
  applicable: z.boolean(),
  reason: z.string().optional(),
  votes: z.boolean(),
  combined: z.boolean().optional(),
  tau: z.number().optional(),
  degenerate: z.boolean().optional(),
  flagged: z.boolean().optional(),
  normalized: z.number().optional(),
});

export const VerifyJsonSchema = z.object({
  schemaVersion: z.literal(2),
  createdAt: z.string(),
  tool: z.object({ name: z.string(), version: z.string() }),
  backend: z.string(),
  victim: z.object({ path: z.string(), contentHash: z.string(), lineage: z.string() }),
  suspect: z.object({
    kind: z.enum(['model', 'responses']),
    path: z.string(),
    lineage: z.string().nullable(),
    contentHash: z.string().nullable(),
    responses: z.object({ sha256: hex64, output: z.string() }).optional(),
  }),
  data: z.object({ path: z.string(), testCount: z.number().int(), testSha256: hex64 }),
  metrics: z.array(MetricScoreSchema),
  verdict: z
    .object({
      derived: z.boolean(),
      votes: z.number().int(),
      of: z.number().int(),
      rule: z.enum(['majority', 'any', 'all']),
      insufficientEvidence: z.boolean(),
    })
    .optional(),
  defenses: z
    .array(
      z.object({
        id: z.string(),
        status: z.enum(['recognised', 'not-recognised', 'tie', 'not-applicable']),
        votes: z.number().int(),
        of: z.number().int(),
        falseClaims: z.object({
          accused: z.number().int(),
          of: z.number().int(),
          notJudged: z.number().int(),
          rate: z.number().nullable(),
        }),
      }),
    )
    .optional(),
  calibration: z.string().optional(),
  calibrationIntegrity: z
    .object({
      formatVersion: z.union([z.literal(1), z.literal(2)]),
      contentHash: z.string().nullable(),
      signature: z.enum(['signed', 'unsigned', 'unchecked']),
      signedBy: z.string().nullable(),
      summary: z.string(),
    })
    .optional(),
  fingerprints: z.array(z.object({ defense: z.string(), sha256: hex64 })),
  evidence: z.object({ dir: z.string(), rootHash: hex64, files: z.number().int() }).passthrough().optional(),
});
export type VerifyJson = z.infer<typeof VerifyJsonSchema>;

/** Compile-time: every VerifyResult is a valid VerifyJson (a field added to one must be added to the other). */
export const verifyResultFitsSchema = (r: VerifyResult): VerifyJson => r;
