/**
 * A suspect deployed as an API, for the black-box tests: serves one model folder on
 * 127.0.0.1 (a free port, printed as `listening <port>` on stdout) and answers
 * POST {"input": [h][w][c] floats, or a base64 PNG, or an array of either} with {"output":
 * logits | probabilities | label, or an array of them}. A PNG is read as an image API would:
 * pixels / 255, then the victim's normalisation. Loaded with the project's own loader and backend, as
 * `verify --suspect` loads it, so both routes see the same model.
 *
 *   node --import tsx test/evidence/model-server.ts MODEL_DIR [--output logits|probabilities|labels] [--die-after N]
 *
 * --die-after N: the process exits after answering N requests (an API that goes away midway).
 */
import { createServer } from 'node:http';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initBackend } from '../../src-main/engine/backend';
import { loadModel } from '../../src-main/engine/models/io';

const [modelDir, ...rest] = process.argv.slice(2);
const flag = (name: string) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const output = flag('--output') ?? 'logits';
const dieAfter = flag('--die-after') ? Number(flag('--die-after')) : Infinity;

tf.env().set('PROD', true);
await initBackend(process.env.OWNERSHIP_AUDIT_BACKEND);
const { model, meta } = await loadModel(modelDir);
const [h, w, c] = meta.inputShape;

/** A base64 PNG as the model's [h][w][c] input. */
async function fromPng(b64: string): Promise<number[][][]> {
  const { data } = await sharp(Buffer.from(b64, 'base64'))
    .toColourspace(c === 1 ? 'b-w' : 'srgb') // sharp decodes gray as RGB otherwise
    .raw()
    .toBuffer({ resolveWithObject: true });
  const norm = meta.normalization;
  return Array.from({ length: h }, (_, y) =>
    Array.from({ length: w }, (_, x) =>
      Array.from({ length: c }, (_, k) => {
        const v = Math.fround(data[(y * w + x) * c + k] / 255);
        return norm ? (v - norm.mean[k]) * (1 / norm.std[k]) : v;
      }),
    ),
  );
}

function answer(images: number[][][][]): unknown[] {
  const flat = new Float32Array(images.length * h * w * c);
  let k = 0;
  for (const img of images) for (const row of img) for (const px of row) for (const v of px) flat[k++] = v;
  const logits = tf.tidy(() => model.predict(tf.tensor4d(flat, [images.length, h, w, c])) as tf.Tensor2D);
  const rows = logits.arraySync();
  logits.dispose();
  return rows.map((r) => {
    if (output === 'labels') return r.indexOf(Math.max(...r));
    if (output === 'probabilities') {
      const m = Math.max(...r);
      const e = r.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    }
    return r;
  });
}

let served = 0;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString('utf8')));
  req.on('end', () => {
    void (async () => {
      try {
        const input = (JSON.parse(body) as { input: unknown }).input;
        const batched = Array.isArray(input) && (typeof input[0] === 'string' || Array.isArray(input[0]?.[0]?.[0]));
        const list = (batched ? input : [input]) as (string | number[][][])[];
        const images = await Promise.all(list.map((x) => (typeof x === 'string' ? fromPng(x) : x)));
        const rows = answer(images);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ output: batched ? rows : rows[0] }));
      } catch (e) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (e as Error).message }));
      }
      if (++served >= dieAfter) process.exit(3);
    })();
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
