/**
 * The report's separability analysis (issue 18): for every attack row, how well each metric
 * and each defence separate the row's suspects (derived) from the run's independent models
 * (the calibration's reference models and the suspects of Negative rows), and how many
 * independent models each would accuse at the calibrated tau. The arithmetic is in
 * engine/verdict/separability.ts; this module picks its inputs out of the report data,
 * writes the HTML section and draws the RemovalNet ROC figure.
 *
 * `fpr:<p>`-style thresholds are the existing `quantile` rule (calibration/rules.ts): the
 * quantile rule at p is a threshold with an expected reference false-positive rate of p.
 */
import type { EChartsOption } from 'echarts';
import { baseOption, colorAt, legendHeight, wrappingLegend } from '../../src-shared/charts/common';
import type { MetricKind } from '../../src-shared/domain/metrics';
import { attackRole } from '../engine/attacks/registry';
import {
  minNegatives,
  separability,
  type ClaimCount,
  type FalseClaims,
  type MetricThreshold,
  type ModelValues,
  type Roc,
  type Separability,
  type TprAtFpr,
} from '../engine/verdict/separability';
import { defenseName, displayLabel, metricInfo, type ReportData } from './data';

export type { Separability } from '../engine/verdict/separability';

/** Removal rows first (the owner's question), then the other attack rows in table order. */
function rowRank(attack: string): number {
  return attackRole(attack) === 'removal' ? 0 : 1;
}

/** Final values of one suspect by metric id. */
/** What the analysis reads of a run: a ReportData has it, and so does the store alone (run --json). */
export type SeparabilitySource = Pick<ReportData, 'suspects' | 'finalValues' | 'calibration' | 'table'>;

function valuesOf(data: SeparabilitySource, suspectKey: string): ModelValues {
  const out: ModelValues = {};
  for (const v of data.finalValues) if (v.suspectKey === suspectKey) out[v.metricId] = v.value;
  return out;
}

/** The metrics analysed: the calibration's (with reference values and rule), then any other table column. */
function metricThresholds(data: SeparabilitySource): MetricThreshold[] {
  const out: MetricThreshold[] = (data.calibration?.document.metrics ?? []).map((m) => ({
    id: m.id,
    defense: metricInfo(m.id).defense,
    kind: m.kind,
    tau: Number.isFinite(m.tau) ? m.tau : null,
    degenerate: m.degenerate,
    rule: m.rule,
    referenceValues: m.values,
  }));
  for (const col of data.table.metrics) {
    if (out.some((m) => m.id === col.id)) continue;
    const kind: MetricKind | null = col.kind ?? metricInfo(col.id).kind;
    if (!kind) continue;
    out.push({
      id: col.id,
      defense: metricInfo(col.id).defense,
      kind,
      tau: null,
      degenerate: col.degenerate,
      rule: null,
      referenceValues: [],
    });
  }
  return out;
}

/** The analysis of a run: every non-independent row with suspects, RemovalNet rows first. */
export function separabilityData(data: SeparabilitySource): Separability {
  const negatives = data.suspects
    .filter((s) => attackRole(s.attack) === 'independent')
    .map((s) => valuesOf(data, s.key));
  const rows = data.table.rows
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => r.suspects > 0 && attackRole(r.attack) !== 'independent')
    .sort((a, b) => rowRank(a.r.attack) - rowRank(b.r.attack) || a.i - b.i)
    .map(({ r }) => ({
      rowId: r.rowId,
      scenario: r.scenario,
      label: displayLabel(r),
      attack: r.attack,
      positives: data.suspects
        .filter((s) => s.rowId === r.rowId && s.scenario === r.scenario)
        .map((s) => valuesOf(data, s.key)),
    }));
  return separability({ metrics: metricThresholds(data), negatives, rows });
}

// ---------------------------------------------------------------------------------------
// Text.

const two = (x: number): string => x.toFixed(2);

/** 'AUC 0.88 [0.62, 1.00]', or '-' without one. */
export function aucText(r: Roc | null): string {
  if (!r || r.auc === null) return '-';
  return r.ci ? `${two(r.auc)} [${two(r.ci[0])}, ${two(r.ci[1])}]` : two(r.auc);
}

