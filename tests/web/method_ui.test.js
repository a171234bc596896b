'use strict';
// What the page and the playground derive from a catalogue entry, in node: the checks the
// page makes before a merge (web/method_check.js), the counts and ranges in words
// (web/methods.js), which tasks the playground merges for a method (playground/task_pick.js)
// and the values its generated controls write (playground/merge_config.js). The methods
// here are shaped as the engine's catalogue entries for SLERP and DELLA (the describe
// job's 'methods' event), so the rules are checked whatever the engine has registered.
const { test, assert } = require('../cli/harness');
const Methods = require('../../web/methods.js');
const { checkConfig } = require('../../web/method_check.js');
const { fitTasks } = require('../../web/playground/task_pick.js');
const MC = require('../../web/playground/merge_config.js');

const number = (name, scope, extra = {}) => ({ name, scope, kind: 'number', default: null, required: false, ...extra });
const SLERP = { name: 'slerp', title: 'SLERP', url: 'https://example.org/slerp', summary: 's', formula: 'f',
  models: { min: 1, max: 1 }, needs_base: true, needs: [], stages: ['result'],
  params: [number('t', 'global', { required: true, min: 0, max: 1 })] };
const DELLA = { name: 'della', title: 'DELLA', url: 'https://example.org/della', summary: 's', formula: 'f',
  models: { min: 1, max: null }, needs_base: true, needs: [], stages: ['result'],
  params: [number('weight', 'model', { required: true }), number('density', 'model', { default: 1, min: 0, min_exclusive: true, max: 1 }),
    number('epsilon', 'model', { default: 0.15, min: 0 }), number('lambda', 'global', { default: 1 }),
    { name: 'normalize', scope: 'global', kind: 'bool', default: true, required: false },
    { name: 'rescale_mode', scope: 'global', kind: 'choice', default: 'l1', required: false, choices: ['l1', 'inverse_density'] }] };
const NUSLERP = { ...SLERP, name: 'nuslerp', title: 'NuSLERP', models: { min: 2, max: 2 }, needs_base: false, takes_base: true,
  params: [number('weight', 'model', { required: true })] };

const messages = (method, config) => checkConfig(method, config).map((p) => p.message);

test('methods: model counts and ranges in words, as the engine says them', () => {
  assert.strictEqual(Methods.countText(SLERP), 'a base and exactly 1 other model');
  assert.strictEqual(Methods.countText(NUSLERP), 'exactly 2 models, with or without a base');
  assert.strictEqual(Methods.countText({ ...NUSLERP, takes_base: undefined }), 'exactly 2 models', 'an older catalogue: no optional base');
  assert.strictEqual(Methods.takesBase(NUSLERP), true);
  assert.strictEqual(Methods.countText(DELLA), 'a base and 1 or more other models');
  assert.strictEqual(Methods.rangeText(Methods.param(DELLA, 'density')), '(0, 1]');
  assert.strictEqual(Methods.rangeText(Methods.param(DELLA, 'epsilon')), '[0, ∞]');
  assert.strictEqual(Methods.rangeText(Methods.param(DELLA, 'lambda')), '');
  assert.strictEqual(Methods.inRange(Methods.param(DELLA, 'density'), 0), false, 'the lower bound is exclusive');
  assert.strictEqual(Methods.inRange(Methods.param(DELLA, 'density'), 1), true);
  assert.strictEqual(Methods.combines(SLERP), true, 'a base and one model are two models');
  assert.deepStrictEqual(Methods.globalParams(DELLA).map((p) => p.name), ['lambda', 'normalize', 'rescale_mode']);
});

test('method check: a base and exactly one model for SLERP, its required t, its range', () => {
  const two = { merge_method: 'slerp', base_model: 'b', models: [{ model: 'x' }, { model: 'y' }], parameters: { t: 0.5 } };
  assert.deepStrictEqual(messages(SLERP, two), ['SLERP merges a base and exactly 1 other model; 2 are set to Merge.']);
  // The base listed under models takes part in no weighting (as the engine reads it).
  assert.deepStrictEqual(messages(SLERP, { ...two, models: [{ model: 'b' }, { model: 'x' }] }), []);
  assert.deepStrictEqual(messages(SLERP, { merge_method: 'slerp', models: [{ model: 'x' }] }), [
    'SLERP needs a base model (base_model): set one model\'s role to Base.', 'SLERP requires t: give it a value.']);
  const far = checkConfig(SLERP, { ...two, models: [{ model: 'x' }], parameters: { t: [0, 1.5] } });
  assert.deepStrictEqual(far, [{ message: 'parameters: t 1.5 is outside [0, 1]', param: 't', model: null }]);
  // With slices the counts are per slice: the engine's plan says them.
  assert.deepStrictEqual(messages(SLERP, { merge_method: 'slerp', slices: [], parameters: { t: 0.2 } }), []);
  assert.deepStrictEqual(messages(null, two), [], 'no catalogue entry: nothing to check against');
  // An optional base is no model to merge: NuSLERP with a base and two models is fine.
  assert.deepStrictEqual(messages(NUSLERP, { merge_method: 'nuslerp', base_model: 'b', models: [{ model: 'x', parameters: { weight: 1 } },
    { model: 'y', parameters: { weight: 1 } }] }), []);
});

