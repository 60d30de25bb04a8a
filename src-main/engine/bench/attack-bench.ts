/**
 * Attack benchmark: iterations/s and passes/s (per-example forward + backward passes, as
 * counted by each attack) of every registered attack on one victim and substitute set.
 */
import type { LoadedModel } from '../models/io';
import type { ImageSet } from '../datasets/types';
import { ATTACKS } from '../attacks/registry';
import { resolveParams } from '../../../src-shared/params';

export interface AttackBenchResult {
  attack: string;
  iterations: number;
  seconds: number;
  iterationsPerSec: number;
  passesPerSec: number;
}

export async function benchAttacks(
  victim: LoadedModel,
  substitute: ImageSet,
  iterations: Record<string, number>,
  onResult?: (r: AttackBenchResult) => void,
): Promise<AttackBenchResult[]> {
  const results: AttackBenchResult[] = [];
  for (const attack of ATTACKS) {
    const n = iterations[attack.id];
    if (!n) continue;
    const params = resolveParams(attack.params, {});
    if (!params.ok) throw new Error(params.problems.join('; '));
    const r = await attack.run({ seed: 1 }, { victim, substitute, params: params.values, iterations: n });
    r.model.dispose();
    const res: AttackBenchResult = {
      attack: attack.id,
      iterations: n,
      seconds: r.compute.seconds,
      iterationsPerSec: n / r.compute.seconds,
      passesPerSec: (r.compute.forwardPasses + r.compute.backwardPasses) / r.compute.seconds,
    };
    onResult?.(res);
    results.push(res);
  }
  return results;
}
