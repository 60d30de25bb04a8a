import { describe, expect, it } from 'vitest';
import { parseAuditSpec, type AuditSpec } from '../../src-shared/audit/spec';
import { emptyForm, formToSpec, specToForm, type WizardForm } from '../../src-renderer/src/lib/wizard/spec-form';
import { problemPath, stepOfPath, stepOfProblem } from '../../src-renderer/src/lib/wizard/steps';
import { DEMO, catalog } from './fixtures';

const cat = catalog();

function parsed(input: unknown): AuditSpec {
  const r = parseAuditSpec(input);
  if (!r.ok) throw new Error(`the form wrote an invalid spec:\n${r.problems.join('\n')}`);
  return r.spec;
}

/** A form without its list keys (new on every load, so never part of a round trip). */
function withoutUids(f: WizardForm): unknown {
  return {
    ...f,
    scenarios: f.scenarios.map(({ uid: _uid, ...s }) => s),
    attacks: f.attacks.map(({ uid: _uid, ...a }) => a),
  };
}

/** The form's explicit-parameter lists say what a loaded spec stated: left out where a form was edited. */
function withoutExplicit(f: unknown): unknown {
  const g = f as WizardForm;
  return {
    ...g,
    defences: g.defences.map(({ explicit: _e, ...d }) => d),
    attacks: g.attacks.map(({ explicit: _e, ...a }) => a),
  };
}

/** Smoke-like, with every field the form keeps but does not edit, and each kind of entry. */
function richSpec(): AuditSpec {
  return parsed({
    version: 1,
    name: 'rich',
    victim: {
      train: { arch: 'vgg', data: '/data/cifar', seed: 4, epochs: 0.5, width: 16, learningRate: 0.01 },
    },
    data: { train: '/data/cifar', test: '/data/cifar-test', maxTest: 300, maxTrain: 5000 },
    scenarios: [
      { id: 'ltd10', kind: 'ltd', fraction: 0.1 },
      { id: 'mine', kind: 'ltd', fraction: 0.25 },
      { id: 'lsd-1of3', kind: 'lsd', partition: '1/3' },
      { id: 'lsd', kind: 'lsd', data: '/data/other' },
    ],
    // Not the catalog's order, and a parameter stated at its default (it names the column).
    defenses: [
      { id: 'modeldiff', params: { seeds: 100 } },
      { id: 'deepjudge', params: { fuzzSteps: 5, ladNormalized: true } },
    ],
    calibration: {
      references: 3,
      rule: { name: 'quantile', parameter: 0.1 },
      referenceIterations: 40,
      noise: 0.1,
      metricRules: { 'modeldiff.ddv': { name: 'paper' } },
    },
    attacks: [
      { name: 'removalnet', label: 'RN a=0.4', params: { alpha: 0.4 }, seeds: [1, 2], iterations: 50, block: 'block2' },
      { name: 'finetune', seeds: [3], iterations: 20, batchSize: 64, scenarios: ['mine'] },
      { name: 'removalnet', seeds: [5], iterations: 10 },
    ],
    checkpoints: { every: 10, metrics: ['deepjudge.lod', 'modeldiff.ddv'] },
    verdict: { rule: 'any' },
    sweeps: [{ target: 'attack:finetune', param: 'iterations', values: [10, 20] }],
  });
}

/**
 * A form edited by hand from the empty one, in the shape a load gives back: a load puts the
 * spec's defences and attacks first, so the ones switched on here are the first ones.
 */
function editedForm(): WizardForm {
  const f = emptyForm(cat);
  f.name = 'edited';
  f.victimMode = 'folder';
  f.modelPath = '/models/mine';
  f.dataTest = '/data/test';
  f.maxTest = 100;
  f.scenarios[0].fraction = 0.05;
  f.scenarios.push({ ...f.scenarios[0], uid: -1, kind: 'lsd', fraction: 0.1, partition: '0/2' });
  f.defences[3].enabled = false;
  f.defences[0].params.seeds = 20;
  f.calibrationMode = 'reuse';
  f.reuseId = 'c-1';
  f.verdictRule = 'all';
  const rn = f.attacks[0];
  rn.enabled = true;
  rn.seeds = '1, 2, 3';
  rn.params.latentSteps = 3;
  rn.block = 'block2';
  f.checkpointsEvery = 25;
  return f;
}

