/**
 * What `run` checks before it creates a run or starts a worker: the API's spec check
 * (schema, registries, the model and data folders, a reused calibration, the attack blocks
 * against the victim's layers; see src-main/api/spec-check.ts). Every problem names its
 * field, and all of them are reported at once.
 */
import type { AuditSpec } from '../../src-shared/audit/spec';
import { specProblems } from '../api/spec-check';
import { AuditError } from '../engine/errors';
import type { AuditStore } from '../store/types';

export function preflightSpec(
  spec: AuditSpec,
  ctx: { store: AuditStore; home: string; baseDir: string },
  file?: string,
): void {
  const { problems } = specProblems(spec, ctx);
  if (problems.length)
    throw new AuditError('SPEC_INVALID', `The audit spec is invalid:\n  ${problems.join('\n  ')}`, {
      ...(file ? { path: file } : {}),
      hint: 'Fix the fields named above; nothing was started. `ownership-audit attacks` lists attack parameters.',
    });
}
