/**
 * What the wizard offers: attacks and defences from the engine's registries (parameters
 * with defaults and ranges, as the CLI validates them), the built-in specs and where the
 * embedded demo victim and data live. The one-line explanations are written for model
 * owners, not ML engineers.
 */
import type { Catalog } from '../../src-shared/contract/api';
import { ATTACKS } from '../engine/attacks/registry';
import { DEFENSES } from '../engine/defenses/registry';
import { demoSpec, smokeSpec } from '../runner/presets';
import { DEMO_DATASET, DEMO_VICTIM } from '../cli/paths';

const ATTACK_HELP: Record<string, string> = {
  removalnet:
    'The attack under study: reshapes the model inside (latent level) and at its outputs (logit level) to erase the fingerprint while keeping accuracy.',
  finetune: 'Retrains the last layers on the attacker data: the cheapest way to change a stolen model.',
  prune: 'Zeroes the smallest weights, then fine-tunes: a common way to disguise a copied model.',
  distill: "Trains a copy to imitate the victim's internal features on the attacker data.",
  negative: "An independently trained model (not derived from the victim): the verdict must say 'not derived'.",
  knockoff: 'Steals the model through its answers only (black-box queries) and trains a new one on them.',
};

const DEFENSE_HELP: Record<string, string> = {
  deepjudge: 'Compares how the two models respond inside (layer outputs) and at the output on probing inputs.',
  zest: 'Compares local explanations (LIME) of the two models on reference images.',
  modeldiff: 'Compares the decision distance vectors of the models on pairs of inputs.',
  ipguard: "Checks whether the suspect keeps the victim's labels on inputs near its decision boundary.",
};

export function buildCatalog(): Catalog {
  const paths = { demoModel: DEMO_VICTIM(), demoData: DEMO_DATASET() };
  return {
    attacks: ATTACKS.map((a) => ({
      id: a.id,
      title: a.title,
      help: ATTACK_HELP[a.id] ?? a.paper,
      params: [...a.params],
      needs: { ...a.needs },
    })),
    defenses: DEFENSES.map((d) => ({
      id: d.id,
      title: d.title,
      help: DEFENSE_HELP[d.id] ?? d.paper,
      params: [...d.params],
      metrics: d.metrics.map((m) => ({ id: m.id, kind: m.kind, votes: m.votes !== false })),
    })),
    presets: [
      { id: 'smoke', title: 'Smoke test (seconds: every job kind, not a meaningful audit)', spec: smokeSpec(paths) },
      {
        id: 'demo',
        title: 'Demo audit (about 15 minutes on 2 cores: all defences, every attack)',
        spec: demoSpec(paths),
      },
    ],
    demo: { model: paths.demoModel, data: paths.demoData },
  };
}
