/**
 * Which backend the app's workers will use, asked of the bundled CLI (`info --json`) in a
 * child process: probing the native TensorFlow packages loads them, which the main process
 * must not do, and the window appears while the probe runs.
 */
import { runCliJson } from '../api/report-export';
import type { EngineDescription } from '../api/service';

export async function probeEngine(cliEntry: string, preferred?: string): Promise<EngineDescription> {
  const info = await runCliJson(cliEntry, [...(preferred ? ['--backend', preferred] : []), 'info']);
  return {
    backend: String(info.backend),
    available: (info.available as string[]) ?? [String(info.backend)],
    tfjsVersion: String(info.tfjsVersion),
  };
}