describe('spec -> form -> spec', () => {
  it('gives back each preset exactly', () => {
    for (const preset of cat.presets)
      expect(parsed(formToSpec(specToForm(preset.spec, cat), cat))).toEqual(preset.spec);
  });

  it('gives back a spec with every kind of entry and the fields the form does not edit', () => {
    const spec = richSpec();
    const form = specToForm(spec, cat);
    expect(form.kept).toEqual({
      victimTrain: { width: 16, learningRate: 0.01 },
      data: { maxTrain: 5000 },
      calibration: { noise: 0.1, metricRules: { 'modeldiff.ddv': { name: 'paper' } } },
      sweeps: spec.sweeps,
    });
    expect(form.scenarios.map((s) => s.id)).toEqual([null, 'mine', null, null]);
    expect(form.defences.map((d) => [d.id, d.enabled])).toEqual([
      ['modeldiff', true],
      ['deepjudge', true],
      ['zest', false],
      ['ipguard', false],
    ]);
    expect(parsed(formToSpec(form, cat))).toEqual(spec);
  });

  it('writes the demo victim by the catalog path and other folders as they are', () => {
    const demo = cat.presets.find((p) => p.id === 'demo')!.spec;
    expect(specToForm(demo, cat).victimMode).toBe('demo');
    const other = specToForm({ ...demo, victim: { model: '/models/x' } }, cat);
    expect([other.victimMode, other.modelPath]).toEqual(['folder', '/models/x']);
    expect(formToSpec({ ...other, victimMode: 'demo' }, cat).victim).toEqual({ model: DEMO.model });
  });
});

describe('form -> spec -> form', () => {
  it('gives back the form of each preset and of the rich spec', () => {
    for (const spec of [...cat.presets.map((p) => p.spec), richSpec()]) {
      const form = specToForm(spec, cat);
      const back = specToForm(parsed(formToSpec(form, cat)), cat);
      expect(withoutUids(back)).toEqual(withoutUids(form));
    }
  });

  it('gives back a form edited by hand', () => {
    const form = editedForm();
    const spec = parsed(formToSpec(form, cat));
    expect(spec.calibration).toEqual({ reuse: 'c-1' });
    expect(spec.scenarios).toEqual([
      { id: 'ltd5', kind: 'ltd', fraction: 0.05 },
      { id: 'lsd-0of2', kind: 'lsd', partition: '0/2' },
    ]);
    expect(spec.attacks).toEqual([
      { name: 'removalnet', params: { latentSteps: 3 }, seeds: [1, 2, 3], iterations: 300, block: 'block2' },
    ]);
    const back = specToForm(spec, cat);
    expect(withoutExplicit(withoutUids(back))).toEqual(withoutExplicit(withoutUids(form)));
    // What the spec stated is kept even at its default from then on.
    expect(back.defences.find((d) => d.id === 'deepjudge')?.explicit).toEqual(['seeds']);
  });
});

describe('problems on the step that edits their field', () => {
  it('reads the field path a problem line starts with', () => {
    expect(problemPath('attacks[1].seeds: must contain at least 1 item')).toEqual(['attacks', 1, 'seeds']);
    expect(problemPath('attacks[0].params["odd key"]: unknown')).toEqual(['attacks', 0, 'params', 'odd key']);
    expect(problemPath('(spec): unknown field "x"')).toEqual([]);
    expect(problemPath('no path here')).toEqual([]);
  });

  it('routes by the first field of the path', () => {
    expect(stepOfPath(['victim', 'train', 'seed'])).toBe('victim');
    expect(stepOfPath(['scenarios', 0, 'fraction'])).toBe('data');
    expect(stepOfPath(['verdict', 'rule'])).toBe('defences');
    expect(stepOfPath(['sweeps', 0, 'target'])).toBe('attacks');
    expect(stepOfPath(['name'])).toBe('review');
    expect(stepOfPath([])).toBe('review');
    expect(stepOfProblem('data.test: no data set folder at /x')).toBe('data');
    expect(stepOfProblem('calibration.reuse: no stored calibration with id c-9')).toBe('defences');
  });
});
