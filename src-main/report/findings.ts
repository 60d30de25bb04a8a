/**
 * One plain paragraph per defence: how many suspects of each attack row it still
 * recognises, at what fidelity cost to the attacker, how many independent (negative)
 * models it wrongly claims, and whether its verification survives RemovalNet.
 *
 * A defence recognises a suspect when a strict majority of its own metrics flag it (the
 * same rule as the audit's verdict, applied to one defence: DeepJudge with LOD and LAD
 * needs both, a one-metric defence its one). Metrics without a value for the suspect
 * (not applicable) and metrics with a degenerate threshold do not vote.
 */
import type { ResultRow } from '../../src-shared/audit/results';
import { attackRole } from '../engine/attacks/registry';
import { defenseName, displayLabel, metricInfo, type ReportData } from './data';

export interface Finding {
  defense: string;
  /** e.g. 'DeepJudge'. */
  name: string;
  /** Metric ids of the defence that vote (non-degenerate columns). */
  metrics: string[];
  sentences: string[];
  /** The sentences as one paragraph. */
  text: string;
}

/** Percentage points with one decimal: 0.021 -> '2.1'. */
export function points(fraction: number): string {
  const p = Math.round(fraction * 1000) / 10;
  return (Object.is(p, -0) ? 0 : p).toFixed(1);
}

const plural = (n: number, word: string): string => `${word}${n === 1 ? '' : 's'}`;

/** Defence ids in calibration order, then any other seen in the table's columns. */
function defenceIds(data: ReportData): string[] {
  const ids: string[] = (data.calibration?.document.defenses ?? []).map((d) => d.id);
  for (const col of data.table.metrics) {
    const d = metricInfo(col.id).defense;
    if (!ids.includes(d)) ids.push(d);
  }
  return ids;
}

/** Suspects of a row that the defence judged (some voting metric had a value) and how many it recognised. */
export function recognised(
  data: ReportData,
  row: Pick<ResultRow, 'rowId' | 'scenario'>,
  metricIds: readonly string[],
): { recognised: number; judged: number } {
  let k = 0;
  let n = 0;
  for (const s of data.suspects.filter((x) => x.rowId === row.rowId && x.scenario === row.scenario)) {
    const flags = data.finalValues.filter(
      (v) => v.suspectKey === s.key && metricIds.includes(v.metricId) && v.flagged !== null && v.value !== null,
    );
    if (flags.length === 0) continue;
    n += 1;
    if (flags.filter((v) => v.flagged === true).length * 2 > flags.length) k += 1;
  }
  return { recognised: k, judged: n };
}

function fidelityPhrase(row: ResultRow): string {
  if (!row.fidelity) return '';
  const drop = row.fidelity.drop;
  if (drop >= 0 || points(drop) === '0.0') return ` at a ${points(Math.max(0, drop))}-point fidelity drop`;
  return ` with accuracy ${points(-drop)} points above the victim's`;
}

export function findings(data: ReportData): Finding[] {
  const out: Finding[] = [];
  for (const defense of defenceIds(data)) {
    const name = defenseName(defense);
    const columns = data.table.metrics.filter((c) => metricInfo(c.id).defense === defense);
    if (columns.length === 0) continue;
    const voting = columns.filter((c) => !c.degenerate).map((c) => c.id);
    const degenerate = columns.filter((c) => c.degenerate).map((c) => data.metrics[c.id]?.label ?? c.id);
    const sentences: string[] = [];
    const labels = columns.map((c) => data.metrics[c.id]?.label ?? c.id).join(', ');
    if (voting.length === 0) {
      sentences.push(
        `${name} cannot recognise any suspect in this run: the threshold of every metric (${labels}) is degenerate (all reference models reached the same value).`,
      );
      out.push({ defense, name, metrics: [], sentences, text: sentences.join(' ') });
      continue;
    }
    if (degenerate.length)
      sentences.push(
        `The ${degenerate.join(', ')} threshold is degenerate (all reference models reached the same value), so it does not vote.`,
      );
    let removalK = 0;
    let removalN = 0;
    // Removal attacks first (the headline), then the other attacks in table order, then independent (negative) models.
    const rank = (r: ResultRow): number => {
      const role = attackRole(r.attack);
      return role === 'removal' ? 0 : role === 'independent' ? 2 : 1;
    };
    const rows = data.table.rows
      .map((r, i) => ({ r, i }))
      .sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i)
      .map((x) => x.r);
    for (const row of rows) {
      const label = displayLabel(row);
      const where = row.scenario !== '-' ? ` (${row.scenario})` : '';
      if (row.suspects === 0) {
        sentences.push(`${label}${where}: no finished suspect yet.`);
        continue;
      }
      const { recognised: k, judged: n } = recognised(data, row, voting);
      if (n === 0) {
        sentences.push(
          `${name} could not judge the ${label} ${plural(row.suspects, 'surrogate')}${where}: none of its metrics applies to them.`,
        );
        continue;
      }
      if (attackRole(row.attack) === 'independent') {
        sentences.push(
          `${name} flags ${k} of ${n} independently trained negative ${plural(n, 'model')} as derived${k > 0 ? ' (false positives)' : ''}.`,
        );
        continue;
      }
      sentences.push(
        `${name} still recognises ${k} of ${n} ${label} ${plural(n, 'surrogate')}${where}${fidelityPhrase(row)}.`,
      );
      if (attackRole(row.attack) === 'removal') {
        removalK += k;
        removalN += n;
      }
    }
    if (removalN > 0) {
      sentences.push(
        removalK * 2 > removalN
          ? `Its ownership verification survives RemovalNet in this run (${removalK} of ${removalN} ${plural(removalN, 'surrogate')} recognised).`
          : `RemovalNet defeats its ownership verification in this run (${removalK} of ${removalN} ${plural(removalN, 'surrogate')} recognised).`,
      );
    }
    out.push({ defense, name, metrics: voting, sentences, text: sentences.join(' ') });
  }
  return out;
}
