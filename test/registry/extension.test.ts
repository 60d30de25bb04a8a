/**
 * The README's recipe, carried out: adding an attack or a defence is one new file plus one
 * entry in its registry (and the entry's import). A copy of the sources gets a throwaway
 * attack and defence (test/registry/extension/*.ts.txt) through the real registries, no
 * test hook, then its CLI is bundled as `npm install` bundles it and an audit runs with
 * both: the shared schema and the main side's checks accept the spec, the planner plans
 * it, the jobs run, the results table and the report JSON name them, and the workbench's
 * catalog (buildCatalog, what the wizard lists) offers them with their help, names and labels.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseAuditSpec, type AuditSpecInput } from '../../src-shared/audit/spec';
import type { Catalog } from '../../src-shared/contract/api';
import { STEP_CEILING_MS } from '../helpers/ceilings';

const REPO = resolve('.');
const FIXTURES = join(REPO, 'test', 'registry', 'extension');
let tree: string;
let home: string;

/** Adds `import { name } from './file';` and `name` as the last entry of the registry's list. */
function addRegistryEntry(registry: string, list: string, name: string, file: string): void {
  const source = readFileSync(registry, 'utf8');
  const open = source.indexOf(`export const ${list}`);
  const close = source.indexOf('];', open);
  expect(open, `${list} in ${registry}`).toBeGreaterThan(-1);
  const entry = `${source.slice(0, close).trimEnd().replace(/,$/, '')}, ${name}`;
  writeFileSync(registry, `import { ${name} } from './${file}';\n${entry}${source.slice(close)}`);
}

async function bundle(entry: string, outfile: string): Promise<void> {
  // The options of scripts/build-cli.mjs.
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
}

function cli(args: string[]): { status: number | null; json: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, [join(tree, 'dist', 'cli.cjs'), '--backend', 'wasm', ...args, '--json'], {
    env: { ...process.env, OWNERSHIP_AUDIT_HOME: home },
    encoding: 'utf8',
    timeout: STEP_CEILING_MS,
  });
  const last = r.stdout.trim().split('\n').pop() || '{}';
  return { status: r.status, json: JSON.parse(last) as Record<string, unknown>, stderr: r.stderr };
}

beforeAll(async () => {
  tree = mkdtempSync(join(tmpdir(), 'oa-extension-'));
  home = join(tree, 'home');
  for (const dir of ['src-main', 'src-shared']) cpSync(join(REPO, dir), join(tree, dir), { recursive: true });
  for (const link of ['node_modules', 'resources', 'package.json']) symlinkSync(join(REPO, link), join(tree, link));
  const attacks = join(tree, 'src-main', 'engine', 'attacks');
  const defenses = join(tree, 'src-main', 'engine', 'defenses');
  cpSync(join(FIXTURES, 'relabel.ts.txt'), join(attacks, 'relabel.ts'));
  cpSync(join(FIXTURES, 'agreement.ts.txt'), join(defenses, 'agreement.ts'));
  addRegistryEntry(join(attacks, 'registry.ts'), 'ATTACKS', 'relabel', 'relabel');
  addRegistryEntry(join(defenses, 'registry.ts'), 'DEFENSES', 'agreementDefense', 'agreement');
  writeFileSync(
    join(tree, 'print-catalog.ts'),
    "import { buildCatalog } from './src-main/api/catalog';\nprocess.stdout.write(JSON.stringify(buildCatalog()));\n",
  );
  await bundle(join(tree, 'src-main', 'cli', 'main.ts'), join(tree, 'dist', 'cli.cjs'));
  await bundle(join(tree, 'print-catalog.ts'), join(tree, 'dist', 'print-catalog.cjs'));
});

afterAll(() => {
  if (tree) rmSync(tree, { recursive: true, force: true });
});

it('a new attack and defence, one file and one registry entry each, run through the whole product', () => {
  const catalogRun = spawnSync(process.execPath, [join(tree, 'dist', 'print-catalog.cjs')], { encoding: 'utf8' });
  expect(catalogRun.status, catalogRun.stderr).toBe(0);
  const catalog = JSON.parse(catalogRun.stdout) as Catalog;
  expect(catalog.attacks.find((a) => a.id === 'relabel')).toMatchObject({
    name: 'Relabel',
    role: 'modification',
    help: "Fine-tunes a copy on the victim's labels.",
    defaultSeeds: [3],
  });
  expect(catalog.defenses.find((d) => d.id === 'agreement')).toMatchObject({
    name: 'Agreement',
    metrics: [{ id: 'agreement.rate', kind: 'similarity', label: 'Agreement rate', shortLabel: 'AGR', votes: true }],
  });

  const input: AuditSpecInput = {
    version: 1,
    name: 'extension',
    victim: { model: join(REPO, 'resources', 'models', 'demo-victim') },
    data: { train: join(REPO, 'resources', 'datasets', 'fashion-mnist-demo'), maxTest: 100 },
    scenarios: [{ id: 'ltd2', kind: 'ltd', fraction: 0.02 }],
    defenses: [{ id: 'agreement', params: { samples: 40 } }],
    calibration: { references: 2, referenceIterations: 10 },
    attacks: [{ name: 'relabel', seeds: [3], iterations: 5 }],
  };
  const parsed = parseAuditSpec(input);
  expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
  const file = join(tree, 'extension.json');
  writeFileSync(file, JSON.stringify(input));

  const run = cli(['run', file, '--workers', '2']);
  expect(run.status, run.stderr.slice(-3000)).toBe(0);
  const rows = run.json.rows as { attack: string; ownership: { verdict: string }; metrics: Record<string, unknown> }[];
  expect(rows.map((r) => r.attack)).toEqual(['relabel']);
  expect(Object.keys(rows[0].metrics)).toEqual(['agreement.rate']);
  expect(rows[0].ownership.verdict).toBe('derived');

  const out = join(tree, 'report.json');
  const report = cli(['report', run.json.runId as string, '--format', 'json', '--out', out]);
  expect(report.status, report.stderr.slice(-3000)).toBe(0);
  const doc = JSON.parse(readFileSync(out, 'utf8')) as { findings: { name: string; text: string }[] };
  expect(doc.findings.map((f) => f.name)).toEqual(['Agreement']);
  expect(doc.findings[0].text).toContain('Relabel surrogate');
});

it('an id the registries do not know is refused by the main side, naming the known ones', () => {
  const file = join(tree, 'unknown.json');
  const spec = JSON.parse(readFileSync(join(tree, 'extension.json'), 'utf8')) as AuditSpecInput;
  writeFileSync(file, JSON.stringify({ ...spec, attacks: [{ name: 'nosuch', seeds: [1], iterations: 5 }] }));
  const r = cli(['run', file]);
  expect(r.status).toBe(2);
  const error = r.json.error as { code: string; message: string };
  expect(error.code).toBe('SPEC_INVALID');
  expect(error.message).toMatch(/attacks\[0\]\.name: unknown attack "nosuch" \(known: .*relabel/);
});
