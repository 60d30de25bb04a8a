/** The tool's name and version, as recorded in verification results and evidence bundles. */
import { name, version } from '../../package.json';

export interface ToolInfo {
  name: string;
  version: string;
}

export function toolInfo(): ToolInfo {
  return { name, version };
}
