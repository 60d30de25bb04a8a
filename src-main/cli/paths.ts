/** Locates the package's own files (resources/, bench/) from wherever the code runs. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

let root: string | undefined;

/** The directory holding this package's package.json (works from src/ and from dist/). */
export function packageRoot(): string {
  if (root) return root;
  let dir = typeof __dirname !== 'undefined' ? __dirname : process.cwd();
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ownership-audit')
      return (root = dir);
    const up = dirname(dir);
    if (up === dir) return (root = resolve('.'));
    dir = up;
  }
}

export const DEMO_DATASET = (): string => join(packageRoot(), 'resources', 'datasets', 'fashion-mnist-demo');
export const DEMO_VICTIM = (): string => join(packageRoot(), 'resources', 'models', 'demo-victim');
