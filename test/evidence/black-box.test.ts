/**
 * A suspect known only through its API (issue 19): export the queries, serve the fine-tuned
 * model over HTTP from a child process, `queries send`, then `verify --responses` without
 * the model. The recorded answers must give every black-box metric `verify --suspect`
 * gives; poorer answers (labels) must make the metrics that need more not applicable;
 * answers to other inputs are refused; and a send that loses its API midway resumes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readQueriesManifest, readQuerySet, toPixels } from '../../src-main/engine/evidence/queries-export';
import { STEP_CEILING_MS } from '../helpers/ceilings';
import { runCli } from '../cli/run-cli';
import { makeEvidenceWorld, type EvidenceWorld } from './fixture';

interface Metric {
  id: string;
  value: number | null;
  applicable: boolean;
  reason?: string;
  votes: boolean;
  tau?: number;
  degenerate?: boolean;
  flagged?: boolean;
}
interface Verified {
  metrics: Metric[];
  verdict: { derived: boolean; insufficientEvidence: boolean; votes: number; of: number };
  suspect: { kind: string };
}
interface Responses {
  output: string;
  sets: Record<string, { inputsSha256: string; answers: (number | number[])[] }>;
}

const BLACK_BOX = ['zest.l2', 'zest.cosine', 'modeldiff.ddv', 'ipguard.mr', 'fidelity.accuracy', 'fidelity.agreement'];

/** Starts the model server on a free port; resolves with its URL once it listens. */
function serve(modelDir: string, extra: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/evidence/model-server.ts', modelDir, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OWNERSHIP_AUDIT_BACKEND: undefined },
  });
  return new Promise((resolveUrl, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`model server did not start: ${err}`)), STEP_CEILING_MS);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl({ url: `http://127.0.0.1:${m[1]}/predict`, child });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!/listening/.test(out)) reject(new Error(`model server exited with ${code}: ${err}`));
    });
  });
}

// runCli blocks this process while the CLI runs; the server is its own process, so it still answers.
const cli = runCli;

function ok<T>(args: string[]): T {
  const r = cli([...args, '--json']);
  expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.json as T;
}

const byId = (r: Verified, id: string) => r.metrics.find((m) => m.id === id) as Metric;

