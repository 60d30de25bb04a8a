import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import { allCores, initBackend } from '../../engine/backend';
import { calibrate } from '../../engine/calibration/calibrate';
import type { ReadCalibrationOptions } from '../../engine/calibration/calibration-file';
import type { ThresholdRuleName } from '../../engine/calibration/rules';
import { homeTrustedKey, loadOrCreateSigningKey, trustedKeyFile } from '../../engine/calibration/signing';
import { verify, type VerifyResult } from '../../engine/calibration/verify';
import type { RunContext } from '../../engine/context';
import type { VoteRule } from '../../engine/verdict/verdict';
import { resolveHome } from '../../store';
import { intArg, positiveNumber } from '../options';
import { emit, fail, progress } from '../output';
import { collectParam, defenseParams } from '../params-flag';
import { trainInWorker } from './worker';

export function cliContext(seed: number, signal: AbortSignal): RunContext {
  let last = 0;
  return {
    seed,
    signal,
    log: (m) => progress(m),
    progress: (e) => {
      const now = Date.now();
      if (now - last < 2000 && e.iteration !== e.total) return;
      last = now;
      const values = Object.entries(e.values ?? {})
        .map(([k, v]) => `${k} ${v.toPrecision(4)}`)
        .join('  ');
      progress(`${e.stage} ${e.iteration}/${e.total}  ${values}`);
    },
  };
}

export function abortOnSignals(): AbortController {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller;
}

const defenseList = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function registerVerification(program: Command): void {
  program
    .command('calibrate')
    .description('extract fingerprints from the victim, train K reference models and derive a threshold per metric')
    .requiredOption('--victim <dir>', 'victim model directory')
    .requiredOption(
      '--data <dir>',
      "the victim's training data (references train on it; its test split seeds the fingerprints)",
    )
    .option('--references <k>', 'reference (negative) models to train', intArg(2), 5)
    .requiredOption('--out <file>', 'calibration file to write (fingerprints and references go beside it)')
    .option(
      '--defenses <list>',
      'comma-separated (default deepjudge,zest,modeldiff,ipguard; opt-in: mistakes)',
      defenseList,
    )
    .option('--param <defence.key=value>', 'defence parameter (repeatable)', collectParam, [])
    .addOption(
      new Option('--rule <name>', 'threshold rule')
        .choices(['paper', 'normal', 'confidence', 'quantile', 'reference-ratio'])
        .default('paper'),
    )
    .option('--rule-parameter <x>', 'p (normal), confidence, q (quantile) or ratio', Number)
    .option('--reference-epochs <n>', "epochs per reference (default: the victim's recorded recipe)", positiveNumber)
    .option('--max-test <n>', 'class-balanced prefix of the test split', intArg(1))
    .option('--seed <n>', 'seed for fingerprint extraction', intArg(0), 0)
    .option(
      '--workers <n>',
      'reference models trained at once, each in its own process (default: one per core on wasm/cpu, 1 on native TensorFlow)',
      intArg(1),
    )
    .option(
      '--sign',
      "sign the calibration with the home's Ed25519 key (<home>/keys/calibration-ed25519.pem, created on first use)",
    )
    .option(
      '--home <dir>',
      'data folder holding the signing key (default: env OWNERSHIP_AUDIT_HOME or the app data folder)',
    )
    .option(
      '--artifacts <dir>',
      'an artifact store folder: references trained before for the same victim, data, recipe, seed and backend are copied from it, new ones added (runs use <home>/artifacts)',
    )
    .option('--json', 'print the calibration as JSON')
    .action(
      async (f: {
        victim: string;
        data: string;
        references: number;
        out: string;
        defenses?: string[];
        param: string[];
        rule: ThresholdRuleName;
        ruleParameter?: number;
        referenceEpochs?: number;
        maxTest?: number;
        seed: number;
        workers?: number;
        sign?: boolean;
        home?: string;
        artifacts?: string;
        json?: boolean;
      }) => {
        const mode = { json: Boolean(f.json) };
        try {
          const backend = await initBackend(program.opts<{ backend?: string }>().backend);
          const ctx = cliContext(f.seed, abortOnSignals().signal);
          const native = backend.backend === 'tensorflow' || backend.backend === 'tensorflow-gpu';
          const workers = f.workers ?? (native ? 1 : availableParallelism());
          const { calibration, file } = await calibrate(ctx, {
            workers,
            trainReference: workers > 1 ? (request) => trainInWorker(request, backend.backend) : undefined,
            victimDir: f.victim,
            dataDir: f.data,
            outFile: f.out,
            references: f.references,
            defenses: f.defenses,
            defenseParams: defenseParams(f.param),
            rule: { name: f.rule, ...(f.ruleParameter !== undefined ? { parameter: f.ruleParameter } : {}) },
            referenceEpochs: f.referenceEpochs,
            maxTest: f.maxTest,
            signingKey: f.sign ? loadOrCreateSigningKey(resolveHome(f.home)) : undefined,
            artifacts: f.artifacts,
          });
          emit(mode, { file, ...calibration }, () =>
            [
              `wrote ${file} (${calibration.signature ? `signed by ${calibration.signature.publicKeyFingerprint}` : 'unsigned'})`,
              ...calibration.metrics.map(
                (m) =>
                  `${m.id.padEnd(18)} tau ${m.tau.toPrecision(4)}${m.degenerate ? '  DEGENERATE' : ''}  refs [${m.values.map((v) => v.toPrecision(3)).join(', ')}]`,
              ),
            ].join('\n'),
          );
        } catch (e) {
          fail(mode, e);
        }
      },
    );

  program
    .command('verify')
    .description('score a suspect model against the victim; with a calibration, give the verdict')
    .requiredOption('--victim <dir>', 'victim model directory')
    .option('--suspect <dir>', 'suspect model directory')
    .option(
      '--responses <file>',
      "instead of --suspect: the suspect's recorded answers to `queries export` (black-box metrics only)",
    )
    .requiredOption('--data <dir>', 'data set whose test split the fidelity and fresh fingerprints use')
    .option('--calibration <file>', 'calibration from `calibrate` (thresholds and fingerprints)')
    .option('--defenses <list>', 'without a calibration: which defences to run', defenseList)
    .option('--param <defence.key=value>', 'defence parameter for fresh fingerprints (repeatable)', collectParam, [])
    .addOption(new Option('--vote <rule>', 'verdict rule').choices(['majority', 'any', 'all']).default('majority'))
    .option('--max-test <n>', 'class-balanced prefix of the test split', intArg(1))
    .option('--seed <n>', 'seed for fresh fingerprints', intArg(0), 0)
    .option(
      '--trust-key <file>',
      "require the calibration to be signed by this Ed25519 public key (PEM); without it, a signature is checked against the home's key",
    )
    .option(
      '--home <dir>',
      'data folder holding the signing key (default: env OWNERSHIP_AUDIT_HOME or the app data folder)',
    )
    .option(
      '--evidence <dir>',
      'also write an evidence bundle here (needs --calibration; check it with `evidence check`)',
    )
    .option('--json', 'print the result as JSON (schemaVersion 2, docs/verify-json.md)')
    .action(
      async (f: {
        victim: string;
        suspect?: string;
        responses?: string;
        evidence?: string;
        data: string;
        calibration?: string;
        defenses?: string[];
        param: string[];
        vote: VoteRule;
        maxTest?: number;
        seed: number;
        trustKey?: string;
        home?: string;
        json?: boolean;
      }) => {
        const mode = { json: Boolean(f.json) };
        try {
          const trust = calibrationTrust(f.trustKey, f.home, Boolean(f.calibration));
          await initBackend(program.opts<{ backend?: string }>().backend, allCores());
          const ctx = cliContext(f.seed, abortOnSignals().signal);
          const r = await verify(ctx, {
            victimDir: f.victim,
            suspectDir: f.suspect,
            responsesFile: f.responses,
            evidenceDir: f.evidence,
            dataDir: f.data,
            calibrationFile: f.calibration,
            defenses: f.defenses,
            defenseParams: defenseParams(f.param),
            rule: f.vote,
            maxTest: f.maxTest,
            trust,
          });
          emit(mode, r, () => verifyText(r));
        } catch (e) {
          fail(mode, e);
        }
      },
    );
}

