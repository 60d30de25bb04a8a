#!/usr/bin/env node
// The paper's headline experiments on full Fashion-MNIST (issue 6), as one audit run:
//   node bench/experiments/run.mjs [--workers 2] [--home bench/experiments/.home] [--collect-only]
// Runs (or resumes: the job runner keeps finished jobs) bench/experiments/paper-fmnist.json,
// then writes bench/experiments/results/: table1.json (the `run --json` shape, every row),
// checks.json (the issue's "done when" checks and the efficiency figures),
// report.pdf with its pages as PNG and its figures as SVG (figures/), and README.md (the tables, the checks of the
// issue's "done when", the efficiency comparison). Safe to stop at any time and rerun:
// partial results are written too, with the run's status.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const here = resolve('bench/experiments');
const { values } = parseArgs({ options: { workers: { type: 'string', default: '2' }, home: { type: 'string', default: join(here, '.home') }, 'collect-only': { type: 'boolean', default: false } } });
const spec = join(here, 'paper-fmnist.json');
const out = join(here, 'results');
const env = { ...process.env, OWNERSHIP_AUDIT_HOME: values.home };
// The bundled CLI; another build can stand in (e.g. to collect while a run uses dist/).
const CLI = process.env.OWNERSHIP_AUDIT_CLI ?? 'dist/cli.cjs';
const cli = (args) => {
  const r = spawnSync(process.execPath, [CLI, ...args, '--json'], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const last = r.stdout.trim().split('\n').pop() ?? '{}';
  const json = JSON.parse(last);
  if (json.error) throw new Error(`${args.slice(0, 2).join(' ')}: ${json.error.message}`);
  return json;
};

if (!existsSync('../shared/datasets/fashion-mnist')) {
  console.error('needs ../shared/datasets/fashion-mnist (the full Fashion-MNIST IDX files)');
  process.exit(2);
}
if (!values['collect-only']) {
  await new Promise((done) => {
    const child = spawn(process.execPath, [CLI, 'run', spec, '--workers', values.workers], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    process.on('SIGINT', () => child.kill('SIGINT'));
    child.on('exit', done);
  });
}

const run = cli(['runs', 'list']).runs.find((r) => r.name === 'paper-fmnist');
if (!run) throw new Error('no paper-fmnist run in the history yet');
const shown = cli(['runs', 'show', run.id]);
const full = cli(['report', run.id, '--format', 'json', '--out', join(values.home, 'run.json')]) && JSON.parse((await import('node:fs')).readFileSync(join(values.home, 'run.json'), 'utf8'));
mkdirSync(out, { recursive: true });
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), backend: full.run.backend };
writeFileSync(join(out, 'table1.json'), `${JSON.stringify({ runId: shown.runId, status: shown.status, wallSeconds: shown.wallSeconds, machine, measuredAt: new Date().toISOString(), rows: shown.rows }, null, 2)}\n`);

// Figures: the run's PDF report, page by page.
let pages = [];
let figureIndex = { figures: [], skipped: [] };
try {
  rmSync(join(out, 'figures'), { recursive: true, force: true });
  cli(['report', run.id, '--out', join(out, 'report.pdf'), '--figures', join(out, 'figures')]);
  figureIndex = JSON.parse((await import('node:fs')).readFileSync(join(out, 'figures', 'figures.json'), 'utf8'));
  for (const f of readdirSync(out).filter((f) => /^page-\d+\.png$/.test(f))) rmSync(join(out, f));
  spawnSync('pdftoppm', ['-r', '70', '-png', join(out, 'report.pdf'), join(out, 'page')]);
  pages = readdirSync(out).filter((f) => /^page-\d+\.png$/.test(f)).sort();
} catch (e) {
  console.error(`report not rendered: ${e.message}`);
}

// The issue's checks, from the stored figures.
const rows = shown.rows;
const pct = (x) => (x === null || x === undefined ? '-' : (100 * x).toFixed(2));
const byLabel = (prefix) => rows.filter((r) => r.label === prefix || r.label.startsWith(`${prefix}(`));
const checks = [];
for (const label of ['FT(0.5)', 'FT(0.8)', 'WP(0.5)', 'WP(0.8)', 'Distill']) {
  for (const r of byLabel(label)) checks.push({ check: `${label}: derived for every suspect (k = N)`, ok: r.ownership.total > 0 && r.ownership.derived === r.ownership.total, figure: r.ownership.label });
}
for (const r of rows.filter((x) => x.label === 'RemovalNet')) {
  checks.push({ check: `RemovalNet ${r.scenario}: derived for at most 20% of suspects`, ok: r.ownership.total > 0 && r.ownership.derived <= 0.2 * r.ownership.total, figure: r.ownership.label });
  checks.push({ check: `RemovalNet ${r.scenario}: mean fidelity drop at most 3 points`, ok: r.fidelity !== null && r.fidelity.drop <= 0.03, figure: r.fidelity ? `${pct(r.fidelity.drop)} points` : '-' });
}
for (const r of byLabel('Negative')) checks.push({ check: 'Negative: derived for none', ok: r.ownership.total > 0 && r.ownership.derived === 0, figure: r.ownership.label });

