/**
 * The browser mode's client: the same `AuditClient` the preload gives the desktop app,
 * over `ownership-audit serve`'s HTTP API and event WebSocket (protocol: see api.ts).
 * Pure browser code (fetch + WebSocket, no Node imports), so the renderer bundles it; the
 * constructors are parameters so tests can pass Node's fetch and the `ws` package.
 *
 * Calls never throw: a network failure becomes a Result error (code NETWORK). The event
 * socket opens with the first subscriber, closes with the last, and reconnects with
 * backoff (0.5 s doubling to 10 s) while anyone listens; events sent while it was down
 * are not replayed, so a monitor should reload the run (getRun) after a reconnect.
 */
import type { ApiError, AuditApi, AuditClient, AuditEvent, Result } from './api';
import { API_METHOD_NAMES } from './methods';

/** The part of the WebSocket API the client uses (the browser's and the `ws` package's both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;
type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface HttpClientOptions {
  fetch?: FetchLike;
  /** Called when the event socket connects (true, after `ready`) or drops (false). */
  onConnection?: (connected: boolean) => void;
  /** Backoff bounds in ms (tests shorten them). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

const OPEN = 1;

function networkError(e: unknown): Result<never> {
  return {
    ok: false,
    error: {
      code: 'NETWORK',
      message: `No answer from the workbench server: ${e instanceof Error ? e.message : String(e)}`,
      hint: 'Is `npx ownership-audit serve` still running? Start it again and open the address it prints.',
    },
  };
}

function isResult(x: unknown): x is Result<unknown> {
  if (!x || typeof x !== 'object') return false;
  const r = x as { ok?: unknown; error?: ApiError };
  return r.ok === true ? 'value' in r : r.ok === false && typeof r.error?.code === 'string';
}

/** `http://host:port` -> `ws://host:port/api/events` (https -> wss). */
export function eventsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '').replace(/^http/, 'ws')}/api/events`;
}

/** Where a browser downloads a stored report (POST, token in the header; see src-main/api/server.ts). */
export const DOWNLOAD_PATH = '/download/report';

/** The browser mode's client: the API, plus report downloads (a file, not a server path). */
export interface HttpAuditClient extends AuditClient {
  downloadReport(input: { runId: string; format: string }): Promise<Result<{ blob: Blob; name: string }>>;
}

export function createHttpClient(
  baseUrl: string,
  token: string,
  WebSocketCtor: WebSocketConstructor | undefined = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket,
  options: HttpClientOptions = {},
): HttpAuditClient {
  const base = baseUrl.replace(/\/+$/, '');
  const doFetch: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));

  const call = async (method: string, input: unknown): Promise<Result<unknown>> => {
    try {
      const res = await doFetch(`${base}/api/${method}`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          ...(input === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(input === undefined ? {} : { body: JSON.stringify(input) }),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (isResult(parsed)) return parsed;
      return {
        ok: false,
        error: {
          code: 'BAD_RESPONSE',
          message: `The server answered ${res.status} without a Result`,
          hint: 'Check that the address belongs to `ownership-audit serve`.',
        },
      };
    } catch (e) {
      return networkError(e);
    }
  };

  // ---- events -------------------------------------------------------------------------
  const listeners = new Set<(e: AuditEvent) => void>();
  let socket: WebSocketLike | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const minBackoff = options.minBackoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 10_000;
  let backoff = minBackoff;

  const connect = () => {
    retry = undefined;
    if (!WebSocketCtor || listeners.size === 0 || socket) return;
    let ws: WebSocketLike;
    try {
      ws = new WebSocketCtor(eventsUrl(base));
    } catch {
      return scheduleReconnect();
    }
    socket = ws;
    // The token goes in the first message, not the URL, so it stays out of logs.
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token }));
    ws.onmessage = (m) => {
      let msg: { type?: string; event?: AuditEvent };
      try {
        msg = JSON.parse(String(m.data)) as typeof msg;
      } catch {
        return;
      }
      if (msg.type === 'ready') {
        backoff = minBackoff;
        options.onConnection?.(true);
      } else if (msg.type === 'event' && msg.event) {
        for (const l of listeners) {
          try {
            l(msg.event);
          } catch {
            // one broken listener must not starve the others
          }
        }
      }
    };
    ws.onerror = () => undefined; // onclose follows and handles it
    ws.onclose = () => {
      if (socket === ws) socket = undefined;
      options.onConnection?.(false);
      scheduleReconnect();
    };
  };

  const scheduleReconnect = () => {
    if (listeners.size === 0 || retry) return;
    retry = setTimeout(connect, backoff);
    backoff = Math.min(maxBackoff, backoff * 2);
  };

  const disconnect = () => {
    if (retry) clearTimeout(retry);
    retry = undefined;
    const ws = socket;
    socket = undefined;
    if (ws && ws.readyState <= OPEN) ws.close(1000, 'no listeners');
  };

  const methods = Object.fromEntries(
    API_METHOD_NAMES.map((m) => [m, (input?: unknown) => call(m, input)]),
  ) as unknown as AuditApi;

  /**
   * The newest stored report of a run as a file: its bytes and the name to save them under.
   * The token travels in the Authorization header, as for every call (never in a URL).
   */
  const downloadReport = async (input: {
    runId: string;
    format: string;
  }): Promise<Result<{ blob: Blob; name: string }>> => {
    try {
      const res = await globalThis.fetch(`${base}${DOWNLOAD_PATH}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(input),
      });
      if (!res.ok) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(await res.text());
        } catch {
          parsed = undefined;
        }
        if (isResult(parsed) && !parsed.ok) return parsed;
        return {
          ok: false,
          error: {
            code: 'BAD_RESPONSE',
            message: `The download answered ${res.status}`,
            hint: 'Export the report again.',
          },
        };
      }
      const disposition = res.headers.get('Content-Disposition') ?? '';
      const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `report-${input.runId}.${input.format}`;
      return { ok: true, value: { blob: await res.blob(), name } };
    } catch (e) {
      return networkError(e);
    }
  };

  return {
    ...methods,
    downloadReport,
    onEvent(listener) {
      listeners.add(listener);
      connect();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) disconnect();
      };
    },
  };
}
