/**
 * The preload exposes exactly the contract's methods plus onEvent on `window.auditApi`,
 * each a thin ipcRenderer.invoke on its own channel, and nothing raw.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { API_METHODS } from '../../src-shared/contract/api';

const exposed: Record<string, unknown> = {};
const invoke = vi.fn(async (...args: unknown[]) => ({ ok: true, value: args }));
const on = vi.fn();
const removeListener = vi.fn();

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
  ipcRenderer: { invoke, on, removeListener },
}));

let api: Record<string, (...args: unknown[]) => unknown>;
beforeAll(async () => {
  await import('../../src-main/preload/index');
  api = exposed.auditApi as typeof api;
});

describe('window.auditApi', () => {
  it('is the only thing exposed', () => {
    expect(Object.keys(exposed)).toEqual(['auditApi']);
  });

  it('has exactly one function per API method plus onEvent and onCommand', () => {
    expect(Object.keys(api).sort()).toEqual([...API_METHODS, 'onEvent', 'onCommand'].sort());
    for (const key of Object.keys(api)) expect(typeof api[key]).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('invokes the method channel with the one input argument only', async () => {
    await api.getRun({ runId: 'r-1' }, 'extra', () => 'ignored');
    expect(invoke).toHaveBeenLastCalledWith('api:getRun', { runId: 'r-1' });
    await api.engineInfo();
    expect(invoke).toHaveBeenLastCalledWith('api:engineInfo', undefined);
  });

  it('onEvent subscribes to api:event, hands over the event only, and unsubscribes', () => {
    const seen: unknown[] = [];
    const off = api.onEvent((e: unknown) => seen.push(e)) as () => void;
    expect(on).toHaveBeenCalledWith('api:event', expect.any(Function));
    const handler = on.mock.calls[0][1] as (sender: unknown, e: unknown) => void;
    handler({ sender: 'the IpcRendererEvent stays here' }, { type: 'run', runId: 'r-1' });
    expect(seen).toEqual([{ type: 'run', runId: 'r-1' }]);
    off();
    expect(removeListener).toHaveBeenCalledWith('api:event', handler);
    expect(() => api.onEvent('not a function')).toThrow(TypeError);
  });

  it('onCommand passes on the menu commands it knows and nothing else', () => {
    const seen: unknown[] = [];
    const off = api.onCommand((c: unknown) => seen.push(c)) as () => void;
    const call = on.mock.calls.find((c) => c[0] === 'app:command');
    expect(call).toBeTruthy();
    const handler = call![1] as (sender: unknown, c: unknown) => void;
    handler({}, 'history');
    handler({}, 'rm -rf');
    handler({}, { command: 'history' });
    expect(seen).toEqual(['history']);
    off();
    expect(removeListener).toHaveBeenCalledWith('app:command', handler);
  });
});