describe('a suspect known only through its API', () => {
  let w: EvidenceWorld;
  let queries: string;
  let server: { url: string; child: ChildProcess };
  /** Exits after answering 40 requests: an API that goes away midway. */
  let dying: { url: string; child: ChildProcess };
  let responses: string;
  let modelRoute: Verified;
  let suspectDir: string;
  const verifyArgs = () => ['verify', '--victim', w.victim, '--data', w.data, '--calibration', w.calibration];

  beforeAll(async () => {
    w = makeEvidenceWorld('black-box');
    queries = join(w.dir, 'queries');
    responses = join(w.dir, 'responses.json');
    const manifest = ok<{ sets: { id: string; exported: boolean; note?: string }[] }>([
      'queries',
      'export',
      '--calibration',
      w.calibration,
      '--victim',
      w.victim,
      '--data',
      w.data,
      '--out',
      queries,
      '--png',
    ]);
    expect(manifest.sets.map((s) => [s.id, s.exported])).toEqual([
      ['deepjudge', false],
      ['zest', true],
      ['modeldiff', true],
      ['ipguard', true],
      ['fidelity', true],
    ]);
    expect(manifest.sets[0].note).toMatch(/white-box/);
    // The deployed suspect: a copy the servers load and that is then deleted, so that the
    // API route runs with the suspect's folder absent, as a verifier's would.
    suspectDir = join(w.dir, 'deployed-suspect');
    cpSync(w.finetuned, suspectDir, { recursive: true });
    // Both servers start while the model route runs (about 3 s each, mostly loading TF.js).
    const starting = [serve(suspectDir), serve(suspectDir, ['--die-after', '40'])];
    modelRoute = ok<Verified>([...verifyArgs(), '--suspect', suspectDir]);
    [server, dying] = await Promise.all(starting);
    rmSync(suspectDir, { recursive: true });
  });

  afterAll(() => {
    server?.child.kill();
    dying?.child.kill();
    w?.cleanup();
  });

  it('gives every black-box metric of the model route from the API answers alone', () => {
    const sent = ok<{ answered: number; resumed: number }>([
      'queries',
      'send',
      '--queries',
      queries,
      '--url',
      server.url,
      '--out',
      responses,
      '--rate',
      '1000/s',
    ]);
    expect(sent.resumed).toBe(0);
    expect(existsSync(`${responses}.partial`)).toBe(false);
    expect(existsSync(suspectDir)).toBe(false);
    const api = ok<Verified>([...verifyArgs(), '--responses', responses]);
    expect(api.suspect.kind).toBe('responses');
    for (const id of BLACK_BOX) {
      const a = byId(api, id).value as number;
      const b = byId(modelRoute, id).value as number;
      expect(a, id).not.toBeNull();
      expect(Math.abs(a - b), `${id}: API ${a}, model ${b}`).toBeLessThanOrEqual(1e-6 * Math.max(1e-12, Math.abs(b)));
    }
    for (const id of ['deepjudge.lod', 'deepjudge.lad']) {
      expect(byId(api, id).applicable).toBe(false);
      expect(byId(api, id).reason).toMatch(/white-box/);
    }
    expect(typeof api.verdict.derived).toBe('boolean');
    expect(api.verdict.insufficientEvidence).toBe(false);
    // The verdict is the model route's without DeepJudge: the same black-box metrics vote the same way.
    const voting = modelRoute.metrics.filter(
      (m) => !m.id.startsWith('deepjudge') && m.votes && m.tau !== undefined && !m.degenerate,
    );
    expect(api.verdict.of).toBe(voting.length);
    expect(api.verdict.votes).toBe(voting.filter((m) => m.flagged).length);
  });

  it('moves the metrics when the answers are changed (hashes kept)', () => {
    const doc = JSON.parse(readFileSync(responses, 'utf8')) as Responses;
    // Every score moved by up to 30%, differently per row and class.
    for (const id of ['zest', 'modeldiff'])
      doc.sets[id].answers = doc.sets[id].answers.map((row, i) =>
        (row as number[]).map((v, j) => v * (1 + 0.3 * Math.sin(7 * i + 3 * j + 1))),
      );
    doc.sets.ipguard.answers = doc.sets.ipguard.answers.map((row) =>
      (row as number[]).map((v, j) => (j === 0 ? v + 100 : v)),
    );
    const file = join(w.dir, 'perturbed.json');
    writeFileSync(file, JSON.stringify(doc));
    const r = ok<Verified>([...verifyArgs(), '--responses', file]);
    for (const id of ['zest.l2', 'zest.cosine', 'modeldiff.ddv', 'ipguard.mr'])
      expect(byId(r, id).value, id).not.toBeCloseTo(byId(modelRoute, id).value as number, 6);
    expect(byId(r, 'fidelity.accuracy').value).toBe(byId(modelRoute, 'fidelity.accuracy').value);
  });

  it('with labels only: ZEST and ModelDiff do not apply, IPGuard does, and the verdict says the evidence is insufficient', () => {
    const doc = JSON.parse(readFileSync(responses, 'utf8')) as Responses;
    doc.output = 'labels';
    for (const set of Object.values(doc.sets))
      set.answers = set.answers.map((row) => (row as number[]).indexOf(Math.max(...(row as number[]))));
    const file = join(w.dir, 'labels.json');
    writeFileSync(file, JSON.stringify(doc));
    const r = ok<Verified>([...verifyArgs(), '--responses', file]);
    expect(byId(r, 'zest.l2').reason).toMatch(/needs logits/);
    expect(byId(r, 'zest.cosine').applicable).toBe(false);
    expect(byId(r, 'modeldiff.ddv').reason).toMatch(/needs probabilities/);
    expect(byId(r, 'ipguard.mr').value).toBe(byId(modelRoute, 'ipguard.mr').value);
    expect(byId(r, 'fidelity.agreement').value).toBe(byId(modelRoute, 'fidelity.agreement').value);
    expect(r.verdict.insufficientEvidence).toBe(true);
    expect(r.verdict.derived).toBe(false);
  });

  it('refuses answers to other inputs', () => {
    const doc = JSON.parse(readFileSync(responses, 'utf8')) as Responses;
    doc.sets.ipguard.inputsSha256 = doc.sets.modeldiff.inputsSha256;
    const file = join(w.dir, 'other-inputs.json');
    writeFileSync(file, JSON.stringify(doc));
    const r = cli([...verifyArgs(), '--responses', file, '--json']);
    expect(r.status).toBe(2);
    expect((r.json.error as { code: string; message: string }).code).toBe('RESPONSES_INVALID');
    expect((r.json.error as { message: string }).message).toMatch(/ipguard.*other inputs/);
  });

  it('resumes from the partial file after the API goes away midway', () => {
    const out = join(w.dir, 'resumed.json');
    const send = (url: string) =>
      cli([
        'queries',
        'send',
        '--queries',
        queries,
        '--url',
        url,
        '--out',
        out,
        '--rate',
        '1000/s',
        '--retries',
        '1',
        '--json',
      ]);
    const first = send(dying.url);
    expect(first.status).toBe(2);
    expect((first.json.error as { code: string }).code).toBe('DEPENDENCY_FAILED');
    const partial = readFileSync(`${out}.partial`, 'utf8').trim().split('\n');
    expect(partial.length - 1).toBeGreaterThanOrEqual(39); // a header, then one line per answer
    const second = send(server.url);
    expect(second.status, second.stderr).toBe(0);
    const { resumed, answered } = second.json as { resumed: number; answered: number };
    expect(resumed).toBe(partial.length - 1);
    const total = Object.values((JSON.parse(readFileSync(responses, 'utf8')) as Responses).sets).reduce(
      (n, s) => n + s.answers.length,
      0,
    );
    expect(resumed + answered).toBe(total);
    expect(existsSync(`${out}.partial`)).toBe(false);
    // The same model answers the same queries: the resumed file holds the uninterrupted run's answers.
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(readFileSync(responses, 'utf8')));
  });

  it('the PNG route: the exported PNGs are the quantised inputs, and an API that takes PNGs answers close to the float32 route', async () => {
    const manifest = readQueriesManifest(queries);
    for (const entry of manifest.sets.filter((e) => e.exported)) {
      const set = readQuerySet(queries, manifest, entry);
      for (const i of [0, entry.count - 1]) {
        const { data, info } = await sharp(join(queries, 'png', entry.id, `${i}.png`))
          .toColourspace('b-w') // the fixture is gray; sharp decodes gray as RGB otherwise
          .raw()
          .toBuffer({ resolveWithObject: true });
        expect([info.height, info.width, info.channels]).toEqual(manifest.inputShape);
        expect(Buffer.from(data).equals(Buffer.from(toPixels(set.inputs, i, manifest.normalization).pixels))).toBe(
          true,
        );
      }
    }
    const out = join(w.dir, 'png-route.json');
    const r = cli([
      'queries',
      'send',
      '--queries',
      queries,
      '--url',
      server.url,
      '--out',
      out,
      '--input',
      'png',
      '--rate',
      '1000/s',
      '--batch',
      '8',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const viaPng = JSON.parse(readFileSync(out, 'utf8')) as Responses;
    const exact = JSON.parse(readFileSync(responses, 'utf8')) as Responses;
    // The test split is 8-bit data: its PNGs are lossless. The fingerprint inputs are not.
    expect(viaPng.sets.fidelity).toEqual(exact.sets.fidelity);
    const diffs = exact.sets.modeldiff.answers.flatMap((row, i) =>
      (row as number[]).map((v, j) => Math.abs(v - (viaPng.sets.modeldiff.answers[i] as number[])[j])),
    );
    expect(Math.max(...diffs)).toBeGreaterThan(0);
    expect(Math.max(...diffs)).toBeLessThan(0.5);
  });
});
