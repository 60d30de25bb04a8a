import { describe, expect, it } from 'vitest';
import { ATTACKS, attackColor } from '../../src-main/engine/attacks/registry';
import { buildCatalog } from '../../src-main/api/catalog';

describe('one colour per attack', () => {
  it('every registered attack has its own colour, the catalog carries it, and an unknown id gets a fixed one', () => {
    const colors = ATTACKS.map((a) => attackColor(a.id));
    expect(new Set(colors).size).toBe(ATTACKS.length);
    for (const c of colors) expect(c).toMatch(/^#[0-9a-f]{6}$|^hsl\(/);
    expect(buildCatalog().attacks.map((a) => a.color)).toEqual(colors);
    expect(attackColor('not-an-attack')).toBe(attackColor('not-an-attack'));
  });
});
