/**
 * The browser mode's server: loopback by default, the token on every API call and on the
 * event socket, limits and errors as Result JSON, security headers, the built renderer,
 * and a round trip through the browser client (fetch + WebSocket) the renderer uses.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AuditEvent, Result } from '../../src-shared/contract/api';
import { createHttpClient, type WebSocketConstructor } from '../../src-shared/contract/http-client';
import { startServer, type RunningServer, type ServerOptions } from '../../src-main/api/server';
import { smoke, useFakeService } from './fake-runner';

const newService = useFakeService();
const servers: RunningServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function rendererDir(built = true): string {
  const d = mkdtempSync(join(tmpdir(), 'oa-renderer-'));
  dirs.push(d);
  if (built) {
    writeFileSync(join(d, 'index.html'), '<!doctype html><title>Ownership Audit</title>');
    mkdirSync(join(d, 'assets'));
    writeFileSync(join(d, 'assets', 'app-1234.js'), 'console.log(1)');
  }
  return d;
}

async function serve(extra: Partial<ServerOptions> = {}) {
  const { service, runner } = newService();
  const server = await startServer({ service, rendererDir: rendererDir(), ...extra });
  servers.push(server);
  return { server, service, runner };
}

/** A raw request (headers and paths exactly as given, unlike fetch). */
function raw(
  server: RunningServer,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const auth = (server: RunningServer) => ({ Authorization: `Bearer ${server.token}` });
const errorCode = (body: string) => (JSON.parse(body) as Extract<Result<unknown>, { ok: false }>).error.code;

describe('binding and token', () => {
  it('listens on 127.0.0.1 with a 32-byte token in the printed address', async () => {
    const { server } = await serve();
    expect(server.host).toBe('127.0.0.1');
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/#token=${server.token}`);
  });

  it('refuses a host that is not loopback unless allowRemote is given', async () => {
    const { service } = newService();
    await expect(startServer({ service, rendererDir: rendererDir(), host: '0.0.0.0' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('answers 401 without the token or with a wrong one, and never sends CORS headers', async () => {
    const { server } = await serve();
    for (const headers of [
      {} as Record<string, string>,
      { Authorization: 'Bearer wrong' },
      { Authorization: `Basic ${server.token}` },
      { Authorization: `Bearer ${server.token}x` },
    ]) {
      const r = await raw(server, { method: 'POST', path: '/api/engineInfo', headers });
      expect(r.status).toBe(401);
      expect(errorCode(r.body)).toBe('UNAUTHORIZED');
      expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control'))).toEqual([]);
    }
  });

  it('refuses a Host header that is not a loopback name (DNS rebinding)', async () => {
    const { server } = await serve();
    const r = await raw(server, {
      method: 'POST',
      path: '/api/engineInfo',
      headers: { ...auth(server), Host: `evil.example:${server.port}` },
    });
    expect(r.status).toBe(403);
  });

  it('keeps the Host check on loopback even with allowRemote (issue 16)', async () => {
    const { server } = await serve({ allowRemote: true });
    const r = await raw(server, {
      method: 'POST',
      path: '/api/engineInfo',
      headers: { ...auth(server), Host: `evil.example:${server.port}` },
    });
    expect(r.status).toBe(403);
  });
});

describe('API errors as Result JSON', () => {
  it('answers 413 to a chunked body far over the limit instead of resetting the connection (issue 16)', async () => {
    const { server } = await serve({ maxBodyBytes: 1024 });
    const r = await new Promise<{ status: number; body: string }>((resolvePromise, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/checkSpec', headers: auth(server) },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      // No Content-Length: Transfer-Encoding chunked, 64 KiB in 1 KiB chunks (64x the limit).
      for (let i = 0; i < 64; i++) req.write('x'.repeat(1024));
      req.end();
    });
    expect([r.status, errorCode(r.body)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });

  it('404 for an unknown method, 405 for GET, 400 for a body that is not JSON, 413 past 1 MiB', async () => {
    const { server } = await serve();
    const unknown = await raw(server, { method: 'POST', path: '/api/formatDisk', headers: auth(server) });
    expect([unknown.status, errorCode(unknown.body)]).toEqual([404, 'UNKNOWN_METHOD']);
    const get = await raw(server, { path: '/api/engineInfo', headers: auth(server) });
    expect([get.status, errorCode(get.body)]).toEqual([405, 'METHOD_NOT_ALLOWED']);
    const notJson = await raw(server, {
      method: 'POST',
      path: '/api/getRun',
      headers: auth(server),
      body: '{runId: r-1',
    });
    expect([notJson.status, errorCode(notJson.body)]).toEqual([400, 'BAD_JSON']);
    const big = await raw(server, {
      method: 'POST',
      path: '/api/checkSpec',
      headers: { ...auth(server), 'Content-Type': 'application/json' },
      body: JSON.stringify({ spec: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect([big.status, errorCode(big.body)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const invalid = await raw(server, {
      method: 'POST',
      path: '/api/getRun',
      headers: auth(server),
      body: '{"runId": 7}',
    });
    expect([invalid.status, errorCode(invalid.body)]).toEqual([200, 'INVALID_ARGUMENT']);
    expect(invalid.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('the renderer', () => {
  it('serves index.html with a CSP that allows only itself and the event socket', async () => {
    const { server } = await serve();
    const r = await raw(server, { path: '/', headers: { Host: `127.0.0.1:${server.port}` } });
    expect(r.status).toBe(200);
    expect(r.body).toContain('Ownership Audit');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}/api/events`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(r.headers['x-frame-options']).toBe('DENY');
    const asset = await raw(server, { path: '/assets/app-1234.js' });
    expect([asset.status, asset.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
  });

  it('serves nothing outside its folder', async () => {
    const { server } = await serve();
    for (const path of ['/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd', '/assets/../../secret', '/%00']) {
      expect((await raw(server, { path })).status).toBe(404);
    }
  });

  it('says how to build the renderer when it is not built', async () => {
    const { server } = await serve({ rendererDir: rendererDir(false) });
    const r = await raw(server, { path: '/' });
    expect(r.status).toBe(503);
    expect(r.body).toContain('npm run build:renderer');
  });
});

describe('the browser client', () => {
  it('round-trips engineInfo, catalog and checkSpec over HTTP', async () => {
    const { server } = await serve();
    const client = createHttpClient(server.origin, server.token, WebSocket as unknown as WebSocketConstructor);
    const info = await client.engineInfo();
    expect(info).toMatchObject({ ok: true, value: { backend: 'wasm' } });
    const cat = await client.catalog();
    expect(cat.ok && cat.value.presets[0].id).toBe('smoke');
    const check = await client.checkSpec({ spec: smoke(), workers: 2 });
    expect(check.ok && check.value.estimate?.jobs).toBe(9);
    const bad = await client.getRun({ runId: 'nope' });
    expect(bad.ok ? '' : bad.error.code).toBe('INVALID_ARGUMENT');
    const wrong = createHttpClient(server.origin, 'wrong-token', WebSocket as unknown as WebSocketConstructor);
    expect(await wrong.engineInfo()).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
  });

  it('reports an unreachable server as a NETWORK error instead of throwing', async () => {
    const { server } = await serve();
    const client = createHttpClient(server.origin, server.token, WebSocket as unknown as WebSocketConstructor);
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    expect(await client.engineInfo()).toMatchObject({ ok: false, error: { code: 'NETWORK' } });
  });

  it('receives run events over the WebSocket, and reconnects when the server comes back', async () => {
    const { server, service, runner } = await serve();
    const connections: boolean[] = [];
    let ready: () => void = () => undefined;
    const client = createHttpClient(server.origin, server.token, WebSocket as unknown as WebSocketConstructor, {
      minBackoffMs: 20,
      maxBackoffMs: 100,
      onConnection: (c) => {
        connections.push(c);
        if (c) ready();
      },
    });
    const events: AuditEvent[] = [];
    const off = client.onEvent((e) => events.push(e));
    await new Promise<void>((r) => (ready = r));
    const started = await client.startRun({ spec: smoke() });
    const runId = started.ok ? started.value.runId : '';
    await expect.poll(() => events.map((e) => e.type)).toEqual(['run', 'progress']);
    expect(events[0]).toEqual({ type: 'run', runId, status: 'running', jobs: 1, done: 0 });

    // The server restarts on the same port with the same token: the client comes back by itself.
    const reconnected = new Promise<void>((r) => (ready = r));
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    servers.push(await startServer({ service, rendererDir: rendererDir(), port: server.port, token: server.token }));
    await reconnected;
    runner.runs[0].finish('completed');
    await expect.poll(() => events.at(-1)).toMatchObject({ type: 'run', runId, status: 'completed' });
    expect(connections[0]).toBe(true);
    expect(connections[1]).toBe(false);
    expect(connections.at(-1)).toBe(true);
    off();
  });
});

describe('the event socket refuses', () => {
  it('a wrong token in the first message (close 4401) and in the query (401)', async () => {
    const { server } = await serve();
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`);
    const code = await new Promise<number>((r) => {
      ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: 'wrong' })));
      ws.on('close', (c) => r(c));
    });
    expect(code).toBe(4401);
    const status = await new Promise<number>((r) => {
      const q = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=wrong`);
      q.on('unexpected-response', (_req, res) => r(res.statusCode ?? 0));
      q.on('error', () => undefined);
    });
    expect(status).toBe(401);
  });

  it('a socket that never authenticates (close 4408), and a foreign Origin (403)', async () => {
    const { server } = await serve({ authTimeoutMs: 50 });
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`);
    expect(await new Promise<number>((r) => ws.on('close', (c) => r(c)))).toBe(4408);
    const status = await new Promise<number>((r) => {
      const o = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`, {
        origin: 'https://evil.example',
      });
      o.on('unexpected-response', (_req, res) => r(res.statusCode ?? 0));
      o.on('error', () => undefined);
    });
    expect(status).toBe(403);
  });

  it('accepts the token in the query and then pushes events', async () => {
    const { server, service } = await serve();
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`);
    const messages: unknown[] = [];
    await new Promise<void>((r) => ws.on('message', (d) => (messages.push(JSON.parse(String(d))), r())));
    expect(messages[0]).toEqual({ type: 'ready' });
    await service.startRun({ spec: smoke() });
    await expect.poll(() => messages.length).toBeGreaterThanOrEqual(2);
    expect(messages[1]).toMatchObject({ type: 'event', event: { type: 'run', status: 'running' } });
    ws.close();
  });
});

describe('report downloads (browser mode: a file, not a server path)', () => {
  it("sends the run's newest stored report with its name; refuses no token, a bad run id and a missing report", async () => {
    const { server, service } = await serve();
    const run = service.store.createRun({
      name: 'x',
      spec: smoke(),
      specHash: 'h',
      backend: 'wasm',
      versions: {},
    });
    const dir = mkdtempSync(join(tmpdir(), 'oa-report-'));
    dirs.push(dir);
    const file = join(dir, `report-${run.id}.csv`);
    writeFileSync(file, 'row_id,label\nfinetune,FT\n');
    const post = (body: unknown, token: string | null = server.token) =>
      raw(server, {
        method: 'POST',
        path: '/download/report',
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    expect((await post({ runId: run.id, format: 'csv' }, null)).status).toBe(401);
    const none = await post({ runId: run.id, format: 'csv' });
    expect(none.status).toBe(404);
    expect((JSON.parse(none.body) as Result<unknown>).ok).toBe(false);
    expect(none.body).toContain('REPORT_NOT_FOUND');
    expect((await post({ runId: '../../etc/passwd', format: 'csv' })).status).toBe(400);
    expect((await post({ runId: run.id, format: 'exe' })).status).toBe(400);

    service.store.addReport({ runId: run.id, format: 'csv', path: file });
    const ok = await post({ runId: run.id, format: 'csv' });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toContain('text/csv');
    expect(ok.headers['content-disposition']).toBe(`attachment; filename="report-${run.id}.csv"`);
    expect(ok.body).toBe('row_id,label\nfinetune,FT\n');

    // The browser client gets the bytes and the name.
    const client = createHttpClient(server.origin, server.token, undefined);
    const got = await client.downloadReport({ runId: run.id, format: 'csv' });
    expect(got.ok && got.value.name).toBe(`report-${run.id}.csv`);
    expect(got.ok && (await got.value.blob.text())).toBe('row_id,label\nfinetune,FT\n');
    const missing = await client.downloadReport({ runId: run.id, format: 'pdf' });
    expect(!missing.ok && missing.error.code).toBe('REPORT_NOT_FOUND');
  });
});
