/**
 * Which bridge the renderer talks through: `window.auditApi` inside Electron (the preload's
 * one-function-per-method object), or the browser mode's HTTP + WebSocket client when the
 * page was opened from the URL `ownership-audit serve` prints (`http://127.0.0.1:PORT/#token=...`).
 *
 * The token leaves the address bar as soon as it is read (kept in sessionStorage so a
 * reload still works), so it does not end up in the history, bookmarks or screenshots.
 */
import type { AuditClient } from '../../../src-shared/contract/api';
import { tokenFromHash, withoutToken } from './routes';

export type ClientChoice =
  | { ok: true; client: AuditClient; mode: 'electron' | 'browser'; token?: string }
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

export { tokenFromHash };

function looksLikeClient(x: unknown): x is AuditClient {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as { engineInfo?: unknown }).engineInfo === 'function' &&
    typeof (x as { onEvent?: unknown }).onEvent === 'function'
  );
}

/**
 * Stores the token for this tab (a reload keeps working) and takes it out of the address bar;
 * the route stays, so a linked run still opens.
 */
function keepToken(win: WindowLike, token: string): void {
  try {
    win.sessionStorage?.setItem(TOKEN_KEY, token);
    win.history?.replaceState(
      null,
      '',
      `${win.location.pathname}${win.location.search}${withoutToken(win.location.hash)}`,
    );
  } catch {
    // Private modes may refuse storage: the token stays in the address bar then, where a reload finds it.
  }
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
  if (fromHash) keepToken(win, fromHash);
  return { ok: true, client: createHttpClient(win.location.origin, token), mode: 'browser', token };
}

/**
 * A token pasted into the address bar of an open tab (a restarted `serve` prints a new one):
 * stored for this tab, so the caller reloads the page with it. Null when the fragment has no
 * new token.
 */
export function adoptNewToken(win: WindowLike, current: string | undefined): string | null {
  const token = tokenFromHash(win.location.hash);
  if (!token || token === current) return null;
  keepToken(win, token);
  return token;
}
