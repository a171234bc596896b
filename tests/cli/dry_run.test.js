'use strict';
// scripts/wasmerge --dry-run (the engine's plan job) and --list-methods (its describe job):
// the plan's files and sizes equal what the real merge then writes, its layer map and
// sources equal the SPEC §5 expectation, nothing is written; the catalogue has the methods
// of SPEC §2 with the SPEC's defaults, the same from both engines.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge } = require('./harness');
const { readSafetensors } = require('../../scripts/lib/st_io');
const { baseValues, fineTune, writeModel, SHAPES } = require('../../scripts/lib/model_sets');
const { layeredTensors, fineTuned, writeLayered, expectedLayout, slicesYaml } = require('./layer_models');

function dryRun(dir, args) {
  const r = wasmerge(['--dry-run', ...args], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  return r;
}

function dryRunJson(dir, args) {
  const plan = JSON.parse(dryRun(dir, [...args, '--json']).stdout);
  assert.strictEqual(plan.event, 'plan');
  return plan;
}

// The files a merge left in out: sizes, whether an index was written, every tensor's
// header entry and file.
function realOutput(out) {
  const names = fs.readdirSync(out).filter((f) => f.endsWith('.safetensors')).sort();
  const tensors = new Map();
  let bytes = 0;
  for (const f of names) {
    const { tensors: ts, order } = readSafetensors(path.join(out, f));
    for (const name of order) {
      const t = ts.get(name);
      tensors.set(name, { dtype: t.dtype, shape: t.shape, file: f });
      bytes += t.bytes.length;
    }
  }
  return {
    files: names.map((name) => ({ name, bytes: fs.statSync(path.join(out, name)).size })),
    index: fs.existsSync(path.join(out, 'model.safetensors.index.json')),
    tensors, bytes,
    config: fs.existsSync(path.join(out, 'config.json')) ? JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) : null,
  };
}

// What a plan says about the files must be what the merge wrote.
function assertPlanMatches(plan, real) {
  assert.deepStrictEqual([...plan.files].sort((a, b) => (a.name < b.name ? -1 : 1)), real.files, 'files and exact sizes');
  assert.strictEqual(plan.index, real.index, 'index');
  assert.strictEqual(plan.output_bytes, real.bytes, 'output_bytes');
  assert.strictEqual(plan.tensor_count, real.tensors.size, 'tensor_count');
  assert.deepStrictEqual(plan.tensors.map((t) => t.name), [...real.tensors.keys()], 'tensors in output order');
  for (const t of plan.tensors) {
    const r = real.tensors.get(t.name);
    assert.deepStrictEqual({ dtype: t.dtype, shape: t.shape, file: t.file }, r, t.name);
  }
  for (const [key, value] of Object.entries(plan.config_edits || {}))
    assert.deepStrictEqual(real.config[key], value, `config_edits.${key} is what config.json got`);
}

