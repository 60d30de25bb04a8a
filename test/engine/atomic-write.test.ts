// The atomic write utility (src-main/engine/files/atomic-write.ts): a write replaces the
// target in one step, leaves no temporary behind, and a write that throws leaves the previous
// target exactly as it was.
import { existsSync, mkdtempSync, promises as fsp, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  interruptedReplaceBackups,
  replaceDirAtomic,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../../src-main/engine/files/atomic-write';

const root = mkdtempSync(path.join(os.tmpdir(), 'oa-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const freshDir = (): string => mkdtempSync(path.join(root, 'case-'));

describe('writeFileAtomicSync', () => {
  it('creates and then replaces the target, leaving only the target', () => {
    const dir = freshDir();
    const file = path.join(dir, 'out.json');
    writeFileAtomicSync(file, 'first');
    expect(readFileSync(file, 'utf8')).toBe('first');
    writeFileAtomicSync(file, new TextEncoder().encode('second'));
    expect(readFileSync(file, 'utf8')).toBe('second');
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  it('a writer that throws leaves the existing target intact and no temporary', () => {
    const dir = freshDir();
    const file = path.join(dir, 'out.json');
    writeFileSync(file, 'previous');
    expect(() =>
      writeFileAtomicSync(file, (tmp) => {
        writeFileSync(tmp, 'half');
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(readFileSync(file, 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  it('a writer gets a temporary beside the target and its file becomes the target', () => {
    const dir = freshDir();
    const file = path.join(dir, 'report.pdf');
    writeFileAtomicSync(file, (tmp) => {
      expect(path.dirname(tmp)).toBe(dir);
      expect(existsSync(file)).toBe(false);
      writeFileSync(tmp, 'printed');
    });
    expect(readFileSync(file, 'utf8')).toBe('printed');
    expect(readdirSync(dir)).toEqual(['report.pdf']);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the target; an async writer that throws leaves it intact and no temporary', async () => {
    const dir = freshDir();
    const file = path.join(dir, 'out.txt');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    await expect(
      writeFileAtomic(file, async (tmp) => {
        await fsp.writeFile(tmp, 'half');
        throw new Error('printer crashed');
      }),
    ).rejects.toThrow('printer crashed');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['out.txt']);
  });
});

describe('replaceDirAtomic', () => {
  it('creates, replaces, and salvages from the previous directory', async () => {
    const parent = freshDir();
    const target = path.join(parent, 'ckpt');
    await replaceDirAtomic(target, async (tmp) => fsp.writeFile(path.join(tmp, 'a'), '1'));
    expect(readdirSync(target)).toEqual(['a']);
    writeFileSync(path.join(target, 'notes'), 'keep');
    await replaceDirAtomic(target, async (tmp) => fsp.writeFile(path.join(tmp, 'b'), '2'), {
      salvage: async (previous) => {
        await fsp.rename(path.join(previous, 'notes'), path.join(target, 'notes'));
        return true;
      },
    });
    expect(readdirSync(target).sort()).toEqual(['b', 'notes']);
    expect(readdirSync(parent)).toEqual(['ckpt']);
  });

  it('a fill that throws leaves the previous directory intact, no temporary, and maps the error', async () => {
    const parent = freshDir();
    const target = path.join(parent, 'model');
    await replaceDirAtomic(target, async (tmp) => fsp.writeFile(path.join(tmp, 'weights'), 'old'));
    const err = await replaceDirAtomic(
      target,
      async (tmp) => {
        await fsp.writeFile(path.join(tmp, 'weights'), 'new');
        throw new Error('ENOSPC');
      },
      { fail: (step, cause) => new Error(`${step}: ${(cause as Error).message}`) },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toBe('write: ENOSPC');
    expect(readFileSync(path.join(target, 'weights'), 'utf8')).toBe('old');
    expect(readdirSync(parent)).toEqual(['model']);
    expect(await interruptedReplaceBackups(target)).toEqual([]);
  });
});