/**
 * Which keys a calibration's signature is checked against: --trust-key (then a signature is
 * required), else the home's key when there is one. Only a calibration's signature needs a
 * key: a damaged key file must not stop other verifications.
 */
export function calibrationTrust(
  trustKey: string | undefined,
  home: string | undefined,
  needed: boolean,
): ReadCalibrationOptions {
  if (trustKey) return { trusted: [trustedKeyFile(trustKey)], requireSignature: true };
  const homeKey = needed ? homeTrustedKey(resolveHome(home)) : undefined;
  return { trusted: homeKey ? [homeKey] : [] };
}

/** The human-readable form of a verification (verify and evidence check). */
export function verifyText(r: VerifyResult): string {
  return [
    ...r.metrics.map(
      (m) =>
        `${m.id.padEnd(18)} ${m.value === null ? `n/a (${m.reason ?? 'not applicable'})` : m.value.toPrecision(4)}${m.tau !== undefined ? `  tau ${m.tau.toPrecision(4)}${m.degenerate ? ' (degenerate)' : ''}${m.flagged ? '  -> derived' : ''}` : ''}`,
    ),
    r.verdict
      ? `verdict: ${r.verdict.insufficientEvidence ? 'INSUFFICIENT EVIDENCE' : r.verdict.derived ? 'DERIVED' : 'not derived'} (${r.verdict.votes}/${r.verdict.of} metrics, ${r.verdict.rule})`
      : 'no calibration: values only, no verdict',
    ...(r.defenses ?? []).map(
      (d) =>
        `  ${d.id.padEnd(10)} ${d.status}${d.of ? ` (${d.votes}/${d.of})` : ''}; accuses ${d.falseClaims.accused} of ${d.falseClaims.of} references (leave-one-out)`,
    ),
    ...(r.calibrationIntegrity ? [`calibration: ${r.calibrationIntegrity.summary}`] : []),
    ...(r.evidence
      ? [`evidence: ${r.evidence.dir} (${r.evidence.files} files), root hash ${r.evidence.rootHash}`]
      : []),
  ].join('\n');
}
