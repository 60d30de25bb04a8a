/**
 * What sending PNGs instead of float32 inputs does to the black-box metrics (issue 19).
 *
 * An API that takes images takes 8-bit pixels: every query is de-normalised, rounded to one
 * of 256 grey levels and normalised again before the suspect sees it (queries-export.ts
 * `quantisedInputs`, the bytes `queries export --png` and `queries send --input png` send).
 * The victim's side of every fingerprint stays as extracted from the exact inputs. This
 * bench scores each suspect twice, on the lossless route (the float32 queries) and on the
 * PNG route, and records each metric's absolute and relative change.
 *
 *   npx tsx bench/png-route.ts [--victim resources/models/demo-victim]
 *     [--data resources/datasets/fashion-mnist-demo] [--max-test 500] [--calibration C]
 *     [--suspect DIR ...] [--param defence.key=value ...] [--out bench/results/png-route.json]
 *
 * Without --calibration the fingerprints are extracted from the victim (seed 0, the
 * defences' default parameters unless --param says otherwise). Without --suspect three are
 * scored: the victim itself (the pure effect of quantisation), a fine-tune of it (derived)
 * and an independently trained model, both made with the CLI under tmp/png-route/ (needs
 * `npm run build:cli`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src-main/engine/backend';
import { loadCalibration } from '../src-main/engine/calibration/calibration-file';
import { DEFAULT_DEFENSES, resolveDefenses } from '../src-main/engine/calibration/calibrate';
import {
  fidelityFromAnswers,
  labelsOf,
  metricsFromAnswers,
  verificationQuerySets,
  FIDELITY_SET,
  type DefenseSet,
} from '../src-main/engine/calibration/score-answers';
import { loadCalibratedFingerprints } from '../src-main/engine/calibration/verify';
import { loadDataset } from '../src-main/engine/datasets';
import { allImages } from '../src-main/engine/defenses/probe-data';
import { answerWithModel, type QuerySet, type ResponseMap } from '../src-main/engine/defenses/responses';
import { quantisedInputs, type Normalization } from '../src-main/engine/evidence/queries-export';
import { loadModel, type LoadedModel } from '../src-main/engine/models/io';
import { defenseParams } from '../src-main/cli/params-flag';

const { values } = parseArgs({
  options: {
    victim: { type: 'string', default: 'resources/models/demo-victim' },
    data: { type: 'string', default: 'resources/datasets/fashion-mnist-demo' },
    'max-test': { type: 'string', default: '500' },
    calibration: { type: 'string' },
    suspect: { type: 'string', multiple: true },
    param: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: join('bench', 'results', 'png-route.json') },
  },
});

tf.env().set('PROD', true);
const backend = await initBackend();
const ctx = { seed: 0, signal: new AbortController().signal, log: () => {} };

/** Default suspects, made once with the CLI as a user would. */
function defaultSuspects(victimDir: string, dataDir: string): { name: string; dir: string }[] {
  const work = resolve('tmp', 'png-route');
  mkdirSync(work, { recursive: true });
  const cli = (args: string[], out: string) => {
    if (existsSync(join(out, 'model.json'))) return;
    const r = spawnSync(process.execPath, ['dist/cli.cjs', ...args, '--out', out, '--json'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  };
  const finetuned = join(work, 'finetuned');
  const independent = join(work, 'independent');
  cli(
    [
      'attack',
      '--name',
      'finetune',
      '--victim',
      victimDir,
      '--substitute',
      dataDir,
      '--iterations',
      '50',
      '--seed',
      '3',
    ],
    finetuned,
  );
  cli(['train', '--data', dataDir, '--iterations', '300', '--seed', '777'], independent);
  return [
    { name: 'victim itself', dir: victimDir },
    { name: 'fine-tuned (derived)', dir: finetuned },
    { name: 'independent', dir: independent },
  ];
}

const victim = await loadModel(values.victim);
const data = await loadDataset(values.data, {
  inputShape: victim.meta.inputShape,
  fit: { inputShape: victim.meta.inputShape, numClasses: victim.meta.numClasses },
  normalization: victim.meta.normalization,
  maxTrain: victim.meta.normalization ? 1 : undefined,
  maxTest: Number(values['max-test']),
});
const norm: Normalization = victim.meta.normalization ?? data.normalization;

let sets: DefenseSet[];
if (values.calibration) {
  sets = loadCalibratedFingerprints(
    loadCalibration(values.calibration).calibration,
    values.calibration,
    victim.meta.contentHash,
  );
} else {
  sets = [];
  const ids = DEFAULT_DEFENSES.filter((id) => id !== 'deepjudge'); // white-box: no API route
  for (const { defense, params } of resolveDefenses(ids, defenseParams(values.param))) {
    const t0 = Date.now();
    sets.push({ defense, fingerprints: await defense.extract(ctx, victim, data.test, params) });
    process.stderr.write(`extracted ${defense.id} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
}
sets = sets.filter((s) => s.defense.access !== 'white-box');
const lossless = verificationQuerySets(sets, allImages(data.test));
const png: QuerySet[] = lossless.map((q) => ({ ...q, inputs: quantisedInputs(q.inputs, norm) }));
const victimLabels = labelsOf(
  answerWithModel(
    victim.model,
    lossless.find((q) => q.id === FIDELITY_SET)!,
    'victim',
  ),
);

function score(suspect: LoadedModel, querySets: QuerySet[]): Record<string, number | null> {
  const answers: ResponseMap = {};
  for (const q of querySets) answers[q.id] = answerWithModel(suspect.model, q, 'suspect');
  const metrics = [
    ...metricsFromAnswers(sets, answers),
    ...fidelityFromAnswers(
      answers,
      data.test.labels.subarray(0, data.test.count),
      victimLabels,
      victim.meta.numClasses,
    ),
  ];
  return Object.fromEntries(metrics.map((m) => [m.id, m.value]));
}

/** How far the PNG route moved each input, in grey levels (1/255 of the pixel range). */
function inputChange(): Record<string, { maxGreyLevels: number; meanGreyLevels: number }> {
  return Object.fromEntries(
    lossless.map((q, k) => {
      const a = q.inputs.data;
      const b = png[k].inputs.data;
      const c = q.inputs.shape[3];
      let max = 0;
      let sum = 0;
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs(a[i] - b[i]) * norm.std[i % c] * 255;
        max = Math.max(max, d);
        sum += d;
      }
      return [q.id, { maxGreyLevels: max, meanGreyLevels: sum / a.length }];
    }),
  );
}

/**
 * ModelDiff's pairs (seeds, then their partners): how far apart they are, in grey levels,
 * before and after the PNG route, and how much of each pair's difference quantisation changes.
 */
function modeldiffPairs(): Record<string, number> | undefined {
  const k = lossless.findIndex((q) => q.id === 'modeldiff');
  if (k < 0) return undefined;
  const [n, h, w, c] = lossless[k].inputs.shape;
  const per = h * w * c;
  const pairs = n / 2;
  const grey = (x: number, i: number) => x * norm.std[i % c] * 255;
  let maxBefore = 0;
  let sumBefore = 0;
  let sumRel = 0;
  let collapsed = 0;
  for (let p = 0; p < pairs; p++) {
    let d2 = 0;
    let e2 = 0;
    let differ = 0;
    for (let i = 0; i < per; i++) {
      const a = lossless[k].inputs.data;
      const b = png[k].inputs.data;
      const d = grey(a[(p + pairs) * per + i] - a[p * per + i], i);
      const q = grey(b[(p + pairs) * per + i] - b[p * per + i], i);
      maxBefore = Math.max(maxBefore, Math.abs(d));
      sumBefore += Math.abs(d);
      d2 += d * d;
      e2 += (q - d) * (q - d);
      if (q !== 0) differ++;
    }
    sumRel += Math.sqrt(e2 / Math.max(d2, 1e-30));
    if (differ === 0) collapsed++;
  }
  return {
    pairs,
    maxPairDifferenceGreyLevels: maxBefore,
    meanPairDifferenceGreyLevels: sumBefore / (pairs * per),
    /** Mean over pairs of ||quantised difference - exact difference|| / ||exact difference||. */
    meanRelativeChangeOfPairDifference: sumRel / pairs,
    /** Pairs whose two images are equal after quantisation. */
    collapsedPairs: collapsed,
  };
}

const suspects = values.suspect?.length
  ? values.suspect.map((dir) => ({ name: dir, dir }))
  : defaultSuspects(values.victim, values.data);
const results = [];
for (const s of suspects) {
  const model = s.dir === values.victim ? victim : await loadModel(s.dir);
  const a = score(model, lossless);
  const b = score(model, png);
  const metrics = Object.fromEntries(
    Object.keys(a).map((id) => {
      const x = a[id];
      const y = b[id];
      const abs = x === null || y === null ? null : Math.abs(y - x);
      return [
        id,
        {
          lossless: x,
          png: y,
          absChange: abs,
          relChange: abs === null || x === 0 ? null : abs / Math.abs(x as number),
        },
      ];
    }),
  );
  results.push({ suspect: s.name, path: resolve(s.dir), lineage: model.meta.lineage, metrics });
  process.stderr.write(`${s.name}\n`);
  for (const [id, m] of Object.entries(metrics))
    process.stderr.write(
      `  ${id.padEnd(20)} lossless ${m.lossless?.toPrecision(6)}  png ${m.png?.toPrecision(6)}  |change| ${m.absChange?.toExponential(2)}  rel ${m.relChange?.toExponential(2)}\n`,
    );
  if (model !== victim) model.model.dispose();
}

const out = {
  createdAt: new Date().toISOString(),
  command: `npx tsx bench/png-route.ts ${process.argv.slice(2).join(' ')}`.trim(),
  backend: backend.backend,
  victim: { path: resolve(values.victim), contentHash: victim.meta.contentHash },
  data: { path: resolve(values.data), testCount: data.test.count },
  fingerprints: values.calibration
    ? { calibration: resolve(values.calibration) }
    : { extracted: sets.map((s) => ({ defense: s.defense.id, params: s.fingerprints.params })) },
  queries: Object.fromEntries(lossless.map((q) => [q.id, q.inputs.shape[0]])),
  inputChange: inputChange(),
  modeldiffPairs: modeldiffPairs(),
  suspects: results,
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(out, null, 2)}\n`);
process.stderr.write(`wrote ${values.out}\n`);
victim.model.dispose();
