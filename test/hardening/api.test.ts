/**
 * Issue 16, defects 1 and 7: every path that arrives through the API is contained. Outputs
 * land only in the home's exports folder (or a dialog-granted folder), never on the store's
 * own files; reads stay under the read roots; a refused path is PATH_NOT_ALLOWED whether or
 * not it exists, and no error echoes a file's contents. The service runs in-process with
 * the fake runner (no workers): these cases take milliseconds.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Result } from '../../src-shared/contract/api';
import type { ApiDialogs } from '../../src-main/api/service';
import { databasePath } from '../../src-main/store';
import { smoke, useFakeService } from '../api/fake-runner';
import { storeSnapshot } from './harness';

const newService = useFakeService();
const outside: string[] = [];
afterEach(() => {
  for (const d of outside.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A folder outside every read root (not under the home, the repository or the resources). */
function outsideDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'oa-outside-'));
  outside.push(d);
  return d;
}

type ApiErr = { code: string; message: string; hint: string };
function error(r: Result<unknown>): ApiErr {
  expect(r.ok, JSON.stringify(r)).toBe(false);
  return (r as { ok: false; error: ApiErr }).error;
}

/** A service with one completed run, and the store's state before any attack. */
async function withRun() {
  const made = newService();
  const started = await made.service.startRun({ spec: smoke() });
  if (!started.ok) throw new Error(started.error.message);
  const { runId } = started.value;
  made.runner.runs[0].finish('completed');
  await new Promise((r) => setTimeout(r, 0));
  return { ...made, runId, before: storeSnapshot(made.home), dbBytes: readFileSync(databasePath(made.home)) };
}

describe('exportReport writes only inside the exports folder', () => {
  it('refuses the reported attack, the database by absolute path, and ../ escapes; the store stays intact', async () => {
    const { service, home, runId, before } = await withRun();
    const escape = join(outsideDir(), 'evil.csv');
    for (const out of [
      'audit.db',
      databasePath(home),
      `${databasePath(home)}-wal`,
      '../audit.db',
      'exports/../../audit.db',
      join('runs', runId, 'x.csv'),
      'report.csv',
      relative(join(home, 'exports'), escape),
      escape,
    ]) {
      const e = error(await service.exportReport({ runId, format: 'csv', out }));
      expect(e.code, out).toBe('PATH_NOT_ALLOWED');
      expect(e.hint, out).toMatch(/exports/);
    }
    expect(existsSync(escape)).toBe(false);
    expect(storeSnapshot(home)).toBe(before);
    expect((await service.listRuns({})).ok).toBe(true);
  });

  it('writes a relative out inside <home>/exports', async () => {
    const { service, home, runId } = await withRun();
    const r = await service.exportReport({ runId, format: 'csv', out: 'exports/audit.csv' });
    expect(r).toEqual({ ok: true, value: { path: join(home, 'exports', 'audit.csv') } });
  });

  it('refuses a symlink inside exports that points at the database', async () => {
    const { service, home, runId, before } = await withRun();
    mkdirSync(join(home, 'exports'), { recursive: true });
    symlinkSync(home, join(home, 'exports', 'up'));
    const e = error(await service.exportReport({ runId, format: 'csv', out: 'exports/up/audit.db' }));
    expect(e.code).toBe('PATH_NOT_ALLOWED');
    expect(storeSnapshot(home)).toBe(before);
  });
});

