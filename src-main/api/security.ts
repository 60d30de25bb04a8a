/**
 * The browser mode's guards: the access token (random, compared in constant time), which
 * hosts count as loopback, the Host header check against DNS rebinding, and the security
 * headers of every response (a strict CSP for the renderer, no CORS at all: the API is for
 * the page this server serves, never for other origins).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** 32 random bytes, base64url: 43 characters, safe in a URL fragment and a header. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant time in the content (hashing first also hides the length). */
export function tokensEqual(given: string | undefined | null, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Whether a request's Host header names this server by a loopback name. A page on another
 * site that rebinds its DNS name to 127.0.0.1 sends its own name here and is refused.
 */
export function hostAllowed(hostHeader: string | undefined, port: number): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim());
  if (!m) return false;
  return isLoopbackHost(m[1]) && (m[2] === undefined ? port === 80 : Number(m[2]) === port);
}

/** A Host header fit to appear in the CSP (letters, digits, dots, colons, brackets, dashes). */
function safeHost(hostHeader: string | undefined): string | undefined {
  return hostHeader && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(hostHeader) ? hostHeader : undefined;
}

/** The renderer's CSP: its own files, inline styles (Svelte and echarts set them), data: images, and the event socket. */
export function rendererCsp(hostHeader: string | undefined): string {
  const host = safeHost(hostHeader);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self'${host ? ` ws://${host}/api/events` : ''}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** Headers every response carries. No Access-Control-* header is ever sent. */
export function setCommonHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}
