import { describe, expect, it } from 'vitest';
import { parseAuditSpec } from '../../src-shared/audit/spec';
import { WizardState } from '../../src-renderer/src/lib/wizard.svelte';
import { paramProblems } from '../../src-renderer/src/lib/wizard/params';
import { autoScenarioId, changedParams, parseSeeds } from '../../src-renderer/src/lib/wizard/spec-form';
import { STEPS, stepOfProblem } from '../../src-renderer/src/lib/wizard/steps';
import { DEMO, catalog, err, fakeClient, ok } from './fixtures';

const stepIndex = (id: string) => STEPS.findIndex((s) => s.id === id);

function wizard(handlers: Parameters<typeof fakeClient>[0] = {}) {
  const client = fakeClient(handlers);
  const cat = catalog();
  return { w: new WizardState(client, cat, { workers: 2 }), client, cat };
}

describe('wizard helpers', () => {
  it('parses seeds and explains bad ones in one line', () => {
    expect(parseSeeds('1, 2 3')).toEqual({ ok: true, seeds: [1, 2, 3] });
    expect(parseSeeds('')).toMatchObject({ ok: false, problem: expect.stringContaining('at least one seed') });
    expect(parseSeeds('1, -2')).toMatchObject({ ok: false, problem: expect.stringContaining('"-2" is not a seed') });
    expect(parseSeeds('4,4')).toMatchObject({ ok: false, problem: expect.stringContaining('seed 4 appears twice') });
  });

  it('derives scenario ids from their fields', () => {
    expect(autoScenarioId({ kind: 'ltd', fraction: 0.1, lsdSource: 'partition', partition: '' })).toBe('ltd10');
    expect(autoScenarioId({ kind: 'ltd', fraction: 0.025, lsdSource: 'partition', partition: '' })).toBe('ltd2.5');
    expect(autoScenarioId({ kind: 'lsd', fraction: null, lsdSource: 'partition', partition: '1/2' })).toBe('lsd-1of2');
    expect(autoScenarioId({ kind: 'lsd', fraction: null, lsdSource: 'data', partition: '1/2' })).toBe('lsd');
  });

  it('keeps only changed parameters and checks ranges', () => {
    const specs = catalog().defenses[0].params;
    expect(changedParams(specs, { seeds: 50, fuzzSteps: 5, ladNormalized: false })).toEqual({ fuzzSteps: 5 });
    expect(changedParams(specs, { seeds: 50, fuzzSteps: 100, ladNormalized: false })).toBeUndefined();
    expect(paramProblems(specs, { seeds: 0, fuzzSteps: null, ladNormalized: false })).toEqual([
      'fuzzSteps needs a value',
      'seeds must be within [1, 10000], got 0',
    ]);
  });

  it('routes spec problems to the step that owns the field', () => {
    expect(stepOfProblem('victim.model: must not be empty')).toBe('victim');
    expect(stepOfProblem('scenarios[0].fraction: must be <= 1')).toBe('data');
    expect(stepOfProblem('calibration.references: required')).toBe('defences');
    expect(stepOfProblem('attacks[1].seeds: must contain at least 1 item')).toBe('attacks');
    expect(stepOfProblem('name: must not be empty')).toBe('review');
  });
});

