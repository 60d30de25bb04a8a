// The browser mode as a newcomer meets it: starts `ownership-audit serve` on loopback with a
// fresh data folder, opens the printed address in Debian's Chromium (playwright-core) and
// waits for the wizard's first step ("New audit"). Exits 0 when the wizard shows, 1 with
// what was seen otherwise. `.ci/run` runs it after the bare-environment install.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// A ceiling for a hang, not a speed check: the server is up in about a second.
const LISTEN_CEILING_MS = 120_000;

const home = mkdtempSync(join(tmpdir(), 'oa-serve-check-'));
const server = spawn(
  process.execPath,
  [join(ROOT, 'dist', 'cli.cjs'), 'serve', '--json', '--port', '0', '--home', home],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
);

function finish(code, message) {
  process.stderr.write(`${message}\n`);
  server.kill('SIGTERM');
  rmSync(home, { recursive: true, force: true });
  process.exit(code);
}

const url = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error('serve printed no address')), LISTEN_CEILING_MS);
  server.stdout.on('data', (d) => {
    out += d.toString();
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (line) {
      clearTimeout(timer);
      resolve(JSON.parse(line).url);
    }
  });
  server.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
}).catch((e) => finish(1, `serve check failed: ${e.message}`));

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
let verdict;
try {
  const page = await browser.newPage();
  await page.goto(url);
  try {
    await page.getByRole('heading', { name: 'New audit' }).waitFor({ timeout: LISTEN_CEILING_MS });
    verdict = [0, `serve check: ${new URL(url).origin} shows the wizard ("New audit")`];
  } catch (e) {
    const body = await page.textContent('body').catch(() => '');
    verdict = [1, `serve check failed: ${e.message}\npage text: ${String(body).slice(0, 500)}`];
  }
} finally {
  await browser.close().catch(() => {});
}
finish(...verdict);
