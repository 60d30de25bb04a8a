/**
 * The figures that need the models themselves, not only the stored numbers: a t-SNE of
 * victim and surrogate output probabilities (paper Fig. 10) and LayerCAM saliency maps of
 * both at the attack's block (paper Fig. 9). Both compare the victim with one RemovalNet
 * surrogate of the run (the first by key whose files are still on disk).
 *
 * Optional by design: a report of a run whose work folder was deleted, or that has no
 * RemovalNet row, still renders, and says which figure is missing and why. Both figures
 * are small and seeded: a class-balanced prefix of the test split, a time-boxed t-SNE,
 * four saliency samples.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type SharpModule from 'sharp';
import { className, hasClassNames } from '../../src-shared/charts/class-names';
import { tsneOption, type TsnePoint } from '../../src-shared/charts';
import { loadDataset, type ImageSet } from '../engine/datasets';
import { loadModel, type LoadedModel } from '../engine/models/io';
import { attackRole } from '../engine/attacks/registry';
import { displayLabel, type ReportData } from './data';
import { FULL_WIDTH, chart, type ReportFigure, type ReportFigures, type SkippedFigure } from './figures';
import { layerCam, overlay } from './layercam';
import { runTsne } from './tsne';

export interface ModelFigureOptions {
  /** Test images in the t-SNE; each gives one victim and one surrogate point. Default 150 (300 points). */
  tsneSamples?: number;
  /** Time box of the t-SNE optimisation. Default 5 s. */
  tsneSeconds?: number;
  /** Iteration limit of the t-SNE. Default 300. */
  tsneIterations?: number;
  /** Images in the LayerCAM figure. Default 4. */
  camSamples?: number;
  /** Seed of the t-SNE's initial embedding. Default 0. */
  seed?: number;
}

const TSNE_TITLE = 't-SNE of victim and surrogate output probabilities';
const CAM_TITLE = 'LayerCAM saliency of victim and surrogate';

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Softmax probabilities of a model on a set, in batches (models output logits; a softmax output is left as is). */
export function outputProbabilities(model: tf.LayersModel, set: ImageSet, batchSize = 256): number[][] {
  const per = set.height * set.width * set.channels;
  const out: number[][] = [];
  for (let start = 0; start < set.count; start += batchSize) {
    const n = Math.min(batchSize, set.count - start);
    const probs = tf.tidy(() => {
      const x = tf.tensor4d(set.images.subarray(start * per, (start + n) * per), [
        n,
        set.height,
        set.width,
        set.channels,
      ]);
      const y = model.predict(x) as tf.Tensor2D;
      const sums = y.sum(1);
      const isProb = y.min().dataSync()[0] >= 0 && sums.sub(1).abs().max().dataSync()[0] < 1e-3;
      return isProb ? y : tf.softmax(y);
    });
    out.push(...(probs.arraySync() as number[][]));
    probs.dispose();
  }
  return out;
}

/** The first `k` images of distinct classes (then any), by index. */
function pickSamples(labels: Int32Array, k: number): number[] {
  const picked: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < labels.length && picked.length < k; i++) {
    if (!seen.has(labels[i])) {
      seen.add(labels[i]);
      picked.push(i);
    }
  }
  for (let i = 0; i < labels.length && picked.length < k; i++) if (!picked.includes(i)) picked.push(i);
  return picked;
}

interface Loaded {
  victim: LoadedModel;
  surrogate: LoadedModel;
  surrogateName: string;
  block: string;
  test: ImageSet;
  classNames: string[];
}

