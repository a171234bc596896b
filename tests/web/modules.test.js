'use strict';
// The page's pure modules, in node: the job every host builds (web/shared/job.js), the
// layer map in words (web/layer_map.js), what the page asks of a method of the engine's
// catalogue (web/methods.js) and the playground's configs and chart series built from it
// (web/playground/merge_config.js, sweeps.js). The catalogue is the engine's own, from
// scripts/wasmerge --list-methods --json.
const { test, assert } = require('../cli/harness');
const { buildJob, ConfigError } = require('../../web/shared/job.js');
const { parseConfigText } = require('../../web/shared/config_text.js');
const layerMap = require('../../web/layer_map.js');
const Methods = require('../../web/methods.js');
const MC = require('../../web/playground/merge_config.js');
const Sweeps = require('../../web/playground/sweeps.js');

const { catalogue: methods, method } = require('../browser/catalogue');

test('job: merge jobs leave kind out, a plan has no out_dir, a describe job nothing else; u64 seeds are not rounded', () => {
  const args = { config: { merge_method: 'ties' }, configText: 't', outDir: 'o', threads: 2, memoryMb: 3, outShardSize: 4 };
  assert.deepStrictEqual(buildJob(args).job, { config: { merge_method: 'ties' }, config_text: 't', out_dir: 'o', threads: 2,
    memory_mb: 3, out_shard_size: 4, random_seed: null });
  const plan = buildJob({ ...args, kind: 'plan' }).job;
  assert.strictEqual(plan.kind, 'plan');
  assert.ok(!('out_dir' in plan));
  assert.deepStrictEqual(buildJob({ kind: 'describe' }).job, { kind: 'describe' });
  assert.deepStrictEqual(buildJob({ ...args, explain: { tensor: 'a', offset: 0, count: 4 } }).job.explain, { tensor: 'a', offset: 0, count: 4 });
  assert.match(buildJob({ ...args, randomSeed: '18446744073709551615' }).json, /"random_seed":18446744073709551615[,}]/);
  assert.throws(() => buildJob({ ...args, randomSeed: '-1' }), ConfigError);
  // A config whose own random_seed is null (an empty YAML value) keeps it; the job gets the seed.
  const sent = JSON.parse(buildJob({ ...args, config: { merge_method: 'ties', random_seed: null }, randomSeed: '5' }).json);
  assert.strictEqual(sent.config.random_seed, null);
  assert.strictEqual(sent.random_seed, 5);
});

test('config text: YAML errors name the source and the line', () => {
  assert.deepStrictEqual(parseConfigText('merge_method: ties\n'), { merge_method: 'ties' });
  assert.throws(() => parseConfigText('a: 1\nb: [1,\n', 'm.yaml'), (e) => e instanceof ConfigError && /^m\.yaml: not valid YAML: .*\(line 3\)$/.test(e.message));
});

test('layer map: one line per slice, half-open ranges shown as the layers they hold', () => {
  const dus = { output: 48, map: [
    { output: [0, 24], sources: [{ model: './mistral', layers: [0, 24] }] },
    { output: [24, 48], sources: [{ model: './mistral', layers: [8, 32] }] }] };
  assert.deepStrictEqual(layerMap.lines(dus), ['output layers 0–23 ← ./mistral: 0–23', 'output layers 24–47 ← ./mistral: 8–31']);
  const one = { output: 1, map: [{ output: [0, 1], sources: [{ model: 'a', layers: [5, 6] }, { model: 'b', layers: [7, 8] }] }] };
  assert.deepStrictEqual(layerMap.lines(one), ['output layer 0 ← a: 5, b: 7']);
  assert.deepStrictEqual(layerMap.lines(null), []);
  assert.strictEqual(layerMap.rangeText([3, 3]), 'none');
});

test('methods: a joining model gets the parameters the method requires and has no default for; a new method keeps only its own', () => {
  const ties = method('ties');
  const linear = method('linear');
  const passthrough = method('passthrough');
  assert.deepStrictEqual(Methods.startingParameters(ties), { weight: 1 }, 'weight is required by ties, without a default');
  assert.deepStrictEqual(Methods.startingParameters(linear), {}, 'linear weighs 1 by default');
  assert.deepStrictEqual(Methods.modelParams(ties).map((p) => p.name), ['weight', 'density']);
  assert.deepStrictEqual(Methods.keepParameters(linear, { weight: 2, density: 0.5 }, { perModel: true }), { weight: 2 });
  assert.deepStrictEqual(Methods.keepParameters(ties, { lambda: 0.5, normalize: false, scale: 2 }), { lambda: 0.5, normalize: false });
  assert.strictEqual(Methods.takes(passthrough, 1), true);
  assert.strictEqual(Methods.takes(passthrough, 2), false);
  assert.strictEqual(Methods.combines(passthrough), false);
  assert.strictEqual(Methods.combines(ties), true);
  assert.strictEqual(Methods.defaultText(Methods.param(ties, 'normalize')), 'yes');
});

