/**
 * What the wizard offers, read from the engine's registries: attacks and defences with
 * their help, paper names, roles, default seeds, parameters (defaults and ranges, as the
 * CLI validates them) and metric labels; the built-in specs; where the embedded demo
 * victim and data live. Nothing here names an attack or a defence: adding one to a
 * registry is what makes it appear.
 */
import type { Catalog, CatalogMetric } from '../../src-shared/contract/api';
import { ATTACKS, attackColor } from '../engine/attacks/registry';
import { DEFENSES, FIDELITY } from '../engine/defenses/registry';
import type { MetricSpec } from '../engine/defenses/types';
import { metricVotes } from '../engine/defenses/types';
import { demoSpec, smokeSpec } from '../runner/presets';
import { DEMO_DATASET, DEMO_VICTIM } from '../cli/paths';

function catalogMetric(m: MetricSpec): CatalogMetric {
  return {
    id: m.id,
    kind: m.kind,
    label: m.label,
    shortLabel: m.shortLabel,
    votes: metricVotes(m),
    ...(m.combined === false ? { combined: false } : {}),
  };
}

export function buildCatalog(): Catalog {
  const paths = { demoModel: DEMO_VICTIM(), demoData: DEMO_DATASET() };
  return {
    attacks: ATTACKS.map((a) => ({
      id: a.id,
      title: a.title,
      name: a.name,
      help: a.help,
      role: a.role,
      color: attackColor(a.id),
      defaultSeeds: [...a.defaultSeeds],
      params: [...a.params],
      needs: { ...a.needs },
    })),
    defenses: DEFENSES.map((d) => ({
      id: d.id,
      title: d.title,
      name: d.name,
      help: d.help,
      params: [...d.params],
      metrics: d.metrics.map(catalogMetric),
      ...(d.optIn ? { optIn: true } : {}),
    })),
    reportedMetrics: FIDELITY.metrics.map(catalogMetric),
    presets: [
      { id: 'smoke', title: 'Smoke test (seconds: every job kind, not a meaningful audit)', spec: smokeSpec(paths) },
      {
        id: 'demo',
        title: 'Demo audit (about 10 minutes on 2 cores: all defences, every attack)',
        spec: demoSpec(paths),
      },
    ],
    demo: { model: paths.demoModel, data: paths.demoData },
  };
}
