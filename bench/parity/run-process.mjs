// Runs a child process of the parity benchmarks and collects its output: resolves with
// [stdout, stderr] on exit code 0, rejects with the command and the end of stderr otherwise.
// `echo` mirrors the child's stderr (its progress lines) as it arrives.
import { spawn } from 'node:child_process';

export function runProcess(cmd, args, { echo = false } = {}) {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (echo) process.stderr.write(d);
    });
    child.on('exit', (code) =>
      code === 0
        ? ok([stdout, stderr])
        : fail(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${stderr.slice(-2000)}`)),
    );
  });
}

/** The last line of a child's stdout, parsed: the CLI's and torch_train.py's JSON result. */
export function lastJsonLine(stdout) {
  return JSON.parse(stdout.trim().split('\n').pop());
}