test('method check: per-model values and choices, named by their model, as the engine names them', () => {
  const config = { merge_method: 'della', base_model: 'b', parameters: { rescale_mode: 'half' }, models: [
    { model: 'x', parameters: { weight: 1, density: [{ filter: 'mlp', value: 0 }, { value: 0.5 }], epsilon: 0.1 } },
    { model: 'y', parameters: { epsilon: -1 } }] };
  assert.deepStrictEqual(checkConfig(DELLA, config), [
    { message: 'parameters: rescale_mode must be \'l1\' or \'inverse_density\'', param: 'rescale_mode', model: null },
    { message: 'model \'y\': parameter \'weight\' is required by della', param: 'weight', model: 'y' },
    { message: 'model \'x\': density 0 is outside (0, 1]', param: 'density', model: 'x' },
    { message: 'model \'y\': epsilon -1 is outside [0, ∞]', param: 'epsilon', model: 'y' }]);
  // A required per-model value given globally is everyone's.
  assert.deepStrictEqual(messages(DELLA, { merge_method: 'della', base_model: 'b', parameters: { weight: 1 }, models: [{ model: 'x' }] }), []);
});

test('playground tasks: a method taking fewer gets the first chosen; more are filled in order; any number keeps the choice', () => {
  const all = ['a', 'b', 'c', 'd', 'e'];
  assert.deepStrictEqual(fitTasks(SLERP, ['b', 'c', 'e'], all), ['b']);
  assert.deepStrictEqual(fitTasks(NUSLERP, ['c'], all), ['c', 'a']);
  assert.deepStrictEqual(fitTasks(NUSLERP, all, all), ['a', 'b']);
  assert.deepStrictEqual(fitTasks(DELLA, ['d', 'e'], all), ['d', 'e']);
  assert.deepStrictEqual(fitTasks({ ...DELLA, models: { min: 2, max: null } }, [], all), ['a', 'b']);
});

test('playground configs: the generated controls\' values go where the catalogue says, required ones start in range', () => {
  const state = { density: 0.4, lambda: 0.9, seed: 3, rescale: 'default', models: [{ name: 'moons', weight: 1 }] };
  assert.deepStrictEqual(MC.buildConfig(state, SLERP), { merge_method: 'slerp', base_model: 'base.safetensors',
    models: [{ model: 'moons.safetensors' }], parameters: { t: 0.5 }, random_seed: 3 }, 'a required t starts mid-range');
  const della = MC.buildConfig({ ...state, values: { epsilon: 0.05, normalize: true, t: 0.3 } }, DELLA);
  assert.deepStrictEqual(della.models, [{ model: 'moons.safetensors', parameters: { weight: 1, density: 0.4, epsilon: 0.05 } }]);
  assert.deepStrictEqual(della.parameters, { lambda: 0.9 }, 'normalize at its default is left out; t is not della\'s');
  assert.deepStrictEqual(MC.buildConfig({ ...state, values: { normalize: false } }, DELLA).parameters, { lambda: 0.9, normalize: false });
  assert.deepStrictEqual(MC.controlled(DELLA).map((p) => p.name), ['epsilon', 'normalize']);
  // An optional base is given: the demo's fine-tunes are merged as task vectors.
  assert.strictEqual(MC.buildConfig({ ...state, models: [{ name: 'a', weight: 1 }, { name: 'b', weight: 2 }] }, NUSLERP).base_model,
    'base.safetensors');
});

test('playground charts: a merge the engine refuses leaves its point out and is counted, the rest of the chart goes on', async () => {
  const Sweeps = require('../../web/playground/sweeps.js');
  // Refuses every merge of two models; one model merges to accuracy 0.5 of each task.
  const scheduler = { later: async (_, { items }) => ({ results: items.map(({ tasks }) => (tasks.length === 2
    ? { error: 'no' } : { accuracy: Object.fromEntries(tasks.map((t) => [t, 0.5])) })) }) };
  const updates = [];
  const sweeps = Sweeps.createSweeps({ scheduler, names: ['a', 'b'], own: { a: 1, b: 1 }, methods: [DELLA],
    onUpdate: (kind, table, done, failures) => updates.push({ kind, table, done, failures }) });
  await sweeps.runGrowth({ density: 0.5, lambda: 1, seed: 0 });
  const last = updates[updates.length - 1];
  assert.strictEqual(last.done, true, 'the chart finished');
  assert.deepStrictEqual(last.table, { della: [0.5, null] });
  assert.deepStrictEqual(last.failures, { della: { count: 1, message: 'no' } });
});
