/**
 * Which bridge the renderer talks through: `window.auditApi` inside Electron (the preload's
 * one-function-per-method object), or the browser mode's HTTP + WebSocket client when the
 * page was opened from the URL `ownership-audit serve` prints (`http://127.0.0.1:PORT/#token=...`).
 *
 * The token leaves the address bar as soon as it is read (kept in sessionStorage so a
 * reload still works), so it does not end up in the history, bookmarks or screenshots.
 */
import type { AuditClient } from '../../../src-shared/contract/api';

export type ClientChoice =
  | { ok: true; client: AuditClient; mode: 'electron' | 'browser' }
  | { ok: false; title: string; message: string; hint: string };

export type HttpClientFactory = (baseUrl: string, token: string) => AuditClient;

/** The parts of `window` the choice looks at (a plain object in tests). */
export interface WindowLike {
  auditApi?: unknown;
  location: { protocol: string; origin: string; hash: string; pathname: string; search: string };
  history?: { replaceState(data: unknown, unused: string, url?: string): void };
  sessionStorage?: { getItem(key: string): string | null; setItem(key: string, value: string): void };
}

const TOKEN_KEY = 'ownership-audit.token';

/** The token in a fragment such as `#token=abc` or `#foo=1&token=abc`; null when absent. */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  return token && token.trim() ? token.trim() : null;
}

function looksLikeClient(x: unknown): x is AuditClient {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as { engineInfo?: unknown }).engineInfo === 'function' &&
    typeof (x as { onEvent?: unknown }).onEvent === 'function'
  );
}

export function pickClient(win: WindowLike, createHttpClient: HttpClientFactory): ClientChoice {
  if (looksLikeClient(win.auditApi)) return { ok: true, client: win.auditApi, mode: 'electron' };
  const isHttp = win.location.protocol === 'http:' || win.location.protocol === 'https:';
  if (!isHttp) {
    return {
      ok: false,
      title: 'No connection to the audit engine',
      message:
        'This window has no engine bridge: the page was opened outside the desktop app and outside the browser mode.',
      hint: 'Start the desktop app with `npm start`, or run `npx ownership-audit serve` and open the address it prints.',
    };
  }
  const fromHash = tokenFromHash(win.location.hash);
  let stored: string | null = null;
  try {
    stored = win.sessionStorage?.getItem(TOKEN_KEY) ?? null;
  } catch {
    stored = null;
  }
  const token = fromHash ?? stored;
  if (!token) {
    return {
      ok: false,
      title: 'Access token missing',
      message: 'The browser mode needs the access token that `ownership-audit serve` prints with its address.',
      hint: 'Open the full address from the terminal, including the part after "#token=".',
    };
  }
  if (fromHash) {
    try {
      win.sessionStorage?.setItem(TOKEN_KEY, fromHash);
      win.history?.replaceState(null, '', `${win.location.pathname}${win.location.search}`);
    } catch {
      // Private modes may refuse storage: the token stays in the address bar then.
    }
  }
  return { ok: true, client: createHttpClient(win.location.origin, token), mode: 'browser' };
}