test('--dry-run of a depth up-scaling in shards: the exact files, layer map and sources; no folder; then the merge agrees', () => {
  const dir = scratchDir('dry-dus');
  const tensors = layeredTensors({ seed: 1 });
  writeLayered(dir, 'm', tensors, { config: { num_hidden_layers: 6, torch_dtype: 'bfloat16' } });
  const slices = [{ sources: [{ model: './m', range: [0, 4] }] }, { sources: [{ model: './m', range: [2, 6] }] }];
  fs.writeFileSync(path.join(dir, 'merge.yaml'), slicesYaml('passthrough', slices));
  const flags = ['--out-shard-size', '1KB'];

  const plan = dryRunJson(dir, ['merge.yaml', 'out', ...flags]);
  assert.ok(!fs.existsSync(path.join(dir, 'out')), 'a dry run made the output folder');
  assert.deepStrictEqual(plan.layers.output, 8);
  assert.deepStrictEqual(plan.layers.map, [
    { output: [0, 4], sources: [{ model: './m', layers: [0, 4] }] },
    { output: [4, 8], sources: [{ model: './m', layers: [2, 6] }] },
  ]);
  assert.strictEqual(plan.config_edits.num_hidden_layers, 8);
  const layout = expectedLayout(slices, new Map([['./m', tensors]]));
  assert.deepStrictEqual(plan.tensors.map((t) => [t.name, t.action, t.sources]),
    layout.map((e) => [e.name, 'copy', [{ model: './m', tensor: e.sources[0].name }]]));
  assert.ok(plan.files.length > 1 && plan.index, 'sharded at 1KB');

  const text = dryRun(dir, ['merge.yaml', 'out', ...flags]).stdout;
  assert.ok(!fs.existsSync(path.join(dir, 'out')));
  assert.match(text, /output layers 0-3 <- \.\/m:0-3/);
  assert.match(text, /output layers 4-7 <- \.\/m:2-5/);
  for (const f of plan.files) assert.ok(text.includes(f.name) && text.includes(`${f.bytes} bytes`), `${f.name} and its size in:\n${text}`);

  const r = wasmerge(['merge.yaml', 'out', ...flags], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  assertPlanMatches(plan, realOutput(path.join(dir, 'out')));
});

test('--dry-run of a models: config (task arithmetic, folders, dtype change): sizes, bytes read, one layer-map entry; wasm = native', () => {
  const dir = scratchDir('dry-models');
  const base = baseValues(1, 'BF16');
  writeModel(dir, 'base', base, 'BF16', { folder: true });
  writeModel(dir, 'a', fineTune(base, 2, 'BF16'), 'BF16', { folder: true, shards: 2 });
  writeModel(dir, 'b', fineTune(base, 3, 'BF16'), 'BF16');
  fs.writeFileSync(path.join(dir, 'merge.yaml'), `merge_method: task_arithmetic
base_model: ./base
models:
  - {model: ./a, parameters: {weight: 0.5}}
  - {model: ./b.safetensors, parameters: {weight: 0.5}}
dtype: float32
`);
  const plan = dryRunJson(dir, ['merge.yaml']);
  const native = dryRunJson(dir, ['merge.yaml', '--native']);
  assert.deepStrictEqual(native, plan, 'wasm and native plans');
  const elements = SHAPES.reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
  assert.strictEqual(plan.input_bytes, 3 * 2 * elements, 'three bf16 models read once');
  assert.strictEqual(plan.output_bytes, 4 * elements, 'f32 out');
  assert.strictEqual(plan.layers.output, 4);
  assert.strictEqual(plan.layers.map.length, 1);
  assert.deepStrictEqual(plan.layers.map[0].output, [0, 4]);
  assert.strictEqual(plan.config_edits.torch_dtype, 'float32');
  assert.ok(plan.tensors.every((t) => t.action === 'merge' && t.sources.length === 3), 'each tensor merges three sources');

  const r = wasmerge(['merge.yaml', 'out'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  assertPlanMatches(plan, realOutput(path.join(dir, 'out')));
});

test('--dry-run of TIES over slices: sources per tensor through each slice\'s ranges', () => {
  const dir = scratchDir('dry-ties');
  const base = layeredTensors({ seed: 12 });
  const models = new Map([['./base.safetensors', base], ['./a.safetensors', fineTuned(base, 13)]]);
  writeLayered(dir, 'base', base);
  writeLayered(dir, 'a', models.get('./a.safetensors'));
  const slices = [
    { sources: [{ model: './base.safetensors', range: [0, 3] }, { model: './a.safetensors', range: [0, 3], parameters: { weight: 1, density: 0.5 } }] },
    { sources: [{ model: './base.safetensors', range: [3, 6] }, { model: './a.safetensors', range: [1, 4], parameters: { weight: 1, density: 0.5 } }] },
  ];
  fs.writeFileSync(path.join(dir, 'merge.yaml'), slicesYaml('ties', slices, 'base_model: ./base.safetensors\n'));
  const plan = dryRunJson(dir, ['merge.yaml', 'out', '--native']);
  assert.ok(!fs.existsSync(path.join(dir, 'out')));
  assert.deepStrictEqual(plan.layers.map, [
    { output: [0, 3], sources: [{ model: './base.safetensors', layers: [0, 3] }, { model: './a.safetensors', layers: [0, 3] }] },
    { output: [3, 6], sources: [{ model: './base.safetensors', layers: [3, 6] }, { model: './a.safetensors', layers: [1, 4] }] },
  ]);
  const bySource = (list) => list.map((s) => `${s.model} ${s.tensor || s.name}`).sort();
  const layout = expectedLayout(slices, models);
  assert.deepStrictEqual(plan.tensors.map((t) => t.name), layout.map((e) => e.name));
  plan.tensors.forEach((t, i) => assert.deepStrictEqual(bySource(t.sources), bySource(layout[i].sources), t.name));
  const text = dryRun(dir, ['merge.yaml']).stdout;
  assert.match(text, /output layers 3-5 <- \.\/base\.safetensors:3-5, \.\/a\.safetensors:1-3/);
});

test('--dry-run of a bad config: exit 1, one error line, no folder, on both engines', () => {
  const dir = scratchDir('dry-bad');
  writeLayered(dir, 'm', layeredTensors({ seed: 3 }));
  fs.writeFileSync(path.join(dir, 'merge.yaml'), slicesYaml('passthrough', [{ sources: [{ model: './m.safetensors', range: [0, 9] }] }]));
  for (const engine of [[], ['--native']]) {
    for (const json of [[], ['--json']]) {
      const r = wasmerge(['--dry-run', 'merge.yaml', 'out', ...engine, ...json], { cwd: dir });
      assert.strictEqual(r.status, 1, r.stderr);
      assert.match(r.stderr.trim(), /^error: .*\.\/m\.safetensors.*\b6 layers\b/);
      assert.strictEqual(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.strictEqual(r.stdout, '');
      assert.ok(!fs.existsSync(path.join(dir, 'out')));
    }
  }
});

// ---- --list-methods ----------------------------------------------------------------------

const SPEC_METHODS = ['linear', 'task_arithmetic', 'ties', 'dare_linear', 'dare_ties', 'passthrough'];
// SPEC §2's table: normalize and rescale defaults (— = the method has no such parameter).
const SPEC_DEFAULTS = {
  linear: { normalize: true },
  task_arithmetic: { normalize: false },
  ties: { normalize: true, rescale: false },
  dare_linear: { normalize: false, rescale: true },
  dare_ties: { normalize: false, rescale: true },
};

test('--list-methods --json: the SPEC\'s methods in order, their parameters and defaults; the same from both engines', () => {
  const dir = scratchDir('methods');
  const r = wasmerge(['--list-methods', '--json'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  const methods = JSON.parse(r.stdout);
  const native = wasmerge(['--list-methods', '--json', '--native'], { cwd: dir });
  assert.strictEqual(native.status, 0, native.stderr);
  assert.deepStrictEqual(JSON.parse(native.stdout), methods);
  assert.ok(Array.isArray(methods));
  const names = methods.map((m) => m.name);
  assert.deepStrictEqual(names.filter((n) => SPEC_METHODS.includes(n)), SPEC_METHODS, 'the fixed order');
  assert.strictEqual(new Set(names).size, names.length, 'no method twice');
  const byName = new Map(methods.map((m) => [m.name, m]));
  for (const m of methods) {
    for (const key of ['title', 'url', 'summary']) assert.strictEqual(typeof m[key], 'string', `${m.name}.${key}`);
    assert.ok(Number.isInteger(m.models.min) && (m.models.max === null || m.models.max >= m.models.min), m.name);
    assert.strictEqual(typeof m.needs_base, 'boolean', m.name);
    assert.ok(Array.isArray(m.needs) && Array.isArray(m.stages) && Array.isArray(m.params), m.name);
    for (const p of m.params) {
      assert.ok(['model', 'global'].includes(p.scope), `${m.name}.${p.name}.scope`);
      assert.ok(['number', 'bool', 'choice'].includes(p.kind), `${m.name}.${p.name}.kind`);
      assert.strictEqual(typeof p.required, 'boolean', `${m.name}.${p.name}.required`);
    }
  }
  const param = (method, name) => byName.get(method).params.find((p) => p.name === name);
  for (const [method, defaults] of Object.entries(SPEC_DEFAULTS)) {
    for (const [name, value] of Object.entries(defaults)) {
      assert.strictEqual(param(method, name).default, value, `${method}.${name} default`);
      assert.strictEqual(param(method, name).scope, 'global', `${method}.${name} scope`);
    }
  }
  for (const method of ['task_arithmetic', 'ties', 'dare_linear', 'dare_ties']) {
    assert.strictEqual(byName.get(method).needs_base, true, `${method} needs a base`);
    assert.deepStrictEqual(
      { scope: param(method, 'weight').scope, required: param(method, 'weight').required }, { scope: 'model', required: true }, `${method}.weight`);
    assert.strictEqual(param(method, 'lambda').default, 1, `${method}.lambda`);
  }
  for (const method of ['ties', 'dare_linear', 'dare_ties']) {
    const d = param(method, 'density');
    assert.deepStrictEqual([d.scope, d.min, d.min_exclusive, d.max], ['model', 0, true, 1], `${method}.density: (0, 1], per model`);
  }
  for (const method of ['dare_linear', 'dare_ties']) {
    const mode = param(method, 'rescale_mode');
    assert.deepStrictEqual([mode.kind, [...mode.choices].sort(), mode.default], ['choice', ['inverse_density', 'l1'], 'l1'], `${method}.rescale_mode`);
  }
  assert.ok(byName.get('ties').needs.includes('magnitude_cuts'), 'TIES needs magnitude cuts');
  const pass = byName.get('passthrough');
  assert.deepStrictEqual([pass.models, pass.needs_base], [{ min: 1, max: 1 }, false]);
  assert.deepStrictEqual([param('passthrough', 'scale').scope, param('passthrough', 'scale').default], ['model', 1]);

  // The text form: one block per method, in the same order, each naming its parameters.
  const text = wasmerge(['--list-methods'], { cwd: dir });
  assert.strictEqual(text.status, 0, text.stderr);
  const heads = text.stdout.split('\n').filter((l) => /^\S/.test(l)).map((l) => l.split(':')[0]);
  assert.deepStrictEqual(heads, names);
  const tiesBlock = text.stdout.split('\n\n').find((b) => b.startsWith('ties:'));
  for (const p of byName.get('ties').params) assert.match(tiesBlock, new RegExp(`^  ${p.name} `, 'm'));
  assert.ok(tiesBlock.includes(byName.get('ties').url));
});

test('--list-methods and --dry-run: bad command lines exit 2', () => {
  const dir = scratchDir('methods-usage');
  for (const args of [['--list-methods', 'x.yaml'], ['--dry-run'], ['--dry-run', 'a', 'b', 'c'], ['--list-methods', '--dry-run', 'x'], ['x.yaml', 'out', '--json']]) {
    const r = wasmerge(args, { cwd: dir });
    assert.strictEqual(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: /);
  }
});