/** Finds and loads what both figures need; a reason when something is missing. */
async function loadInputs(data: ReportData, count: number): Promise<Loaded | { reason: string }> {
  // The spec's first RemovalNet row (its main setting, not a sweep variant), lowest seed first.
  const rowIndex = (s: { rowId: string; scenario: string }): number => {
    const i = data.table.rows.findIndex((r) => r.rowId === s.rowId && r.scenario === s.scenario);
    return i === -1 ? Number.MAX_SAFE_INTEGER : i;
  };
  const removal = data.suspects
    .filter((s) => attackRole(s.attack) === 'removal')
    .sort((a, b) => rowIndex(a) - rowIndex(b) || a.seed - b.seed || (a.key < b.key ? -1 : 1));
  if (removal.length === 0) return { reason: 'the run has no RemovalNet surrogate to compare with the victim' };
  const suspect = removal.find((s) => existsSync(join(s.modelPath, 'model.json')));
  if (!suspect)
    return {
      reason: `the RemovalNet surrogate's model files are not on this machine (${removal[0].modelPath}); the run's work folder may have been moved or deleted`,
    };
  const victimDir = data.paths.victimDir;
  if (!victimDir || !existsSync(join(victimDir, 'model.json')))
    return { reason: `the victim model is not on this machine (${victimDir ?? 'no path recorded'})` };
  const testDir = data.paths.testDir;
  if (!testDir || !existsSync(testDir))
    return { reason: `the test data is not on this machine (${testDir ?? 'no path recorded'})` };
  let victim: LoadedModel | undefined;
  try {
    victim = await loadModel(victimDir);
    const surrogate = await loadModel(suspect.modelPath);
    const meta = victim.meta;
    const ds = await loadDataset(testDir, {
      inputShape: meta.inputShape,
      normalization: meta.normalization,
      maxTrain: meta.normalization ? 1 : undefined,
      maxTest: count,
    });
    const attack = data.attacks.find((a) => a.key === suspect.key);
    const block = attack?.block ?? meta.defaultAttackBlock;
    return {
      victim,
      surrogate,
      surrogateName: `${displayLabel(suspect)}${suspect.scenario !== '-' ? ` ${suspect.scenario}` : ''} seed ${suspect.seed}`,
      block,
      test: ds.test,
      classNames: ds.classNames,
    };
  } catch (e) {
    victim?.model.dispose();
    return { reason: `the models or the test data could not be loaded: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function tsneFigure(inp: Loaded, opts: ModelFigureOptions): ReportFigure {
  const set = inp.test;
  const n = set.count;
  const victimProbs = outputProbabilities(inp.victim.model, set);
  const surrogateProbs = outputProbabilities(inp.surrogate.model, set);
  const seed = opts.seed ?? 0;
  const r = runTsne([...victimProbs, ...surrogateProbs], {
    seed,
    maxSeconds: opts.tsneSeconds ?? 5,
    iterations: opts.tsneIterations ?? 300,
  });
  const points: TsnePoint[] = r.points.map(([x, y], i) => ({
    x,
    y,
    cls: set.labels[i % n],
    model: i < n ? 'victim' : 'surrogate',
  }));
  const option = tsneOption({
    points,
    classNames: inp.classNames,
    panels: { victim: 'victim', surrogate: `RemovalNet surrogate (${inp.surrogateName})` },
    title: TSNE_TITLE,
  });
  return {
    kind: 'charts',
    id: 'tsne',
    title: `${TSNE_TITLE}.`,
    caption:
      `The softmax outputs of the victim (left) and of the RemovalNet surrogate ${inp.surrogateName} (right) on the same ${n} class-balanced test images, embedded by one t-SNE so that both panels share coordinates ` +
      `(tsne-js, ${r.iterations} iterations${r.timedOut ? `, stopped by the ${opts.tsneSeconds ?? 5}-second time box` : ''}, seed ${seed}). Colours are the true classes. ` +
      `A surrogate that imitates the victim reproduces its clusters (paper Fig. 10).${noNames(inp.classNames)}`,
    columns: 1,
    charts: [chart(option, FULL_WIDTH, 360)],
  };
}

async function camFigure(inp: Loaded, opts: ModelFigureOptions): Promise<ReportFigure> {
  const sharp = (await import('sharp')).default as typeof SharpModule;
  const set = inp.test;
  const picks = pickSamples(set.labels, opts.camSamples ?? 4);
  const per = set.height * set.width * set.channels;
  const batch = new Float32Array(picks.length * per);
  picks.forEach((idx, j) => batch.set(set.images.subarray(idx * per, (idx + 1) * per), j * per));
  const x = tf.tensor4d(batch, [picks.length, set.height, set.width, set.channels]);
  let victimCam;
  let surrogateCam;
  try {
    victimCam = layerCam(inp.victim.model, inp.block, x);
    surrogateCam = layerCam(inp.surrogate.model, inp.block, x);
  } finally {
    x.dispose();
  }
  // Pixels back in [0, 1] for display.
  const norm = set.normalization;
  const pixels = picks.map((_, j) => {
    const p = batch.slice(j * per, (j + 1) * per);
    if (norm) for (let i = 0; i < p.length; i++) p[i] = p[i] * norm.std[i % set.channels] + norm.mean[i % set.channels];
    return p;
  });
  const scale = Math.max(1, Math.ceil(96 / Math.max(set.width, set.height)));
  const png = async (rgb: Uint8Array): Promise<string> => {
    const buf = await sharp(Buffer.from(rgb), { raw: { width: set.width, height: set.height, channels: 3 } })
      .resize(set.width * scale, set.height * scale, { kernel: 'nearest' })
      .png()
      .toBuffer();
    return `data:image/png;base64,${buf.toString('base64')}`;
  };
  const gray = (p: Float32Array): Uint8Array => {
    const out = new Uint8Array(set.width * set.height * 3);
    for (let i = 0; i < set.width * set.height; i++)
      for (let k = 0; k < 3; k++)
        out[i * 3 + k] = Math.round(255 * Math.min(1, Math.max(0, p[i * set.channels + (set.channels === 3 ? k : 0)])));
    return out;
  };
  // A class's name where the data set names its classes, its number otherwise ("class 9").
  const name = (c: number): string => escapeHtml(className(inp.classNames, c));
  const cell = (src: string, text: string): string =>
    `<td><img src="${src}" width="${set.width * scale}" height="${set.height * scale}" alt=""><div class="cam-label">${text}</div></td>`;
  const rows: string[] = [];
  const inputs = await Promise.all(pixels.map((p) => png(gray(p))));
  const victims = await Promise.all(pixels.map((p, j) => png(overlay(p, set.channels, victimCam.maps[j]))));
  const surrogates = await Promise.all(pixels.map((p, j) => png(overlay(p, set.channels, surrogateCam.maps[j]))));
  rows.push(`<tr><th>test image</th>${picks.map((idx, j) => cell(inputs[j], name(set.labels[idx]))).join('')}</tr>`);
  rows.push(
    `<tr><th>victim</th>${picks.map((_, j) => cell(victims[j], `predicts ${name(victimCam.predicted[j])}`)).join('')}</tr>`,
  );
  rows.push(
    `<tr><th>RemovalNet surrogate</th>${picks.map((_, j) => cell(surrogates[j], `predicts ${name(surrogateCam.predicted[j])}`)).join('')}</tr>`,
  );
  const html = `<table class="cam"><tbody>${rows.join('')}</tbody></table><div class="colorbar"><span>low</span><span class="bar"></span><span>high saliency</span></div>`;
  return {
    kind: 'images',
    id: 'layercam',
    title: `${CAM_TITLE} at ${inp.block}.`,
    caption:
      `LayerCAM maps at ${inp.block}, the block the attack worked at, for ${picks.length} test images (first of distinct classes): ReLU(sum over channels of ReLU(gradient) x activation) for each model's own predicted class, upsampled to the input size and laid over the image (blue low, red high). ` +
      `The surrogate is ${inp.surrogateName}. Similar maps mean the surrogate attends to the same regions as the victim (paper Fig. 9).${noNames(inp.classNames)}`,
    html,
    images: picks.length * 3,
  };
}

/** What the caption says when the data set names no classes (numbers stand in for names). */
function noNames(classNames: readonly string[]): string {
  return hasClassNames(classNames)
    ? ''
    : ' The data set names no classes, so classes show as numbers: a classes.txt beside its files (one name per line) names them.';
}

/** The t-SNE and LayerCAM figures, or the reasons they are missing. */
export async function modelFigures(data: ReportData, opts: ModelFigureOptions = {}): Promise<ReportFigures> {
  const n = Math.max(4, opts.tsneSamples ?? 150);
  const inp = await loadInputs(data, n);
  if ('reason' in inp) {
    return {
      figures: [],
      skipped: [
        { id: 'layercam', title: CAM_TITLE, reason: inp.reason },
        { id: 'tsne', title: TSNE_TITLE, reason: inp.reason },
      ],
    };
  }
  const figures: ReportFigure[] = [];
  const skipped: SkippedFigure[] = [];
  try {
    try {
      figures.push(await camFigure(inp, opts));
    } catch (e) {
      skipped.push({
        id: 'layercam',
        title: CAM_TITLE,
        reason: `LayerCAM failed: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
    try {
      figures.push(tsneFigure(inp, opts));
    } catch (e) {
      skipped.push({
        id: 'tsne',
        title: TSNE_TITLE,
        reason: `t-SNE failed: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  } finally {
    inp.victim.model.dispose();
    inp.surrogate.model.dispose();
  }
  return { figures, skipped };
}
