/**
 * The browser mode's server (`ownership-audit serve`): the built renderer and the same API
 * the desktop app uses, over loopback HTTP and a WebSocket, guarded by a random token.
 *
 *   POST /api/<method>   Authorization: Bearer <token>, JSON body -> 200 + Result JSON
 *   GET  /api/events     WebSocket: auth first ({"type":"auth","token"} or ?token=), then
 *                        {"type":"ready"} and {"type":"event","event":AuditEvent} per event
 *   GET  /...            the renderer (out/renderer), with a strict CSP
 *
 * Bound to 127.0.0.1 unless told otherwise; another host needs allowRemote (the token then
 * is the only guard, and it travels unencrypted). On loopback, requests whose Host header is
 * not a loopback name are refused (DNS rebinding), with or without allowRemote. No CORS headers: other origins get nothing.
 * The protocol is documented for clients in src-shared/contract/api.ts.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { createReadStream, statSync } from 'node:fs';
import type { AuditEvent, Result } from '../../src-shared/contract/api';
import { DOWNLOAD_PATH } from '../../src-shared/contract/http-client';
import { AuditError } from '../engine/errors';
import { isApiMethod } from './dispatch';
import { failed } from './errors';
import { bearerToken, hostAllowed, isLoopbackHost, newToken, setCommonHeaders, tokensEqual } from './security';
import type { AuditService } from './service';
import { serveStatic } from './static-files';

export const MAX_BODY_BYTES = 1024 * 1024;
export const EVENTS_PATH = '/api/events';
/** WebSocket close codes: wrong token, and no auth message in time. */
export const WS_UNAUTHORIZED = 4401;
export const WS_AUTH_TIMEOUT = 4408;

export interface ServerOptions {
  service: Pick<AuditService, 'dispatch' | 'onEvent'> & Partial<Pick<AuditService, 'reportFile'>>;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Needed to bind a host that is not loopback. */
  allowRemote?: boolean;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** Default: 32 random bytes. */
  token?: string;
  maxBodyBytes?: number;
  authTimeoutMs?: number;
}

