/**
 * Whether a process with this pid exists: signal 0 tests without sending anything. EPERM
 * means it exists but belongs to someone else. Used to tell a live owner (of a run, of a
 * temporary file) from one that died and left its state behind.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
