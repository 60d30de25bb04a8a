/**
 * HTML to PDF through a Chromium found on the machine (playwright-core drives it; no
 * browser is downloaded). Search order: `$OWNERSHIP_AUDIT_CHROMIUM`, then the usual
 * install locations of Chromium, Chrome and Edge for the platform. When none exists the
 * error names what to install. (The desktop app prints with Electron's printToPDF instead.)
 */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import { AuditError } from '../engine/errors';
import { writeFileAtomic } from '../engine/files/atomic-write';

export const CHROMIUM_ENV = 'OWNERSHIP_AUDIT_CHROMIUM';

/** Flags for a headless print: no sandbox (containers, root), no GPU, no network chatter. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where Chromium-family browsers usually live, per platform. */
export function chromiumCandidates(
  platform: NodeJS.Platform = process.platform,
  env: Record<string, string | undefined> = process.env,
): string[] {
  if (platform === 'darwin') {
    return [
      '/Applications/Chromium.app/Contents/MacOS/Chromium',
      '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
      '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
      ...(env.HOME
        ? [
            `${env.HOME}/Applications/Google Chrome.app/Contents/MacOS/Google Chrome`,
            `${env.HOME}/Applications/Chromium.app/Contents/MacOS/Chromium`,
          ]
        : []),
    ];
  }
  if (platform === 'win32') {
    const roots = [
      env.PROGRAMFILES ?? 'C:\\Program Files',
      env['PROGRAMFILES(X86)'] ?? 'C:\\Program Files (x86)',
      env.LOCALAPPDATA,
    ].filter((r): r is string => Boolean(r));
    return roots.flatMap((r) => [
      `${r}\\Google\\Chrome\\Application\\chrome.exe`,
      `${r}\\Chromium\\Application\\chrome.exe`,
      `${r}\\Microsoft\\Edge\\Application\\msedge.exe`,
    ]);
  }
  return [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/snap/bin/chromium',
    '/usr/bin/microsoft-edge',
  ];
}

export interface FindChromiumOptions {
  env?: Record<string, string | undefined>;
  /** Paths to try after the environment variable (default: chromiumCandidates()). */
  candidates?: string[];
  exists?: (path: string) => boolean;
}

const INSTALL_HINT = `Install Chromium (Debian/Ubuntu: \`apt-get install chromium\`; macOS: Google Chrome or Chromium; Windows: Chrome or Edge), or set ${CHROMIUM_ENV} to a Chrome/Chromium executable. \`--format html\` writes the report without a browser.`;

/** The browser to print with; CHROMIUM_NOT_FOUND when none is found. */
export function findChromium(opts: FindChromiumOptions = {}): string {
  const env = opts.env ?? process.env;
  const exists = opts.exists ?? ((p: string) => existsSync(p) && statSync(p).isFile());
  const fromEnv = env[CHROMIUM_ENV]?.trim();
  if (fromEnv) {
    // An explicit setting that is wrong is an error, not a reason to pick another browser.
    if (exists(fromEnv)) return fromEnv;
    throw new AuditError('CHROMIUM_NOT_FOUND', `${CHROMIUM_ENV} points to ${fromEnv}, which does not exist`, {
      hint: INSTALL_HINT,
    });
  }
  const candidates = opts.candidates ?? chromiumCandidates();
  const found = candidates.find((p) => exists(p));
  if (found) return found;
  throw new AuditError(
    'CHROMIUM_NOT_FOUND',
    `No Chromium or Chrome found to print the PDF (looked in: ${candidates.join(', ') || 'nothing'})`,
    { hint: INSTALL_HINT },
  );
}

export interface RenderPdfOptions extends FindChromiumOptions {
  /** Use this browser; skips the search. */
  executablePath?: string;
  /** Footer text left of the page number. */
  footer?: string;
  /** Launch and render time limit. Default 60 s. */
  timeoutMs?: number;
}

export interface RenderedPdf {
  path: string;
  bytes: number;
  pages: number;
  chromium: string;
  browserVersion: string;
}

/** Pages of a PDF written by Chromium (page objects, not the page tree). */
export function countPdfPages(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? []).length;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Prints `html` to `outFile` (A4, backgrounds on, page numbers in the footer). The file is
 * written beside the target and renamed into place, so a failed print leaves no half file.
 */
export async function renderPdf(html: string, outFile: string, opts: RenderPdfOptions = {}): Promise<RenderedPdf> {
  const executablePath = opts.executablePath ?? findChromium(opts);
  const { chromium } = await import('playwright-core');
  const timeout = opts.timeoutMs ?? 60_000;
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout });
  mkdirSync(dirname(outFile), { recursive: true });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(timeout);
    await page.setContent(html, { waitUntil: 'load' });
    const pdf = await page.pdf({
      format: 'A4',
      printBackground: true,
      preferCSSPageSize: true,
      displayHeaderFooter: true,
      headerTemplate: '<div></div>',
      footerTemplate: `<div style="font-size:7pt;color:#777;width:100%;padding:0 15mm;display:flex;justify-content:space-between;font-family:'Liberation Sans',Arial,sans-serif"><span>${escapeHtml(opts.footer ?? 'Ownership Audit report')}</span><span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>`,
      margin: { top: '14mm', bottom: '16mm', left: '15mm', right: '15mm' },
    });
    await writeFileAtomic(outFile, pdf);
    return {
      path: outFile,
      bytes: pdf.length,
      pages: countPdfPages(pdf),
      chromium: executablePath,
      browserVersion: browser.version(),
    };
  } finally {
    await browser.close();
  }
}
