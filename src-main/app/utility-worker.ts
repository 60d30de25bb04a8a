/**
 * Worker processes in the desktop app: Electron's utilityProcess instead of
 * child_process.fork. A utility process is started by Chromium's service launcher, runs
 * Node with Electron's ABI (so native modules match the app's), and ends with the app.
 * Its message API differs from Node's (postMessage / 'message' with the data itself /
 * 'exit' with a code only); this adapter speaks the runner's WorkerChannel, and the child
 * side (worker-main.ts) uses process.parentPort.
 */
import type { UtilityProcess } from 'electron';
import type { FromWorker } from '../runner/protocol';
import type { WorkerChannel, WorkerLauncher } from '../runner/worker-process';

type Fork = (
  modulePath: string,
  args?: string[],
  options?: { stdio?: 'pipe' | 'ignore' | 'inherit' | ('pipe' | 'ignore' | 'inherit')[]; serviceName?: string },
) => UtilityProcess;

export function utilityProcessLauncher(fork: Fork): WorkerLauncher {
  return (entry, args): WorkerChannel => {
    const child = fork(entry, args, { stdio: ['ignore', 'ignore', 'pipe'], serviceName: 'Ownership Audit worker' });
    let stderrTail = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString()).slice(-2000);
    });
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    return {
      get pid() {
        return child.pid;
      },
      send: (m) => {
        if (!exited) child.postMessage(m);
      },
      onMessage: (listener) => child.on('message', (m: unknown) => listener(m as FromWorker)),
      onExit: (listener) => child.on('exit', (code: number) => listener(code, null)),
      onError: (listener) =>
        child.on('error', (type: string, location: string) => listener(new Error(`${type} at ${location}`))),
      stderrTail: () => stderrTail,
      kill: () => {
        child.kill();
      },
    };
  };
}
