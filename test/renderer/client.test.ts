import { describe, expect, it, vi } from 'vitest';
import type { AuditClient } from '../../src-shared/contract/api';
import { pickClient, tokenFromHash, type WindowLike } from '../../src-renderer/src/lib/client';
import { fakeClient } from './fixtures';

function win(
  over: Partial<WindowLike> & { protocol?: string; hash?: string } = {},
): WindowLike & { store: Map<string, string>; replaced: string[] } {
  const store = new Map<string, string>();
  const replaced: string[] = [];
  return {
    location: {
      protocol: over.protocol ?? 'http:',
      origin: 'http://127.0.0.1:4321',
      hash: over.hash ?? '',
      pathname: '/',
      search: '',
    },
    history: { replaceState: (_d, _u, url) => replaced.push(String(url)) },
    sessionStorage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) },
    ...(over.auditApi !== undefined ? { auditApi: over.auditApi } : {}),
    store,
    replaced,
  };
}

describe('pickClient', () => {
  it('reads the token from the fragment', () => {
    expect(tokenFromHash('#token=abc')).toBe('abc');
    expect(tokenFromHash('#x=1&token=a-b_c')).toBe('a-b_c');
    expect(tokenFromHash('#')).toBeNull();
  });

  it("uses Electron's bridge when the preload exposed one", () => {
    const bridge = fakeClient();
    const factory = vi.fn();
    const r = pickClient(win({ auditApi: bridge, protocol: 'file:' }), factory);
    expect(r).toMatchObject({ ok: true, mode: 'electron' });
    expect(r.ok && r.client).toBe(bridge);
    expect(factory).not.toHaveBeenCalled();
  });

  it('builds the HTTP client from the fragment token and takes the token out of the address', () => {
    const w = win({ hash: '#token=s3cret' });
    const made = fakeClient() as AuditClient;
    const factory = vi.fn(() => made);
    const r = pickClient(w, factory);
    expect(r).toMatchObject({ ok: true, mode: 'browser' });
    expect(factory).toHaveBeenCalledWith('http://127.0.0.1:4321', 's3cret');
    expect(w.replaced).toEqual(['/']);
    expect([...w.store.values()]).toEqual(['s3cret']);
    // A reload finds it in the session.
    const again = win();
    again.store.set([...w.store.keys()][0], 's3cret');
    expect(pickClient(again, factory)).toMatchObject({ ok: true, mode: 'browser' });
  });

  it('explains a missing token and a missing bridge', () => {
    const noToken = pickClient(win(), vi.fn());
    expect(noToken).toMatchObject({ ok: false, title: 'Access token missing' });
    const file = pickClient(win({ protocol: 'file:' }), vi.fn());
    expect(file).toMatchObject({ ok: false, title: 'No connection to the audit engine' });
    expect(!file.ok && file.hint).toContain('ownership-audit serve');
  });
});
