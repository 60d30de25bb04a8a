/**
 * Serves the built renderer (out/renderer) to the browser mode: GET and HEAD only, no
 * directory listings, nothing outside the folder, and a page that says how to build it
 * when it has not been built.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { rendererCsp } from './security';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export const NOT_BUILT_MESSAGE =
  'The workbench renderer is not built (`npm install` builds it): run `npm run build:renderer`, then start `npx ownership-audit serve` again.';

export function rendererBuilt(dir: string): boolean {
  return existsSync(join(dir, 'index.html'));
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/** The file under `root` a URL path names, or undefined for anything outside it. */
export function resolveStatic(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const rel = decoded === '/' || decoded === '' ? 'index.html' : normalize(decoded).replace(/^([/\\])+/, '');
  const base = resolve(root);
  const file = resolve(base, rel);
  return file === base || !file.startsWith(base + sep) ? undefined : file;
}

export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, urlPath: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'Method not allowed');
  }
  if (!rendererBuilt(root)) return send(res, 503, NOT_BUILT_MESSAGE);
  const file = resolveStatic(root, urlPath);
  let isFile = false;
  try {
    isFile = file !== undefined && statSync(file).isFile();
  } catch {
    isFile = false;
  }
  if (!file || !isFile) return send(res, 404, 'Not found');
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  if (type.startsWith('text/html')) res.setHeader('Content-Security-Policy', rendererCsp(req.headers.host));
  // Vite's assets carry a content hash in their names; index.html must always be fresh.
  res.setHeader('Cache-Control', urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': statSync(file).size });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).pipe(res);
}
