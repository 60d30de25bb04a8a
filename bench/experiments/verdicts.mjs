#!/usr/bin/env node
// Defensible verdicts on full Fashion-MNIST (issue 18), as one audit run:
//   node bench/experiments/verdicts.mjs [--workers 2] [--home bench/experiments/.home] [--collect-only]
// Runs (or resumes) bench/experiments/verdicts-fmnist.json: the paper-fmnist victim, 20
// reference models, 10 Negative models, RemovalNet over a frontier grid of its latent weight
// beta (3 values x 3 seeds, checkpoints every 100 iterations scored with every metric), and
// the opt-in mistakes baseline. Then writes bench/experiments/results/verdicts/:
//   roc.json           per attack row, each metric's and each defence's ROC against the
//                      independent models (references + Negative models): AUC with its
//                      Hanley-McNeil 95% interval, TPR at FPR 0 and 10%, n_pos, n_neg, curve
//   frontier.json      per defence: recognition rate against fidelity drop over the grid, with seeds
//   false-claims.json  per defence and metric: independent models accused (references by
//                      leave-one-out, Negative models at tau)
//   table.json         the run --json rows (per-defence recognition included)
//   report.pdf, page-01.png (the report's first page: the frontier), SUMMARY.md
// Safe to stop and rerun: the job runner keeps finished jobs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const here = resolve('bench/experiments');
const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    home: { type: 'string', default: join(here, '.home') },
    spec: { type: 'string', default: join(here, 'verdicts-fmnist.json') },
    out: { type: 'string', default: join(here, 'results', 'verdicts') },
    'collect-only': { type: 'boolean', default: false },
  },
});
const spec = resolve(values.spec);
const name = JSON.parse(readFileSync(spec, 'utf8')).name;
const out = resolve(values.out);
const env = { ...process.env, OWNERSHIP_AUDIT_HOME: values.home };
const CLI = process.env.OWNERSHIP_AUDIT_CLI ?? 'dist/cli.cjs';
const cli = (args) => {
  const r = spawnSync(process.execPath, [CLI, ...args, '--json'], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const json = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  if (json.error) throw new Error(`${args.slice(0, 2).join(' ')}: ${json.error.message}`);
  return json;
};

if (!values['collect-only']) {
  await new Promise((done) => {
    const child = spawn(process.execPath, [CLI, 'run', spec, '--workers', values.workers], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    process.on('SIGINT', () => child.kill('SIGINT'));
    child.on('exit', done);
  });
}

const run = cli(['runs', 'list']).runs.find((r) => r.name === name);
if (!run) throw new Error(`no ${name} run in the history yet`);
const shown = cli(['runs', 'show', run.id]);
const reportFile = join(values.home, `${name}-report.json`);
cli(['report', run.id, '--format', 'json', '--out', reportFile]);
const report = JSON.parse(readFileSync(reportFile, 'utf8'));
mkdirSync(out, { recursive: true });
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), backend: report.run.backend };
const header = { runId: run.id, status: shown.status, wallSeconds: shown.wallSeconds, machine, measuredAt: new Date().toISOString(), spec: 'bench/experiments/verdicts-fmnist.json' };
const write = (file, body) => writeFileSync(join(out, file), `${JSON.stringify({ ...header, ...body }, null, 2)}\n`);

const sep = report.separability;
const roc = (r) => (r ? { auc: r.auc, ci95: r.ci, tprAtFpr0: r.tprAtFpr0, tprAtFpr10: r.tprAtFpr10, nPos: r.nPos, nNeg: r.nNeg, curve: r.points.map((p) => [p.fpr, p.tpr]) } : null);
write('roc.json', {
  negatives: sep.negatives,
  method: 'Mann-Whitney AUC (ties 1/2) with the Hanley-McNeil 95% interval; TPR at FPR 10% only with >= 30 negatives; per defence, the margin past tau at its strict-majority rank (src-main/engine/verdict/separability.ts)',
  rows: sep.rows.map((r) => ({
    rowId: r.rowId,
    label: r.label,
    scenario: r.scenario,
    metrics: r.metrics.map((m) => ({ id: m.id, ...roc(m.roc) })),
    defenses: r.defenses.map((d) => ({ id: d.id, metrics: d.metrics, ...roc(d.roc) })),
  })),
});
write('false-claims.json', { falseClaims: sep.falseClaims });
write('frontier.json', { frontier: report.frontier ?? null });
write('table.json', { rows: shown.rows, falseClaims: shown.falseClaims ?? null });

// The report, and its first page (the frontier and the per-defence sentences).
cli(['report', run.id, '--out', join(out, 'report.pdf')]);
spawnSync('pdftoppm', ['-r', '70', '-png', '-f', '1', '-l', '1', '-singlefile', join(out, 'report.pdf'), join(out, 'page-01')]);

// A summary to read next to the JSON.
const pct = (x) => (x === null || x === undefined ? '-' : (100 * x).toFixed(1));
const two = (x) => (x === null || x === undefined ? '-' : x.toFixed(2));
const aucCell = (r) => (r && r.auc !== null ? `${two(r.auc)} [${two(r.ci?.[0])}, ${two(r.ci?.[1])}]` : '-');
const tpr = (t) => (t && t.tpr !== null && t.tpr !== undefined ? two(t.tpr) : 'n/a');
const lines = [
  `# ${name}: separability, false claims and the evasion frontier`,
  '',
  `Run \`${run.id}\`: ${shown.status}, ${shown.jobs.filter((j) => j.status === 'done').length} of ${shown.jobs.length} jobs, ${(shown.wallSeconds / 60).toFixed(1)} min of wall time on ${machine.cores} cores (${machine.cpu}, ${machine.backend}). Negatives: ${sep.negatives.references} references + ${sep.negatives.negativeModels} Negative models.`,
  '',
  '## AUC per defence [95% CI], TPR at FPR 0 / 10%',
  '',
  `| row | n_pos/n_neg | ${sep.rows[0]?.defenses.map((d) => d.id).join(' | ') ?? ''} |`,
  `|---|---|${sep.rows[0]?.defenses.map(() => '---').join('|') ?? ''}|`,
  ...sep.rows.map((r) => `| ${r.label} | ${r.defenses.find((d) => d.roc)?.roc.nPos ?? 0}/${r.defenses.find((d) => d.roc)?.roc.nNeg ?? 0} | ${r.defenses.map((d) => `${aucCell(d.roc)}; ${tpr(d.roc?.tprAtFpr0)} / ${tpr(d.roc?.tprAtFpr10)}`).join(' | ')} |`),
  '',
  '## False claims per defence (accused / judged)',
  '',
  '| defence | references (leave-one-out) | Negative models (at tau) | pooled rate % |',
  '|---|---|---|---|',
  ...sep.falseClaims.defenses.map((d) => (d.counts ? `| ${d.id} | ${d.counts.references.accused}/${d.counts.references.of} | ${d.counts.negativeModels.accused}/${d.counts.negativeModels.of} | ${pct(d.counts.rate)} |` : `| ${d.id} | - | - | - |`)),
  '',
  '## Evasion frontier',
  '',
  ...(report.frontier ? report.frontier.sentences.map((s) => `- ${s.text}`) : ['(no frontier block)']),
  '',
];
writeFileSync(join(out, 'SUMMARY.md'), `${lines.join('\n')}\n`);
console.log(`wrote ${out}`);
if (!existsSync(join(out, 'page-01.png'))) console.log('(no page image: pdftoppm missing)');
