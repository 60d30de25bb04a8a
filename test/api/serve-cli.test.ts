/**
 * `ownership-audit serve` as users start it: the address with its token on stdout, bound to
 * 127.0.0.1, answering the API with that token; a non-loopback host is refused unless
 * --allow-remote is given; reads only under the read roots (--allow-dir adds one); Ctrl-C
 * stops it cleanly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const CLI = resolve('dist/cli.cjs');
let home: string;
let allowed: string;
let other: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'oa-serve-'));
  allowed = mkdtempSync(join(tmpdir(), 'oa-serve-allowed-'));
  other = mkdtempSync(join(tmpdir(), 'oa-serve-other-'));
});
afterAll(() => {
  for (const d of [home, allowed, other]) rmSync(d, { recursive: true, force: true });
});

it('prints the tokened loopback address, serves the API with it, and stops on SIGINT', async () => {
  const child = spawn(process.execPath, [CLI, '--backend', 'wasm', 'serve', '--allow-dir', allowed, '--json'], {
    env: { ...process.env, OWNERSHIP_AUDIT_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const line = await new Promise<string>((resolveLine, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolveLine(out.split('\n')[0]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    const info = JSON.parse(line) as { url: string; origin: string; token: string; host: string; port: number };
    expect(info.host).toBe('127.0.0.1');
    expect(info.url).toBe(`http://127.0.0.1:${info.port}/#token=${info.token}`);
    const res = await fetch(`${info.origin}/api/engineInfo`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${info.token}` },
    });
    expect(await res.json()).toMatchObject({ ok: true, value: { backend: 'wasm', home } });
    expect((await fetch(`${info.origin}/api/engineInfo`, { method: 'POST' })).status).toBe(401);
    const inspect = async (path: string) =>
      (await (
        await fetch(`${info.origin}/api/inspectModel`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${info.token}` },
          body: JSON.stringify({ path }),
        })
      ).json()) as { ok: boolean; error?: { code: string } };
    expect((await inspect(join(allowed, 'model'))).error?.code).toBe('MODEL_NOT_FOUND');
    expect((await inspect(join(other, 'model'))).error?.code).toBe('PATH_NOT_ALLOWED');
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

it('refuses a host that is not loopback without --allow-remote', () => {
  const r = spawnSync(process.execPath, [CLI, '--backend', 'wasm', 'serve', '--host', '0.0.0.0', '--json'], {
    env: { ...process.env, OWNERSHIP_AUDIT_HOME: home },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status).toBe(2);
  expect(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}')).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  expect(r.stderr).toContain('--allow-remote');
});
