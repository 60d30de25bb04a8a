/**
 * The worker side in a utility process: there is no process.send there, only
 * process.parentPort. A Node child with a stand-in parentPort runs the bundled CLI's
 * `worker job` and must answer over that port: ready, then a typed error for a job kind
 * it does not know, then exit.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

it('worker job talks over process.parentPort when there is no IPC channel', () => {
  const script = `
    const { EventEmitter } = require('node:events');
    const port = new EventEmitter();
    port.postMessage = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
    Object.defineProperty(process, 'parentPort', { value: port });
    process.argv = [process.argv[0], ${JSON.stringify(resolve('dist/cli.cjs'))}, 'worker', 'job'];
    require(${JSON.stringify(resolve('dist/cli.cjs'))});
    setTimeout(() => port.emit('message', { data: { type: 'start', backend: 'cpu', job: { kind: 'bogus', payload: {}, deps: {} } } }), 50);
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  const messages = r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; error?: { code: string } });
  expect(
    messages.map((m) => m.type),
    r.stderr,
  ).toEqual(['ready', 'error']);
  expect(messages[1].error?.code).toBe('INVALID_ARGUMENT');
  expect(r.status).toBe(2);
});