// Efficiency (paper Fig. 7): KnockoffNets' passes to reach RemovalNet's final fidelity.
const attacks = full.attacks ?? [];
const rn = attacks.filter((a) => a.label === 'RemovalNet' && a.scenario === 'ltd10' && a.result);
const ko = attacks.find((a) => a.attack === 'knockoff' && a.result);
let efficiency = null;
if (rn.length && ko) {
  const rnFid = rn.reduce((s, a) => s + a.result.fidelity.accuracy, 0) / rn.length;
  const rnPasses = rn.reduce((s, a) => s + a.result.compute.passes, 0) / rn.length;
  const rnSeconds = rn.reduce((s, a) => s + a.result.compute.seconds, 0) / rn.length;
  // A curve point's cost is prorated by iteration: every KnockoffNets iteration costs the same.
  const perIter = ko.result.compute.passes / ko.result.compute.iterations;
  const secondsPerIter = ko.result.compute.seconds / ko.result.compute.iterations;
  const reach = (ko.result.curve ?? []).find((p) => p.fidelity >= rnFid);
  efficiency = {
    removalnetSurrogates: rn.length,
    removalnetFidelity: rnFid,
    removalnetPasses: rnPasses,
    removalnetSeconds: rnSeconds,
    knockoffIterations: ko.result.compute.iterations,
    knockoffIterationsToReach: reach?.iteration ?? null,
    knockoffPassesToReach: reach ? reach.iteration * perIter : null,
    knockoffSecondsToReach: reach ? reach.iteration * secondsPerIter : null,
    knockoffFinalFidelity: ko.result.fidelity.accuracy,
    knockoffBestFidelity: Math.max(...(ko.result.curve ?? []).map((p) => p.fidelity)),
    removalnetIterations: rn.reduce((s, a) => s + a.result.compute.iterations, 0) / rn.length,
    // The paper's unit (Fig. 7: iterations at the same batch size).
    iterationRatio: reach ? reach.iteration / (rn.reduce((s, a) => s + a.result.compute.iterations, 0) / rn.length) : null,
    ratio: reach ? (reach.iteration * perIter) / rnPasses : null,
    wallRatio: reach ? (reach.iteration * secondsPerIter) / rnSeconds : null,
  };
  checks.push({ check: 'Efficiency: KnockoffNets needs at least 2x RemovalNet\'s passes to reach its fidelity', ok: efficiency.ratio === null ? efficiency.knockoffFinalFidelity < rnFid : efficiency.ratio >= 2, figure: efficiency.ratio === null ? `never reached in ${ko.result.compute.iterations} iterations (final ${pct(efficiency.knockoffFinalFidelity)}%)` : `${efficiency.ratio.toFixed(2)}x` });
}

writeFileSync(join(out, 'checks.json'), `${JSON.stringify({ runId: shown.runId, status: shown.status, checks: checks.map((c) => ({ ...c, state: c.figure === '-' ? 'pending' : c.ok ? 'met' : 'not met' })), efficiency }, null, 2)}\n`);

