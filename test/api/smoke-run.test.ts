/**
 * One real audit through the browser mode, as the workbench drives it: the smoke preset
 * started over HTTP, its events over the WebSocket, the finished run read back with getRun,
 * whose table must be the one the store holds (loadResultsTable). About 40 s on 2 cores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AuditEvent } from '../../src-shared/contract/api';
import { isLossKey } from '../../src-shared/domain/losses';
import { createHttpClient, type WebSocketConstructor } from '../../src-shared/contract/http-client';
import { createAuditService, type AuditService } from '../../src-main/api/service';
import { startServer, type RunningServer } from '../../src-main/api/server';
import { loadResultsTable } from '../../src-main/runner/results';
import { databasePath, openStore } from '../../src-main/store';
import { CLI, smoke } from './fake-runner';

let home: string;
let service: AuditService;
let server: RunningServer;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'oa-smoke-http-'));
  service = createAuditService({ home, backend: 'wasm', workerEntry: CLI, workerArgs: ['worker', 'job'] });
  server = await startServer({ service, rendererDir: join(home, 'no-renderer') });
});

afterAll(async () => {
  await server?.close();
  await service?.close();
  rmSync(home, { recursive: true, force: true });
});

it('runs the smoke preset over HTTP to completion; getRun shows the stored table', async () => {
  const events: AuditEvent[] = [];
  let connected: () => void = () => undefined;
  const ready = new Promise<void>((r) => (connected = r));
  const client = createHttpClient(server.origin, server.token, WebSocket as unknown as WebSocketConstructor, {
    onConnection: (c) => c && connected(),
  });
  const off = client.onEvent((e) => events.push(e));
  await ready;

  const started = await client.startRun({ spec: smoke(), workers: 2 });
  expect(started.ok, JSON.stringify(started)).toBe(true);
  const runId = started.ok ? started.value.runId : '';
  const finished = await new Promise<AuditEvent>((resolveFinished) => {
    const poll = setInterval(() => {
      const last = events.find((e) => e.type === 'run' && e.runId === runId && e.status !== 'running');
      if (last) {
        clearInterval(poll);
        resolveFinished(last);
      }
    }, 200);
  });
  off();
  expect(finished).toMatchObject({ type: 'run', status: 'completed', jobs: 9, done: 9 });
  expect(events.some((e) => e.type === 'progress' && e.runId === runId)).toBe(true);
  expect(events.filter((e) => e.type === 'job' && e.status === 'done')).toHaveLength(9);

  const detail = await client.getRun({ runId });
  expect(detail.ok, JSON.stringify(detail).slice(0, 500)).toBe(true);
  if (!detail.ok) return;
  expect(detail.value.run).toMatchObject({ status: 'completed', active: false, done: 9, jobs: 9 });
  const store = openStore(databasePath(home), { readonly: true });
  try {
    expect(detail.value.table).toEqual(JSON.parse(JSON.stringify(loadResultsTable(store, runId))));
  } finally {
    store.close();
  }
  expect(detail.value.table.rows.map((r) => r.ownership.total)).toEqual([1, 1, 1]);
  expect(detail.value.trajectories.length).toBeGreaterThan(0);
  expect(Object.keys(detail.value.curves)).toHaveLength(3);
  // Every loss curve is kept with the run: each job that streamed losses has them in getRun.
  const streamed = new Set(
    events
      .filter((e) => e.type === 'progress' && e.runId === runId && Object.keys(e.event.values ?? {}).some(isLossKey))
      .map((e) => (e as { key: string }).key),
  );
  expect(streamed.size).toBeGreaterThan(0);
  expect(Object.keys(detail.value.losses ?? {}).sort()).toEqual([...streamed].sort());
  const runs = await client.listRuns({ status: 'completed' });
  expect(runs.ok && runs.value.map((r) => r.id)).toEqual([runId]);
});