test('playground configs: what each method takes, from the catalogue; the rescale control writes rescale and rescale_mode', () => {
  const state = { density: 0.3, lambda: 0.8, seed: 7, rescale: 'default', models: [{ name: 'moons', weight: 1.5 }] };
  assert.deepStrictEqual(MC.buildConfig(state, method('ties')), { merge_method: 'ties', base_model: 'base.safetensors',
    models: [{ model: 'moons.safetensors', parameters: { weight: 1.5, density: 0.3 } }], parameters: { lambda: 0.8 }, random_seed: 7 });
  assert.deepStrictEqual(MC.buildConfig(state, method('linear')).models, [{ model: 'moons.safetensors', parameters: { weight: 1.5 } }]);
  assert.ok(!('base_model' in MC.buildConfig(state, method('linear'))));
  assert.deepStrictEqual(MC.buildConfig({ ...state, rescale: 'inverse_density' }, method('dare_linear')).parameters,
    { lambda: 0.8, rescale: true, rescale_mode: 'inverse_density' });
  assert.deepStrictEqual(MC.buildConfig({ ...state, rescale: 'off' }, method('dare_linear')).parameters, { lambda: 0.8, rescale: false });
  assert.deepStrictEqual(MC.rescaleChoices(method('task_arithmetic')), []);
});

test('playground charts: every subset for methods that combine models, none for passthrough; drop series by what methods need', () => {
  const names = ['a', 'b', 'c'];
  const items = Sweeps.growthItems(names, { density: 0.5, lambda: 1, seed: 0 }, methods());
  const byMethod = {};
  for (const it of items) byMethod[it.key.method] = (byMethod[it.key.method] || 0) + 1;
  const combining = methods().filter((m) => m.needs_base || m.takes_base || m.models.max === null || m.models.max >= 2);
  assert.deepStrictEqual(Object.keys(byMethod).sort(), combining.map((m) => m.name).sort());
  // Of 3 tasks: 3 subsets of one, 3 of two, 1 of three; each method merges those of the sizes it takes.
  const subsetsTaken = (m) => [3, 3, 1].reduce((n, count, i) => n + (Methods.takes(m, i + 1) ? count : 0), 0);
  for (const m of combining) assert.strictEqual(byMethod[m.name], subsetsTaken(m), `${m.name}: the subsets of 3 tasks it takes`);
  assert.strictEqual(byMethod.ties, 7, 'ties takes all 7 subsets of 3 tasks');
  const variants = Sweeps.dropVariants(methods());
  assert.deepStrictEqual(variants.map((v) => [v.id, v.method.name]), [
    ['random-l1', 'dare_linear'], ['random-inverse_density', 'dare_linear'], ['random-off', 'dare_linear'], ['magnitude', 'ties']]);
});

test('models table: rows for the base, the merged models and unused picks; a slices config lists the layers each model gives', () => {
  const { buildFileTable } = require('../../web/file_table.js');
  const { tableRows } = require('../../web/models_table.js');
  const files = buildFileTable(['base', 'a', 'b', 'spare'].map((n) => ({ path: `${n}/model.safetensors`, file: { size: 1 } })));
  const rows = (config) => tableRows(config, files).map((r) => [r.name, r.role, r.index, r.ranges]);
  assert.deepStrictEqual(rows({ merge_method: 'ties', base_model: './base', models: [{ model: 'base' }, { model: 'a' }, { model: 'b/' }] }), [
    ['./base', 'base', -1, []], ['a', 'merge', 1, []], ['b/', 'merge', 2, []], ['spare', 'skip', -1, []]]);
  const slices = { merge_method: 'ties', base_model: 'base', slices: [
    { sources: [{ model: './a', layer_range: [0, 4] }, { model: 'base', layer_range: [0, 4] }] },
    { sources: [{ model: 'a', layer_range: [2, 6] }, { model: './base', layer_range: [2, 6] }] }] };
  assert.deepStrictEqual(rows(slices), [
    ['base', 'base', -1, [[0, 4], [2, 6]]], ['./a', 'slices', -1, [[0, 4], [2, 6]]], ['b', 'skip', -1, []], ['spare', 'skip', -1, []]]);
});