/** '0.50 (1/2)', or 'n/a: needs >= 30 negatives'. */
export function tprText(t: TprAtFpr | undefined, nPos: number): string {
  if (!t) return '-';
  if (t.tpr === null) return `n/a: ${t.reason ?? 'no data'}`;
  return `${two(t.tpr)} (${Math.round(t.tpr * nPos)}/${nPos})`;
}

const count = (c: ClaimCount): string => `${c.accused}/${c.of}`;

/** 'references 1/3 (leave-one-out), Negative models 0/1, pooled 1/4 (25%)'. */
export function falseClaimText(c: FalseClaims | null): string {
  if (!c) return 'no calibrated threshold';
  const refs = `references ${count(c.references)} (leave-one-out${c.references.notJudged ? `; ${c.references.notJudged} not judged: degenerate leave-one-out threshold` : ''})`;
  const rate = c.rate === null ? '' : ` (${Math.round(c.rate * 1000) / 10}%)`;
  return `${refs}, Negative models ${count(c.negativeModels)}, pooled ${count(c.pooled)}${rate}`;
}

/** The sentence shown beside a defence's finding. */
export function defenseFalseClaimSentence(s: Separability, defense: string): string | null {
  const d = s.falseClaims.defenses.find((x) => x.id === defense);
  if (!d) return null;
  return `False claims at tau (independent models it would accuse): ${falseClaimText(d.counts)}.`;
}

// ---------------------------------------------------------------------------------------
// Figure: ROC of the RemovalNet row, one line per defence.

/** The row the ROC figure shows: the first RemovalNet row with a defence ROC. */
export function rocRow(s: Separability): Separability['rows'][number] | null {
  return (
    s.rows.find((r) => attackRole(r.attack) === 'removal' && r.defenses.some((d) => d.roc && d.roc.auc !== null)) ??
    null
  );
}

