/**
 * The calls the UI can make of the main side. The Electron preload, the browser-mode
 * server and tests implement the same interface; errors cross the boundary as data.
 */
export type Result<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string; hint: string } };

export interface EngineInfo {
  backend: string;
  available: string[];
  tfjsVersion: string;
}

export interface AuditApi {
  engineInfo(): Promise<Result<EngineInfo>>;
}
