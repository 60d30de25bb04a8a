// @vitest-environment jsdom
import { cleanup, render } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import PathField from '../../src-renderer/src/components/PathField.svelte';
import { isAbsolutePath, resolveAgainst } from '../../src-renderer/src/lib/paths';

afterEach(() => cleanup());

describe('paths as the engine reads them', () => {
  it('tells absolute from relative on POSIX and Windows', () => {
    for (const p of ['/data/x', 'C:\\data', 'c:/data', '\\\\server\\share']) expect(isAbsolutePath(p), p).toBe(true);
    for (const p of ['data/x', './x', '../x', 'x', 'C:data']) expect(isAbsolutePath(p), p).toBe(false);
  });

  it("resolves against the engine's folder like Node's path.resolve", () => {
    expect(resolveAgainst('/srv/work', 'data/set')).toBe('/srv/work/data/set');
    expect(resolveAgainst('/srv/work/', './data/../other')).toBe('/srv/work/other');
    expect(resolveAgainst('/srv', '../../x')).toBe('/x');
    expect(resolveAgainst('C:\\Users\\me', 'data\\set')).toBe('C:\\Users\\me\\data\\set');
  });

  it('shows where a relative path is read from, and nothing for an absolute one', () => {
    const relative = render(PathField, { id: 'p', label: 'Data', value: 'sets/mine', baseDir: '/srv/work' });
    expect(relative.container.querySelector('[data-field="resolved-path"] code')?.textContent).toBe(
      '/srv/work/sets/mine',
    );
    cleanup();
    const absolute = render(PathField, { id: 'p', label: 'Data', value: '/abs/mine', baseDir: '/srv/work' });
    expect(absolute.container.querySelector('[data-field="resolved-path"]')).toBeNull();
  });
});
