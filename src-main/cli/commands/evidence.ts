/** `ownership-audit evidence check DIR`: recompute a bundle's verdict from its answers alone. */
import type { Command } from 'commander';
import { checkEvidence } from '../../engine/evidence/check';
import { emit, fail } from '../output';
import { calibrationTrust, verifyText } from './verification';

export function registerEvidence(program: Command): void {
  const evidence = program.command('evidence').description('evidence bundles written by `verify --evidence`');
  evidence
    .command('check')
    .description(
      'recompute every metric, tau and the verdict of a bundle from its raw answers (no model needed) and check every hash',
    )
    .argument('<dir>', 'the bundle folder')
    .option('--root-hash <hex>', 'the root hash published by the bundle author: the manifest must hash to it')
    .option('--trust-key <file>', "require the bundle's calibration to be signed by this Ed25519 public key (PEM)")
    .option(
      '--home <dir>',
      'data folder holding the signing key (default: env OWNERSHIP_AUDIT_HOME or the app data folder)',
    )
    .option('--json', 'print the result as JSON: verify --json (schemaVersion 2) with the checks under `evidence`')
    .action((dir: string, f: { rootHash?: string; trustKey?: string; home?: string; json?: boolean }) => {
      const mode = { json: Boolean(f.json) };
      try {
        const { result, evidence: checked } = checkEvidence(dir, {
          trust: calibrationTrust(f.trustKey, f.home, true),
          rootHash: f.rootHash,
        });
        emit(mode, { ...result, evidence: checked }, () =>
          [
            verifyText(result),
            ...checked.checks.map((c) => `check ${c.name}: ${c.ok ? 'ok' : 'FAILED'} (${c.detail})`),
            `root hash ${checked.rootHash} (publish it; \`evidence check --root-hash\` compares)`,
          ].join('\n'),
        );
      } catch (e) {
        fail(mode, e);
      }
    });
}
