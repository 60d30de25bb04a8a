/**
 * The kinds of attack, in the terms of the paper's evaluation (Section 4.1.2). Each attack
 * in the main side's registry declares one; planner, report and workbench act on the role,
 * never on an attack's id.
 * - 'removal': a fingerprint removal attack, the subject of the audit (RemovalNet); the
 *   report's findings and model figures centre on these rows;
 * - 'modification': a baseline that changes a copy of the victim (fine-tuning, pruning, distillation);
 * - 'stealing': a baseline that learns the victim's function from its answers alone
 *   (KnockoffNets); the efficiency figure compares removal attacks with it;
 * - 'independent': a negative control trained from scratch without the victim, which the
 *   verdict must call "not derived". It uses no attacker scenario (one row, scenario
 *   NO_SCENARIO), its initialisation seed is the suspect's seed unless params.seed sets
 *   one, and that seed must stay clear of the calibration references' seeds.
 */
export const ATTACK_ROLES = ['removal', 'modification', 'stealing', 'independent'] as const;
export type AttackRole = (typeof ATTACK_ROLES)[number];

/** Scenario id of the rows of independent attacks (no attacker scenario applies to them). */
export const NO_SCENARIO = '-';

/** Attack and defence ids: what specs, job keys, metric ids and folder names are built from. */
export const REGISTRY_ID_RE = /^[a-z][a-z0-9-]{0,31}$/;