describe('WizardState', () => {
  it('starts from the demo preset and reproduces both presets exactly', () => {
    const { w, cat } = wizard();
    for (const preset of cat.presets) {
      expect(w.loadPreset(preset.id)).toBe(true);
      const parsed = parseAuditSpec(w.specInput);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(parsed.spec).toEqual(preset.spec);
      expect(w.allProblems).toEqual([]);
    }
    expect(w.loadPreset('nope')).toBe(false);
  });

  it('knows whether the form holds edits a preset would overwrite (none after a load or a start)', async () => {
    const { w, client } = wizard();
    expect(w.edited).toBe(false);
    w.name = 'changed';
    expect(w.edited).toBe(true);
    w.name = 'demo';
    expect(w.edited).toBe(false);
    w.loadPreset('smoke');
    expect(w.edited).toBe(false);
    w.maxTest = 123;
    expect(w.edited).toBe(true);
    client.startRun = async () => ({ ok: true, value: { runId: 'r-1' } });
    w.check = { problems: [], estimate: { jobs: 1, workerSeconds: 1, wallSeconds: 1, workers: 1, backend: 'wasm' } };
    w.checkedJson = w.specJson;
    expect(await w.start()).toBe('r-1');
    expect(w.edited).toBe(false);
  });

  it('maps the demo victim to "demo model" and other folders to "a model folder"', () => {
    const { w } = wizard();
    expect(w.victimMode).toBe('demo');
    expect(w.victimPath).toBe(DEMO.model);
    w.victimMode = 'folder';
    expect(w.victimPath).toBeNull();
    expect(w.problems.victim).toEqual(['Enter the model folder: the one that holds model.json.']);
    expect(w.next()).toBe(false);
    expect(w.step).toBe(0);
    expect(w.canVisit(1)).toBe(false);
    w.modelPath = '/models/mine';
    expect(w.problems.victim).toEqual([]);
    expect(w.next()).toBe(true);
    expect(w.step).toBe(1);
    expect(w.specInput.victim).toEqual({ model: '/models/mine' });
  });

  it('shows inspectModel errors with their hint on the victim step', async () => {
    const { w } = wizard({
      inspectModel: async () =>
        err('MODEL_NOT_FOUND', 'No model.json in /models/x', 'Pick the folder that holds model.json.'),
    });
    w.victimMode = 'folder';
    w.modelPath = '/models/x';
    await w.inspectVictim();
    expect(w.modelError?.code).toBe('MODEL_NOT_FOUND');
    expect(w.problems.victim).toEqual(['No model.json in /models/x Pick the folder that holds model.json.']);
    expect(w.next()).toBe(false);
  });

  it('stores the model summary from inspectModel', async () => {
    const summary = {
      path: DEMO.model,
      arch: 'cnn',
      lineage: 'x',
      inputShape: [28, 28, 1] as [number, number, number],
      numClasses: 10,
      blocks: ['block1', 'block2'],
      defaultAttackBlock: 'block2',
      testAccuracy: 0.8992,
      contentHash: 'abc',
    };
    const { w, client } = wizard({ inspectModel: async () => ok(summary) });
    await w.inspectVictim();
    expect(w.modelSummary).toEqual(summary);
    await w.inspectVictim(); // cached for the same path
    expect(client.calls.filter((c) => c.method === 'inspectModel')).toHaveLength(1);
  });

  it('produces a train-victim spec and validates its fields', () => {
    const { w } = wizard();
    w.victimMode = 'train';
    w.trainArch = 'vgg';
    w.trainSeed = -1;
    expect(w.problems.victim).toContain('The training seed must be a whole number, 0 or more.');
    w.trainSeed = 3;
    w.trainEpochs = 0;
    expect(w.problems.victim).toContain('Epochs must be a number above 0 (fractions allowed, e.g. 0.5).');
    w.trainEpochs = 2;
    expect(w.problems.victim).toEqual([]);
    expect(w.specInput.victim).toEqual({ train: { arch: 'vgg', data: DEMO.data, seed: 3, epochs: 2 } });
    expect(parseAuditSpec(w.specInput).ok).toBe(true);
  });

  it('validates the data step: fraction, partition, another data set, no scenario', () => {
    const { w } = wizard();
    w.scenarios[0].fraction = 0;
    expect(w.problems.data).toEqual(['S_LTD 1: the fraction must be above 0 % and at most 100 %.']);
    w.scenarios[0].fraction = 0.25;
    expect(w.problems.data).toEqual([]);
    expect(w.specInput.scenarios).toEqual([{ id: 'ltd25', kind: 'ltd', fraction: 0.25 }]);

    w.addScenario('lsd');
    w.scenarios[1].partition = '2/2';
    expect(w.problems.data).toEqual(['S_LSD 2: the partition must look like "k/n" with 0 <= k < n, e.g. "1/2".']);
    w.scenarios[1].partition = '1/2';
    expect(w.problems.data).toEqual([]);
    w.scenarios[1].lsdSource = 'data';
    expect(w.problems.data).toEqual(["S_LSD 2: enter the other data set's folder."]);
    w.scenarios[1].data = DEMO.data;
    expect(w.problems.data[0]).toContain("that is the victim's own data set");
    w.scenarios[1].data = '/data/mnist-other';
    expect(w.problems.data).toEqual([]);
    expect(w.specInput.scenarios).toEqual([
      { id: 'ltd25', kind: 'ltd', fraction: 0.25 },
      { id: 'lsd', kind: 'lsd', data: '/data/mnist-other' },
    ]);

    w.removeScenario(w.scenarios[0].uid);
    w.removeScenario(w.scenarios[0].uid);
    expect(w.problems.data).toEqual(['Add a substitute scenario: the data the attacker holds (S_LTD or S_LSD).']);
    w.dataTrain = '  ';
    expect(w.problems.data[0]).toContain("Enter the victim's data set folder");
  });

  it('reports a data set that cannot be previewed', async () => {
    const { w } = wizard({
      previewDataset: async (i) =>
        i.path === DEMO.data
          ? ok({
              path: DEMO.data,
              layout: 'idx',
              shape: [28, 28, 1],
              numClasses: 10,
              counts: { train: [2], test: [1] },
              samples: [],
            })
          : err('DATASET_NOT_FOUND', 'No data set in /nope', 'Check the path.'),
    });
    await w.preview(DEMO.data);
    expect(w.previews[DEMO.data]).toMatchObject({ status: 'ok' });
    w.dataTest = '/nope';
    await w.preview('/nope');
    expect(w.problems.data).toEqual(['Test set: No data set in /nope']);
    expect(w.specInput.data).toMatchObject({ train: DEMO.data, test: '/nope' });
  });

  it('validates defences, their parameters and the calibration', async () => {
    const { w } = wizard({ listCalibrations: async () => ok([]) });
    for (const d of w.defences) d.enabled = false;
    expect(w.problems.defences).toEqual(['Pick at least one defence to audit.']);
    w.defences[0].enabled = true;
    w.defences[0].params.seeds = 0;
    expect(w.problems.defences).toEqual(['DeepJudge (LOD, LAD): seeds must be within [1, 10000], got 0.']);
    w.defences[0].params.seeds = 20;
    expect(w.specInput.defenses).toEqual([{ id: 'deepjudge', params: { seeds: 20 } }]);

    w.references = 1;
    expect(w.problems.defences[0]).toContain('K must be a whole number from 2 to 1000');
    w.references = 3;
    w.rule = 'normal';
    w.ruleParameter = 1.5;
    expect(w.problems.defences).toEqual(["The normal rule's parameter must lie strictly between 0 and 1."]);
    w.ruleParameter = 0.1;
    expect(w.specInput.calibration).toEqual({ references: 3, rule: { name: 'normal', parameter: 0.1 } });

    await w.loadCalibrations();
    w.calibrationMode = 'reuse';
    expect(w.problems.defences).toEqual(['No stored calibration to reuse yet: build one with K reference models.']);
    w.reuseId = 'c-1';
    expect(w.problems.defences).toEqual([]);
    expect(w.specInput.calibration).toEqual({ reuse: 'c-1' });
  });

  it('validates attacks: seeds, iterations, parameters, variants', () => {
    const { w } = wizard();
    w.loadPreset('smoke');
    const rn = w.attacks.find((a) => a.name === 'removalnet')!;
    rn.seeds = '1, x';
    expect(w.problems.attacks).toEqual(['RemovalNet: seeds "x" is not a seed: seeds are non-negative integers.']);
    rn.seeds = '1, 2';
    rn.iterations = null;
    expect(w.problems.attacks).toEqual(['RemovalNet: iterations must be a whole number of at least 1.']);
    rn.iterations = 5;
    rn.params.latentSteps = 2000;
    expect(w.problems.attacks).toEqual(['RemovalNet: latentSteps must be within [0, 1000], got 2000.']);
    rn.params.latentSteps = 2;
    expect(w.problems.attacks).toEqual([]);

    w.duplicateAttack(rn.uid);
    const variants = w.attacks.filter((a) => a.name === 'removalnet');
    expect(variants).toHaveLength(2);
    variants[1].params.alpha = 0.4;
    const spec = w.specInput as { attacks: { name: string; params?: Record<string, unknown>; seeds: number[] }[] };
    expect(spec.attacks.filter((a) => a.name === 'removalnet').map((a) => a.params)).toEqual([
      { latentSteps: 2 },
      { latentSteps: 2, alpha: 0.4 },
    ]);
    w.removeAttack(variants[1].uid);
    expect(w.attacks.filter((a) => a.name === 'removalnet')).toHaveLength(1);
    w.removeAttack(rn.uid); // the last one stays, switched off
    expect(w.attacks.find((a) => a.name === 'removalnet')?.enabled).toBe(false);

    for (const a of w.attacks) a.enabled = false;
    expect(w.problems.attacks).toEqual(['Pick at least one attack.']);
  });

  it('keeps checkpoint metrics to the enabled defences', () => {
    const { w } = wizard();
    w.loadPreset('smoke');
    expect(w.specInput.checkpoints).toEqual({ every: 5, metrics: ['deepjudge.lod'] });
    w.defences.find((d) => d.id === 'deepjudge')!.enabled = false;
    expect(w.specInput.checkpoints).toEqual({ every: 5 });
    w.checkpointsEvery = 0;
    expect(w.problems.attacks[0]).toContain('Checkpoints');
  });

  it("shows the main side's problems and estimate for the current spec only", async () => {
    let problems: string[] = ['attacks[0].params.foo: unknown parameter "foo"'];
    const { w, client } = wizard({
      checkSpec: async () =>
        ok(
          problems.length
            ? { problems }
            : { problems: [], estimate: { jobs: 9, workerSeconds: 180, wallSeconds: 92, workers: 2, backend: 'wasm' } },
        ),
    });
    await w.runCheck();
    expect(w.problems.attacks).toEqual(['attacks[0].params.foo: unknown parameter "foo"']);
    expect(w.estimate).toBeNull();
    expect(w.canStart).toBe(false);
    expect(client.calls.at(-1)).toEqual({ method: 'checkSpec', input: { spec: JSON.parse(w.specJson), workers: 2 } });

    problems = [];
    w.name = 'renamed';
    expect(w.problems.attacks).toEqual([]); // the check was for another spec
    await w.runCheck();
    expect(w.estimate).toEqual({ jobs: 9, workerSeconds: 180, wallSeconds: 92, workers: 2, backend: 'wasm' });
    expect(w.canStart).toBe(true);
  });

  it('needs a name, and starts the run with the spec', async () => {
    const { w, client } = wizard({
      startRun: async () => ok({ runId: 'r-20261130-1' }),
      checkSpec: async () => ok({ problems: [] }),
    });
    w.loadPreset('smoke');
    w.name = ' ';
    expect(w.problems.review).toEqual(['Name the audit: the name labels it in the history and the report.']);
    expect(await w.start()).toBeNull();
    w.name = 'my audit';
    expect(await w.start()).toBe('r-20261130-1');
    const call = client.calls.find((c) => c.method === 'startRun')!;
    expect(call.input).toMatchObject({ spec: { name: 'my audit', version: 1 }, workers: 2 });
    expect(parseAuditSpec((call.input as { spec: unknown }).spec).ok).toBe(true);
  });

  it('shows why a run did not start', async () => {
    const { w } = wizard({ startRun: async () => err('BUSY', 'Another audit is running', 'Wait for it or pause it.') });
    w.loadPreset('smoke');
    expect(await w.start()).toBeNull();
    expect(w.startError).toEqual({
      code: 'BUSY',
      message: 'Another audit is running',
      hint: 'Wait for it or pause it.',
    });
  });

  it('navigates only to steps whose predecessors are valid', () => {
    const { w } = wizard();
    expect(w.goTo(stepIndex('review'))).toBe(true);
    w.attacks.forEach((a) => (a.enabled = false));
    w.step = 0;
    expect(w.canVisit(stepIndex('attacks'))).toBe(true);
    expect(w.canVisit(stepIndex('review'))).toBe(false);
    expect(w.goTo(stepIndex('review'))).toBe(false);
    expect(w.goTo(99)).toBe(false);
  });
});
