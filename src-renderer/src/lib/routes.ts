/**
 * Hash routes: one address per screen and per run, so Back works and a run can be linked.
 *   #/new            the wizard            #/runs/ID   a run in the monitor
 *   #/history        past runs             #/calibrations
 * In browser mode a link may carry the access token after the route: `#/runs/ID?token=...`
 * (always in the fragment, which browsers never send to a server; never in a query string).
 * The legacy `#token=...` of `serve`'s first address is a route-less fragment with a token.
 */
import type { Screen } from './app.svelte';

export interface Route {
  screen: Screen;
  runId?: string;
}

/** Run ids are made by the main side: letters, digits and '-' (see the contract's runId). */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

const PATHS: Record<Exclude<Screen, 'run'>, string> = {
  wizard: '/new',
  history: '/history',
  calibrations: '/calibrations',
};

/** The route part of a fragment, without the leading '#' and any '?token=...'. */
function routePart(hash: string): string {
  const h = hash.replace(/^#/, '');
  const q = h.indexOf('?');
  return q >= 0 ? h.slice(0, q) : h;
}

/** The route a fragment names; null for an empty or unknown one (the app keeps its screen). */
export function parseRoute(hash: string): Route | null {
  const path = routePart(hash);
  if (!path.startsWith('/')) return null;
  const run = /^\/runs\/([^/]+)$/.exec(path);
  if (run) {
    const id = decodeURIComponent(run[1]);
    return RUN_ID.test(id) ? { screen: 'run', runId: id } : null;
  }
  const entry = Object.entries(PATHS).find(([, p]) => p === path);
  return entry ? { screen: entry[0] as Screen } : null;
}

/** The fragment of a route, with the token when a link must work in another tab. */
export function formatRoute(route: Route, token?: string): string {
  const path = route.screen === 'run' ? `/runs/${encodeURIComponent(route.runId ?? '')}` : PATHS[route.screen];
  return `#${path}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/** The token a fragment carries: `#/runs/ID?token=abc`, `#token=abc` or `#a=1&token=abc`; null when none. */
export function tokenFromHash(hash: string): string | null {
  const h = hash.replace(/^#/, '');
  const q = h.indexOf('?');
  const query = h.startsWith('/') ? (q >= 0 ? h.slice(q + 1) : '') : h;
  const token = new URLSearchParams(query).get('token');
  return token && token.trim() ? token.trim() : null;
}

/** The fragment without its token (what stays in the address bar once the token is read). */
export function withoutToken(hash: string): string {
  const path = routePart(hash);
  return path.startsWith('/') ? `#${path}` : '';
}