export interface RunningServer {
  /** The address to open: http://HOST:PORT/#token=TOKEN */
  url: string;
  /** http://HOST:PORT */
  origin: string;
  token: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, result: Result<unknown>): void {
  const body = JSON.stringify(result);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/** Past this much, a client still sending an oversized body is cut off (it has had its 413). */
const DRAIN_FACTOR = 64;

/**
 * The body as text, or 'too-large' as soon as it passes the limit (declared or, for a
 * chunked body, counted). The rest is read and dropped while the 413 goes out, so the
 * client finishes sending and reads the answer instead of meeting a reset; only a client
 * that keeps sending far past the limit is cut off.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | 'too-large'> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(req.headers['content-length'] ?? 0) > limit;
    if (over) resolveBody('too-large');
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (!over && size <= limit) return void chunks.push(c);
      if (!over) {
        over = true;
        chunks.length = 0;
        resolveBody('too-large');
      }
      if (size > limit * DRAIN_FACTOR) req.destroy();
    });
    req.on('end', () => {
      if (!over) resolveBody(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function rejectUpgrade(socket: Socket, status: number): void {
  socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !opts.allowRemote) {
    throw new AuditError(
      'INVALID_ARGUMENT',
      `Refusing to listen on ${host}: the workbench only listens on loopback addresses by default`,
      {
        hint: 'Use --host 127.0.0.1 and an SSH tunnel from the other machine, or pass --allow-remote if you accept that the token travels unencrypted.',
      },
    );
  }
  const token = opts.token ?? newToken();
  const limit = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  let port = 0;
  // On loopback the Host check always holds (DNS rebinding targets loopback servers, and
  // --allow-remote changes nothing there). Bound elsewhere with allowRemote, clients name the
  // machine by any address or name, so the token is the only guard (documented in the README).
  const anyHost = Boolean(opts.allowRemote) && !isLoopbackHost(host);
  const checkHost = (h: string | undefined) => anyHost || hostAllowed(h, port);

  const handleApi = async (req: IncomingMessage, res: ServerResponse, method: string) => {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return sendJson(
        res,
        405,
        failed('METHOD_NOT_ALLOWED', `${req.method} is not allowed on the API`, 'Call API methods with POST.'),
      );
    }
    if (!tokensEqual(bearerToken(req), token)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendJson(
        res,
        401,
        failed(
          'UNAUTHORIZED',
          'Missing or wrong access token',
          'Open the full address `ownership-audit serve` printed, including #token=...',
        ),
      );
    }
    if (!isApiMethod(method))
      return sendJson(
        res,
        404,
        failed(
          'UNKNOWN_METHOD',
          `Unknown API method "${method.slice(0, 100)}"`,
          'See API_METHODS in src-shared/contract/api.ts.',
        ),
      );
    const body = await readBody(req, limit);
    if (body === 'too-large') {
      // No `Connection: close` here: closing while the client still sends would reset the
      // connection before it reads the 413 (readBody drops the rest of the body meanwhile).
      return sendJson(
        res,
        413,
        failed(
          'PAYLOAD_TOO_LARGE',
          `The request body is larger than ${limit} bytes`,
          'Send smaller inputs; specs and paths are far below this limit.',
        ),
      );
    }
    let input: unknown;
    if (body.trim() !== '') {
      try {
        input = JSON.parse(body);
      } catch (e) {
        return sendJson(
          res,
          400,
          failed(
            'BAD_JSON',
            `The request body is not JSON: ${(e as Error).message}`,
            'Send the method input as a JSON object (no body for methods without input).',
          ),
        );
      }
    }
    sendJson(res, 200, await opts.service.dispatch(method, input));
  };

  /** Content types of the report formats a browser downloads. */
  const REPORT_TYPES: Record<string, string> = {
    pdf: 'application/pdf',
    html: 'text/html; charset=utf-8',
    csv: 'text/csv; charset=utf-8',
    json: 'application/json',
  };

  // A stored report as a file (browser mode's Export): POST with the token in the header and
  // {runId, format} in the body; only a file the store records as that run's report is sent.
  const handleDownload = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return sendJson(res, 405, failed('METHOD_NOT_ALLOWED', `${req.method} is not allowed here`, 'Use POST.'));
    }
    if (!tokensEqual(bearerToken(req), token)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendJson(
        res,
        401,
        failed('UNAUTHORIZED', 'Missing or wrong access token', 'Open the address serve printed.'),
      );
    }
    const body = await readBody(req, limit);
    let input: { runId?: unknown; format?: unknown } = {};
    try {
      input = body === 'too-large' ? {} : (JSON.parse(body) as typeof input);
    } catch {
      input = {};
    }
    const { runId, format } = input;
    if (
      typeof runId !== 'string' ||
      !/^r-[A-Za-z0-9-]{1,64}$/.test(runId) ||
      typeof format !== 'string' ||
      !REPORT_TYPES[format]
    )
      return sendJson(
        res,
        400,
        failed(
          'INVALID_ARGUMENT',
          'A download names a run id and a format (pdf, html, csv or json)',
          'Send {"runId", "format"}.',
        ),
      );
    if (!opts.service.reportFile)
      return sendJson(res, 404, failed('UNKNOWN_METHOD', 'This server has no report downloads', 'Use exportReport.'));
    let file: { path: string; name: string };
    try {
      file = opts.service.reportFile({ runId, format });
    } catch (e) {
      const err = e as { code?: string; message?: string; hint?: string };
      return sendJson(res, 404, failed(err.code ?? 'REPORT_NOT_FOUND', err.message ?? String(e), err.hint ?? ''));
    }
    res.writeHead(200, {
      'Content-Type': REPORT_TYPES[format],
      'Content-Length': statSync(file.path).size,
      'Content-Disposition': `attachment; filename="${file.name.replace(/["\\\r\n]/g, '_')}"`,
    });
    createReadStream(file.path).pipe(res);
  };

  const server = createServer((req, res) => {
    setCommonHeaders(res);
    if (!checkHost(req.headers.host)) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
      return void res.end('Host not allowed: open the workbench through 127.0.0.1 or localhost.');
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === DOWNLOAD_PATH) {
      handleDownload(req, res).catch((e: unknown) => {
        if (!res.headersSent)
          sendJson(res, 500, failed('INTERNAL', e instanceof Error ? e.message : String(e), 'See the server output.'));
        else res.destroy();
      });
      return;
    }
    if (path === '/api' || path.startsWith('/api/')) {
      handleApi(req, res, path.slice('/api/'.length)).catch((e: unknown) => {
        if (!res.headersSent)
          sendJson(res, 500, failed('INTERNAL', e instanceof Error ? e.message : String(e), 'See the server output.'));
        else res.destroy();
      });
      return;
    }
    serveStatic(opts.rendererDir, req, res, path);
  });

  // Events: a socket only counts once it has shown the token.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  const authed = new Set<WebSocket>();
  const alive = new WeakMap<WebSocket, boolean>();
  const admit = (ws: WebSocket) => {
    authed.add(ws);
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.send(JSON.stringify({ type: 'ready' }));
  };
  wss.on('connection', (ws: WebSocket, _req: IncomingMessage, preAuthed: boolean) => {
    ws.on('close', () => authed.delete(ws));
    ws.on('error', () => authed.delete(ws));
    if (preAuthed) return admit(ws);
    const timer = setTimeout(() => ws.close(WS_AUTH_TIMEOUT, 'no auth message'), opts.authTimeoutMs ?? 5000);
    ws.once('message', (data) => {
      clearTimeout(timer);
      let msg: { type?: unknown; token?: unknown } = {};
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        // not JSON: refused below
      }
      if (msg.type === 'auth' && typeof msg.token === 'string' && tokensEqual(msg.token, token)) admit(ws);
      else ws.close(WS_UNAUTHORIZED, 'unauthorized');
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== EVENTS_PATH) return rejectUpgrade(socket, 404);
    if (!checkHost(req.headers.host)) return rejectUpgrade(socket, 403);
    // Browsers send Origin on WebSocket handshakes and apply no same-origin rule to them.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return rejectUpgrade(socket, 403);
    const queryToken = url.searchParams.get('token');
    if (queryToken !== null && !tokensEqual(queryToken, token)) return rejectUpgrade(socket, 401);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req, queryToken !== null));
  });

  const unsubscribe = opts.service.onEvent((event: AuditEvent) => {
    const frame = JSON.stringify({ type: 'event', event });
    for (const ws of authed) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      // A slow client misses progress ticks rather than growing our memory; status changes always go.
      if (event.type === 'progress' && ws.bufferedAmount > 1024 * 1024) continue;
      ws.send(frame);
    }
  });
  // Dead connections (a laptop lid closed) are dropped after a missed ping.
  const heartbeat = setInterval(() => {
    for (const ws of authed) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, 30_000);
  heartbeat.unref();

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const origin = `http://${urlHost}:${port}`;

  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    host,
    port,
    close: async () => {
      unsubscribe();
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
