import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAuditSpec } from '../../src-shared/audit/spec';
import { validateAgainstRegistries } from '../../src-main/runner/plan';

describe('README', () => {
  it('shows an audit spec that validates', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /```json\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Audit runs')));
    expect(block).not.toBeNull();
    const parsed = parseAuditSpec(JSON.parse(block?.[1] as string));
    expect(parsed.ok ? [] : parsed.problems).toEqual([]);
    if (parsed.ok) expect(validateAgainstRegistries(parsed.spec)).toEqual([]);
  });
});
