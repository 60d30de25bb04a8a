/**
 * The report's first page: one sentence per defence ("would the fingerprint survive?"),
 * then the defence x attack grid, before the frontier and the details. The same summary as
 * the run page (src-shared/audit/summary.ts); green always means ownership still proven.
 */
import { auditSummary, cellText, defenceHeadline } from '../../src-shared/audit/summary';
import { attackRole } from '../engine/attacks/registry';
import { attackName, defenseName } from './names';
import type { ReportData } from './data';
import { escapeHtml as e } from './html';

export function summarySectionHtml(data: ReportData): string {
  // An attack this version's registry does not know is shown among the modification baselines.
  const summary = auditSummary(data.table, (id) => attackRole(id) ?? 'modification');
  const judged = summary.defenses.some((d) => d.cells.some((c) => c.judged > 0));
  if (!judged)
    return `<section class="summary"><h2>Summary</h2><p>No suspect has been judged in this run yet: no defence has an answer.</p></section>`;
  const headlines = summary.defenses
    .map(
      (d) =>
        `<li class="${d.removal}"><span class="mark">${d.removal === 'survives' ? '&#10004;' : d.removal === 'defeated' ? '&#10008;' : '&#183;'}</span> ${e(defenceHeadline(d, defenseName(d.defense), attackName))}</li>`,
    )
    .join('');
  const head = summary.attacks
    .map(
      (a) =>
        `<th class="c">${e(attackName(a.id))}${a.role === 'independent' ? '<br><span class="sub">false claims</span>' : ''}</th>`,
    )
    .join('');
  const rows = summary.defenses
    .map(
      (d) =>
        `<tr><th>${e(defenseName(d.defense))}</th>${d.cells
          .map(
            (c) =>
              `<td class="c ${c.state}" title="${e(cellText(c))}"><b>${c.judged ? `${c.recognised}/${c.judged}` : '-'}</b>${c.judged && c.role !== 'independent' && c.drop !== null ? `<br><span class="sub">${(Math.max(0, c.drop) * 100).toFixed(1)} pt drop</span>` : ''}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('');
  return `<section class="summary">
<h2>Summary: would the fingerprint survive?</h2>
<ul class="headlines">${headlines}</ul>
<p class="tcap"><b>Table 0.</b> Each defence against each attack: surrogates it recognises of those it judged, and the mean fidelity drop the attacker paid (points of test accuracy). Green: ownership still proven (most surrogates recognised; for independent models, none accused). Red: not proven (the attack evades the defence, or the defence accuses innocent models). A tie is not recognition.</p>
<table class="grid keep"><thead><tr><th>Defence</th>${head}</tr></thead><tbody>${rows}</tbody></table>
</section>`;
}
