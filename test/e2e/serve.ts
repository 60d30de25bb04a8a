/**
 * What the browser-mode end-to-end files share: `ownership-audit serve` as a child process on
 * a data folder (its printed address and token, stop and restart), the API called with the
 * token, and the check that nothing makes a page scroll sideways.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Result } from '../../src-shared/contract/api';
import { CHROMIUM, CHROMIUM_ARGS, ROOT } from './env';

export class ServeProcess {
  /** The address serve printed, token fragment included. */
  url = '';
  origin = '';
  token = '';
  log = '';
  private child: ChildProcess | undefined;

  constructor(private readonly home: string) {}

  /** Starts serve (port 0: any free one) and resolves once it printed its address. */
  start(port = 0): Promise<void> {
    this.url = '';
    this.log = '';
    const child = spawn(
      process.execPath,
      [join(ROOT, 'dist', 'cli.cjs'), 'serve', '--port', String(port), '--home', this.home],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OWNERSHIP_AUDIT_HOME: this.home } },
    );
    this.child = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve printed no address within 90 s:\n${this.log}`)), 90_000);
      const onData = (d: Buffer) => {
        this.log += d.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+)\/#token=([A-Za-z0-9_-]+)/.exec(this.log);
        if (m && !this.url) {
          [this.url, this.origin, this.token] = [m[0], m[1], m[2]];
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (!this.url) reject(new Error(`serve exited with ${code}:\n${this.log}`));
      });
    });
  }

  /** Stops serve (SIGINT: running audits pause), waiting for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }

  /** One API call with the token; an error result throws with its code and message. */
  async api<T>(method: string, input?: unknown): Promise<T> {
    const res = await fetch(`${this.origin}/api/${method}`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(input === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(input === undefined ? {} : { body: JSON.stringify(input) }),
    });
    const r = (await res.json()) as Result<T>;
    if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
    return r.value;
  }
}

/** Debian's Chromium with one page of `viewport`; the page's uncaught errors and console errors go to `errors`. */
export async function launchPage(
  viewport: { width: number; height: number },
  errors: string[],
): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return { browser, page };
}

/**
 * What makes the page scroll sideways: the outermost elements reaching past the window's
 * right edge (empty when nothing does). Inside a scrolling box (a wide table) is fine.
 */
export async function sidewaysOverflow(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    if (document.documentElement.scrollWidth <= window.innerWidth + 1) return [];
    const out: string[] = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right <= window.innerWidth + 1 || r.width === 0) continue;
      const parent = el.parentElement?.getBoundingClientRect();
      if (parent && parent.right > window.innerWidth + 1) continue;
      // Inside a box that scrolls sideways by itself (a wide table's wrapper) is fine.
      let scroller = el.parentElement;
      while (scroller && !/(auto|scroll)/.test(getComputedStyle(scroller).overflowX)) scroller = scroller.parentElement;
      if (scroller && scroller !== document.documentElement && scroller !== document.body) continue;
      out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} right=${Math.round(r.right)}`);
    }
    return out.length ? out : ['(the document, from no single element)'];
  });
}