export function rocOption(row: Separability['rows'][number], width = 335): EChartsOption {
  const lines = row.defenses.filter((d) => d.roc && d.roc.auc !== null);
  const axis = (name: string): Record<string, unknown> => ({
    type: 'value',
    name,
    nameLocation: 'middle',
    nameGap: 28,
    min: 0,
    max: 1,
    interval: 0.2,
    axisLabel: { fontSize: 10 },
  });
  return {
    ...baseOption(
      `ROC per defence: ${row.label}${row.scenario !== '-' ? ` (${row.scenario})` : ''}`,
      'surrogates against independent models',
    ),
    grid: { left: 48, right: 16, top: 56, bottom: 56 + legendHeight(lines.length + 1, width, 28) },
    legend: wrappingLegend(),
    xAxis: axis('false-positive rate') as EChartsOption['xAxis'],
    yAxis: axis('true-positive rate') as EChartsOption['yAxis'],
    series: [
      ...lines.map((d, i) => ({
        type: 'line' as const,
        name: `${defenseName(d.id)} (AUC ${two((d.roc as Roc).auc as number)})`,
        color: colorAt(i),
        symbol: 'circle',
        symbolSize: 4,
        lineStyle: { width: 1.5 },
        data: (d.roc as Roc).points.map((p) => [p.fpr, p.tpr]),
      })),
      {
        type: 'line' as const,
        name: 'chance',
        color: '#999',
        symbol: 'none',
        lineStyle: { width: 1, type: 'dashed' as const },
        data: [
          [0, 0],
          [1, 1],
        ],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------
// HTML.

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The report's Separability section (without its heading). */
export function separabilitySectionHtml(data: ReportData, s: Separability): string {
  const label = (id: string): string => data.metrics[id]?.label ?? id;
  const line = (name: string, r: Roc | null, cls = ''): string =>
    `<tr${cls ? ` class="${cls}"` : ''}><td>${name}</td><td class="num">${esc(aucText(r))}</td><td class="num">${esc(r ? tprText(r.tprAtFpr0, r.nPos) : '-')}</td><td class="num">${esc(r ? tprText(r.tprAtFpr10, r.nPos) : '-')}</td><td class="num">${r ? `${r.nPos}/${r.nNeg}` : '-'}</td></tr>`;
  const body = s.rows
    .map((row) => {
      const where = row.scenario !== '-' ? ` (${esc(row.scenario)})` : '';
      const metrics = row.metrics
        .map((m) =>
          line(`${esc(label(m.id))}${m.degenerate ? ' <span class="sub">(degenerate tau)</span>' : ''}`, m.roc),
        )
        .join('');
      const defences = row.defenses
        .map((d) =>
          line(
            `<b>${esc(defenseName(d.id))}</b>${d.roc ? '' : ' <span class="sub">(no voting metric)</span>'}`,
            d.roc,
            'defence',
          ),
        )
        .join('');
      return `<tr class="group"><td colspan="5"><b>${esc(row.label)}</b>${where}</td></tr>${metrics}${defences}`;
    })
    .join('');
  const claims = [
    ...s.falseClaims.defenses.map(
      (d) =>
        `<tr class="defence"><td><b>${esc(defenseName(d.id))}</b></td><td>${esc(falseClaimText(d.counts))}</td></tr>`,
    ),
    ...s.falseClaims.metrics.map(
      (m) => `<tr><td>${esc(label(m.id))}</td><td>${esc(falseClaimText(m.counts))}</td></tr>`,
    ),
  ].join('');
  const { references, negativeModels } = s.negatives;
  const intro =
    `<p>How well each metric, and each defence, tells an attack row's surrogates (positives) from the ${references} reference models of the calibration and the ${negativeModels} independently trained Negative ${negativeModels === 1 ? 'model' : 'models'} of this run (negatives), over every possible threshold. ` +
    'AUC is the probability that a surrogate looks more derived than an independent model (Mann-Whitney, ties count one half; 0.5 is chance, 1 perfect separation), with its 95% interval by Hanley and McNeil; at an AUC of 0 or 1 that interval collapses to a point and understates the uncertainty of a small sample. ' +
    `TPR at FPR 0 is the largest share of surrogates some threshold recognises while accusing no independent model; read it with n_neg, since with few negatives an FPR of 0 is a weak claim. TPR at FPR 10% is given only with at least ${minNegatives(0.1)} negatives (n_neg >= 3 / FPR, so that about three negatives are expected past the threshold). ` +
    "A defence's score for a model is the margin past tau, relative to |tau|, of the metric at its strict-majority rank (the smaller of DeepJudge's two, the one metric of a one-metric defence), so it is positive exactly when the defence recognises the model; metrics with a degenerate threshold do not vote.</p>";
  const table = s.rows.length
    ? `<table class="list separability"><caption><b>Table 2.</b> Separability per attack row (RemovalNet rows first), per metric and per defence (bold): AUC [95% CI], TPR at FPR 0 and at FPR 10% with the surrogates recognised, and n_pos/n_neg.</caption><thead><tr><th>Metric or defence</th><th class="num">AUC [95% CI]</th><th class="num">TPR @ FPR 0</th><th class="num">TPR @ FPR 10%</th><th class="num">n_pos/n_neg</th></tr></thead><tbody>${body}</tbody></table>`
    : '<p>No attack row of this run has a scored surrogate yet.</p>';
  const claimsTable = `<table class="list keep separability" style="margin-top:4mm"><caption><b>Table 3.</b> False claims at the calibrated tau: the independent models each defence (a strict majority of its metrics flag; a tie is no accusation) and each metric would accuse. Each reference model is judged by the tau the same rule gives from the other references (leave-one-out: a reference never meets a threshold its own value set); the Negative models by the calibration's tau.</caption><thead><tr><th>Defence or metric</th><th>Accused / judged</th></tr></thead><tbody>${claims}</tbody></table>`;
  const fpr =
    '<p class="note">A threshold at a chosen false-positive rate p (an `fpr:p` threshold) is the calibration\'s existing <code>quantile</code> rule at p: tau at the empirical p-quantile of the reference values on the derived side, which an independent model passes with probability p (in expectation over the references).</p>';
  return `${intro}${table}${claimsTable}${fpr}`;
}