describe('reads stay under the read roots', () => {
  it('inspectModel on a JSON file outside the roots: PATH_NOT_ALLOWED, no contents, same answer as a missing file', async () => {
    const { service } = newService();
    const dir = outsideDir();
    writeFileSync(join(dir, 'secret.json'), 'TOP-SECRET-CONTENT {"a":1}');
    const there = error(await service.inspectModel({ path: join(dir, 'secret.json') }));
    const missing = error(await service.inspectModel({ path: join(dir, 'nothing.json') }));
    expect(there.code).toBe('PATH_NOT_ALLOWED');
    expect(missing.code).toBe('PATH_NOT_ALLOWED');
    expect(JSON.stringify(there)).not.toContain('TOP-SECRET');
    expect(there.message.replaceAll('secret.json', 'X')).toBe(missing.message.replaceAll('nothing.json', 'X'));
    expect(there.hint).toMatch(/--allow-dir/);
  });

  it('inspectModel on a broken JSON file inside the home names the file but not its contents', async () => {
    const { service, home } = newService();
    writeFileSync(join(home, 'model.json'), 'TOP-SECRET-CONTENT not json');
    const e = error(await service.inspectModel({ path: join(home, 'model.json') }));
    expect(e.code).toBe('MODEL_FORMAT');
    expect(JSON.stringify(e)).not.toContain('TOP-SECRET');
  });

  it('previewDataset of /etc, a ../ escape or a symlink out of the home is refused', async () => {
    const { service, home } = newService();
    symlinkSync('/etc', join(home, 'etc-link'));
    for (const path of ['/etc', join(home, '..', '..', 'etc'), join(home, 'etc-link')]) {
      expect(error(await service.previewDataset({ path })).code, path).toBe('PATH_NOT_ALLOWED');
    }
  });

  it('startRun and checkSpec refuse a spec whose data lies outside the roots', async () => {
    const { service, runner } = newService();
    const spec = { ...smoke(), data: { ...smoke().data, train: '/etc' } };
    const e = error(await service.startRun({ spec }));
    expect(e.code).toBe('PATH_NOT_ALLOWED');
    expect(e.message).toContain('data.train');
    expect(runner.runs).toHaveLength(0);
    const checked = (await service.checkSpec({ spec })) as { ok: true; value: { problems: string[] } };
    expect(checked.value.problems.join('\n')).toMatch(/data\.train: .*not allowed/);
  });

  it('a folder added as a read root (serve --allow-dir) is readable', async () => {
    const dir = outsideDir();
    const { service } = newService({ readRoots: [dir] });
    expect(error(await service.inspectModel({ path: join(dir, 'none') })).code).toBe('MODEL_NOT_FOUND');
  });

  it('a dialog pick makes its folder readable; an export folder is reached only by its grant id', async () => {
    const picked = outsideDir();
    const { service, runner, home } = newService({ dialogs: dialogs({ pickPath: () => Promise.resolve(picked) }) });
    const started = await service.startRun({ spec: smoke() });
    if (!started.ok) throw new Error(started.error.message);
    const { runId } = started.value;
    runner.runs[0].finish('completed');
    await new Promise((r) => setTimeout(r, 0));
    // Before the pick the folder is out of reach; after it, its files are.
    expect(error(await service.inspectModel({ path: join(picked, 'm') })).code).toBe('PATH_NOT_ALLOWED');
    await service.pickPath({ kind: 'folder', title: 'Model', purpose: 'read' });
    expect(error(await service.inspectModel({ path: join(picked, 'm') })).code).toBe('MODEL_NOT_FOUND');
    // A path string to the folder is refused; the grant id the export pick answered works.
    expect(error(await service.exportReport({ runId, format: 'csv', out: join(picked, 'r.csv') })).code).toBe(
      'PATH_NOT_ALLOWED',
    );
    const grant = (await service.pickPath({ kind: 'folder', title: 'Export to', purpose: 'export' })) as {
      ok: true;
      value: string;
    };
    expect(grant.value).toMatch(/^g-[0-9a-f]{32}$/);
    const r = await service.exportReport({ runId, format: 'csv', out: 'r.csv', grant: grant.value });
    expect(r).toEqual({ ok: true, value: { path: join(picked, 'r.csv') } });
    const unknown = await service.exportReport({ runId, format: 'csv', grant: `g-${'0'.repeat(32)}` });
    expect(error(unknown).code).toBe('PATH_NOT_ALLOWED');
    expect(existsSync(join(home, 'audit.db'))).toBe(true);
  });

  it('Save as writes where the Save dialog chose, never over the store; Show in folder shows only a recorded report', async () => {
    const folder = outsideDir();
    let chosen: string | null = join(folder, 'mine.csv');
    const shown: string[] = [];
    const { service, runner, home } = newService({
      dialogs: dialogs({ saveFile: () => Promise.resolve(chosen), showInFolder: (p) => shown.push(p) }),
    });
    const started = await service.startRun({ spec: smoke() });
    if (!started.ok) throw new Error(started.error.message);
    const { runId } = started.value;
    runner.runs[0].finish('completed');
    await new Promise((r) => setTimeout(r, 0));

    expect(await service.saveReportAs({ runId, format: 'csv' })).toEqual({
      ok: true,
      value: { path: join(folder, 'mine.csv') },
    });
    expect(readFileSync(join(folder, 'mine.csv'), 'utf8')).toMatch(/^row_id,label,attack/);
    expect(await service.showInFolder({ runId, path: join(folder, 'mine.csv') })).toEqual({ ok: true, value: null });
    expect(shown).toEqual([join(folder, 'mine.csv')]);
    // A file that is not a report of the run: refused, nothing opened.
    expect(error(await service.showInFolder({ runId, path: join(home, 'audit.db') })).code).toBe('REPORT_NOT_FOUND');
    expect(shown).toHaveLength(1);
    // The dialog pointed at the store's own database: refused, the database intact.
    chosen = join(home, 'audit.db');
    expect(error(await service.saveReportAs({ runId, format: 'csv' })).code).toBe('PATH_NOT_ALLOWED');
    expect(readFileSync(join(home, 'audit.db')).subarray(0, 15).toString()).toBe('SQLite format 3');
    // Cancelled: nothing written.
    chosen = null;
    expect(await service.saveReportAs({ runId, format: 'csv' })).toEqual({ ok: true, value: null });
  });

  it('the browser mode has no Save dialog and no file manager: NOT_AVAILABLE with what to do instead', async () => {
    const { service, runner } = newService();
    const started = await service.startRun({ spec: smoke() });
    if (!started.ok) throw new Error(started.error.message);
    runner.runs[0].finish('completed');
    const saved = error(await service.saveReportAs({ runId: started.value.runId, format: 'pdf' }));
    expect(saved.code).toBe('NOT_AVAILABLE');
    expect(saved.hint).toMatch(/Export report/);
    expect(error(await service.showInFolder({ runId: started.value.runId, path: '/x' })).code).toBe('NOT_AVAILABLE');
  });
});

/** Fake native dialogs: each not given answers as if cancelled (or does nothing). */
function dialogs(over: Partial<ApiDialogs>): ApiDialogs {
  return {
    pickPath: () => Promise.resolve(null),
    saveFile: () => Promise.resolve(null),
    showInFolder: () => undefined,
    ...over,
  };
}
