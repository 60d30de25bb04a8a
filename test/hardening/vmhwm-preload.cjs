// Preloaded (NODE_OPTIONS=--require) into every Node process a malformed-input case starts,
// worker processes included: at exit, appends the process's peak resident memory (VmHWM,
// not virtual size: wasm reserves far more address space than it touches) to the file
// named by OA_VMHWM_FILE, one "pid kib" line per process.
const { appendFileSync, readFileSync } = require('node:fs');

const file = process.env.OA_VMHWM_FILE;
if (file) {
  process.on('exit', () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      if (m) appendFileSync(file, `${process.pid} ${m[1]}\n`);
    } catch {
      // /proc is Linux-only; elsewhere no figure is recorded and the case says so.
    }
  });
}
