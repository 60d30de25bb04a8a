/**
 * Hashes of what jobs hand to each other through the shared location. A worker hashes what
 * its job wrote (the paths in its result) before it reports the job done; the coordinator
 * keeps those hashes with the job and sends them, with the run's inputs, along with every job
 * that reads them; the worker checks each before the job starts, and refuses a job whose
 * inputs changed, went missing, or were half-copied by the network filesystem
 * (ARTIFACT_MISMATCH). Folders use the artifact store's tree hash; files their sha256.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { treeHash } from '../../engine/artifacts/store';
import { AuditError } from '../../engine/errors';
import type { ArtifactRef } from './protocol';

/** Tree hash of a folder, sha256 of a file; undefined when the path does not exist. */
export function hashPath(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return statSync(path).isDirectory() ? treeHash(path) : createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** References for the given relative paths under `root` that exist (those that do not are skipped). */
export function artifactRefs(root: string, relPaths: string[]): ArtifactRef[] {
  const out: ArtifactRef[] = [];
  for (const path of relPaths) {
    const sha256 = hashPath(join(root, path));
    if (sha256) out.push({ path, sha256 });
  }
  return out;
}

/**
 * Drops references contained in another reference's folder (a model folder and its
 * model.json): the folder's tree hash already covers them.
 */
export function outermostRefs(refs: ArtifactRef[]): ArtifactRef[] {
  const sorted = [...refs].sort((a, b) => a.path.localeCompare(b.path));
  return sorted.filter((r) => !sorted.some((o) => o !== r && r.path.startsWith(`${o.path}/`)));
}

/** ARTIFACT_MISMATCH for the first reference whose file or folder under `root` is missing or differs. */
export function verifyArtifactRefs(root: string, refs: ArtifactRef[]): void {
  for (const ref of refs) {
    const actual = hashPath(join(root, ref.path));
    if (actual === ref.sha256) continue;
    throw new AuditError(
      'ARTIFACT_MISMATCH',
      actual === undefined
        ? `${ref.path} is missing from the shared location`
        : `${ref.path} in the shared location does not match the hash recorded when it was written (${actual.slice(0, 12)} instead of ${ref.sha256.slice(0, 12)})`,
      {
        path: join(root, ref.path),
        hint: 'Check that this worker mounts the same shared location as the coordinator (--shared) and that nothing else writes there; the job is retried elsewhere.',
      },
    );
  }
}
