/**
 * Whether the blocks a spec's attacks split at exist in its victim, read from the victim's
 * model.json topology without building the model: a missing block would otherwise be found
 * by a worker after the calibration and the other attacks had trained. Only a stored victim
 * (a model folder) is checked; a victim the spec trains has no layers yet. A model.json that
 * cannot be read here is left to the loader, whose errors say why.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditSpec } from '../../src-shared/audit/spec';

/** Larger topologies are left to the loader's own bounds (a model.json is a few KB). */
const MAX_MODEL_JSON_BYTES = 16 * 1024 * 1024;

interface LayerJson {
  name?: unknown;
  config?: { name?: unknown };
}

/** The layer names in a model.json, or undefined when they cannot be read. */
export function victimLayerNames(modelPath: string): string[] | undefined {
  try {
    const file = statSync(modelPath).isDirectory() ? join(modelPath, 'model.json') : modelPath;
    if (statSync(file).size > MAX_MODEL_JSON_BYTES) return undefined;
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      modelTopology?: { model_config?: { config?: { layers?: unknown } }; config?: { layers?: unknown } };
    };
    const topology = json.modelTopology;
    const layers = topology?.model_config?.config?.layers ?? topology?.config?.layers;
    if (!Array.isArray(layers)) return undefined;
    const names = (layers as LayerJson[]).map((l) => l?.name ?? l?.config?.name);
    return names.every((n): n is string => typeof n === 'string') ? names : undefined;
  } catch {
    return undefined;
  }
}

/** `attacks[i].block: ...` for each attack block the victim lacks. */
export function blockProblems(spec: AuditSpec, baseDir: string): string[] {
  if (!('model' in spec.victim)) return [];
  const names = victimLayerNames(resolve(baseDir, spec.victim.model));
  if (!names) return [];
  const problems: string[] = [];
  spec.attacks.forEach((a, i) => {
    if (a.block !== undefined && !names.includes(a.block))
      problems.push(`attacks[${i}].block: the victim has no layer "${a.block}" (layers: ${names.join(', ')})`);
  });
  return problems;
}