const metricIds = shown.rows.flatMap((r) => Object.keys(r.metrics)).filter((v, i, a) => a.indexOf(v) === i);
const tau = (id) => rows.map((r) => r.metrics[id]?.tau).find((t) => t !== undefined && t !== null);
const table = (subset) => [
  `| row | scenario | n | acc % | drop | ${metricIds.join(' | ')} | ownership |`,
  `|---|---|---|---|---|${metricIds.map(() => '---').join('|')}|---|`,
  `| tau | | | | | ${metricIds.map((id) => (tau(id) ?? NaN).toPrecision(3)).join(' | ')} | |`,
  ...subset.map((r) => `| ${r.label} | ${r.scenario} | ${r.suspects} | ${pct(r.fidelity?.accuracy)} | ${pct(r.fidelity?.drop)} | ${metricIds.map((id) => (r.metrics[id] ? `${r.metrics[id].mean.toPrecision(3)} ± ${r.metrics[id].std.toPrecision(2)}` : '-')).join(' | ')} | ${r.ownership.label} |`),
];
const main = rows.filter((r) => !/^RemovalNet-(size|alpha|beta)/.test(r.label));
const md = [
  '# Paper reproduction on Fashion-MNIST',
  '',
  `Run \`${shown.runId}\`: status **${shown.status}**, ${shown.jobs.filter((j) => j.status === 'done').length} of ${shown.jobs.length} jobs done, ${(shown.wallSeconds / 3600).toFixed(2)} h of wall time in finished sessions on ${machine.cores} cores (${machine.cpu}, ${machine.backend}). Spec: [paper-fmnist.json](../paper-fmnist.json); rerun or resume with \`node bench/experiments/run.mjs\`.`,
  '',
  '## Table 1',
  '',
  (() => {
    const r = rows.find((x) => x.fidelity);
    return r ? `Victim: ${pct(r.fidelity.accuracy + r.fidelity.drop)}% on the first 2,000 test images (class-balanced), trained on half 0/2 of the training split. Means ± sample std over each row's suspects; "Yes/No (k/N)": k of N suspects judged derived by the majority of the six metrics.` : 'No suspect scored yet.';
  })(),
  '',
  ...table(main),
  '',
  '## Checks (issue 6, "done when")',
  '',
  ...checks.map((c) => `- ${c.figure === '-' ? 'pending (no finished suspect yet)' : c.ok ? 'met' : 'NOT met'}: ${c.check} (${c.figure})`),
  '',
  '## Substitute size (paper Fig. 6) and ablation (paper Fig. 8)',
  '',
  ...table(rows.filter((r) => /^RemovalNet/.test(r.label))),
  '',
  '## Efficiency (paper Fig. 7)',
  '',
  ...(efficiency
    ? [
        `RemovalNet (S_LTD 10%, ${efficiency.removalnetSurrogates} surrogates): mean final accuracy ${pct(efficiency.removalnetFidelity)}%, at ${Math.round(efficiency.removalnetPasses).toLocaleString('en')} forward+backward passes per surrogate and ${efficiency.removalnetSeconds.toFixed(0)} s of wall time.`,
        '',
        '| | iterations | passes | wall time | ratio to RemovalNet (iterations / passes / wall) |',
        '|---|---|---|---|---|',
        `| RemovalNet, mean per surrogate | ${efficiency.removalnetIterations} | ${Math.round(efficiency.removalnetPasses).toLocaleString('en')} | ${efficiency.removalnetSeconds.toFixed(0)} s | 1 / 1 / 1 |`,
        efficiency.knockoffIterationsToReach === null
          ? `| KnockoffNets to reach it | not reached in ${efficiency.knockoffIterations} (best ${pct(efficiency.knockoffBestFidelity)}%, final ${pct(efficiency.knockoffFinalFidelity)}%) | | | |`
          : `| KnockoffNets to reach it | ${efficiency.knockoffIterationsToReach} | ${Math.round(efficiency.knockoffPassesToReach).toLocaleString('en')} | ${efficiency.knockoffSecondsToReach.toFixed(0)} s | ${efficiency.iterationRatio.toFixed(2)}x / ${efficiency.ratio.toFixed(2)}x / ${efficiency.wallRatio.toFixed(2)}x |`,
        '',
        "Wall times are each job's own seconds while two jobs shared the two cores, learning-curve evaluation included; KnockoffNets' cost to a curve point is prorated by iteration. Its curve is in the report's efficiency figure.",
        '',
        '```json',
        JSON.stringify(efficiency, null, 2),
        '```',
      ]
    : ['KnockoffNets or RemovalNet (S_LTD) has not finished yet.']),
  '',
  '## Figures',
  '',
  'From the run report ([report.pdf](report.pdf)), written with `report --figures`; the numbers are the report\'s.',
  '',
  ...figureIndex.figures.flatMap((f) => [
    ...f.files.map((file) => (file.endsWith('.svg') ? `![${f.id}](figures/${file})` : `[${f.id} (HTML)](figures/${file})`)),
    '',
    `**Figure ${f.number}. ${f.title}** ${f.caption}`,
    '',
  ]),
  ...(figureIndex.skipped.length ? ['Not drawn:', '', ...figureIndex.skipped.map((x) => `- ${x.title}: ${x.reason}`), ''] : []),
  `Report pages as images: ${pages.map((p) => `[${p.replace(/^page-0?|\.png$/g, '')}](${p})`).join(', ')}.`,
  '',
].join('\n');
writeFileSync(join(out, 'README.md'), md);
console.log(`wrote ${out}/README.md, table1.json${pages.length ? `, report.pdf (${pages.length} pages)` : ''}; status ${shown.status}`);
