/**
 * A distributed run's inputs (the victim model and the data sets the spec names) are
 * published once, when the run is planned, into the shared location's content-addressed
 * artifact store, so that every worker reads the same bytes under the same hash wherever the
 * coordinator found them. An input already in the shared location stays where it is.
 */
import { mkdtempSync, existsSync, rmSync, statSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { ArtifactStore, recipeKey, treeHash } from '../../engine/artifacts/store';
import { hashPath } from './artifact-refs';
import type { ArtifactRef } from './protocol';
import { pathsUnder } from './shared-paths';

export interface InputPublisher {
  /** The path the run uses for an absolute input path (its copy in the shared store). */
  map(path: string): string;
  /** The published inputs with their hashes, relative to the shared root. */
  refs(): ArtifactRef[];
}

export function inputPublisher(sharedRoot: string): InputPublisher {
  const root = resolve(sharedRoot);
  const store = new ArtifactStore(join(root, 'artifacts'));
  const refs = new Map<string, ArtifactRef>();
  const remember = (path: string) => {
    const rel = relative(root, path).split('\\').join('/');
    const sha256 = hashPath(path);
    if (sha256) refs.set(rel, { path: rel, sha256 });
  };
  const publishFolder = (dir: string): string => {
    const key = recipeKey({ kind: 'run-input', tree: treeHash(dir) });
    const found = store.lookup(key) ?? (store.put(key, dir, 'run-input', { from: basename(dir) }), store.lookup(key));
    return found ? found.dir : dir;
  };
  return {
    map: (path) => {
      const abs = resolve(path);
      // Missing inputs keep their path: the job that needs them reports MODEL/DATASET_NOT_FOUND.
      if (!existsSync(abs)) return abs;
      if (pathsUnder(abs, root).length > 0) {
        remember(abs);
        return abs;
      }
      let mapped: string;
      if (statSync(abs).isDirectory()) mapped = publishFolder(abs);
      else {
        // A single file travels as a one-file folder and keeps its name.
        const staging = mkdtempSync(join(tmpdir(), 'oa-input-'));
        try {
          cpSync(abs, join(staging, basename(abs)));
          mapped = join(publishFolder(staging), basename(abs));
        } finally {
          rmSync(staging, { recursive: true, force: true });
        }
      }
      remember(statSync(mapped).isDirectory() ? mapped : resolve(mapped, '..'));
      return mapped;
    },
    refs: () => [...refs.values()].sort((a, b) => a.path.localeCompare(b.path)),
  };
}
