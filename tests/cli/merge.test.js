'use strict';
// Merges through scripts/wasmerge, checked against the f64 reference, and the same bytes
// from the wasm and native engines, any thread count and memory budget.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge, safetensorsIn } = require('./harness');
const { readSafetensors, writeSafetensors } = require('../../scripts/lib/st_io');
const { baseValues, fineTune, writeModel, SHAPES } = require('../../scripts/lib/model_sets');
const { referenceMerge, withinTolerance } = require('./reference');

function checkAgainstReference(file, dtype, expected, scaleOf) {
  const { tensors, order } = readSafetensors(file);
  assert.deepStrictEqual(order, SHAPES.map(([n]) => n), 'tensors keep the base order');
  for (const [name, shape] of SHAPES) {
    const t = tensors.get(name);
    assert.strictEqual(t.dtype, dtype, name);
    assert.deepStrictEqual(t.shape, shape, name);
    t.values.forEach((got, i) => {
      const ref = expected.get(name)[i];
      if (!withinTolerance(dtype, got, ref, scaleOf(name, i)))
        assert.fail(`${name}[${i}]: got ${got}, reference ${ref}`);
    });
  }
}

function familyIn(dir, dtype, opts = {}) {
  const base = baseValues(1, dtype);
  const a = fineTune(base, 2, dtype);
  const b = fineTune(base, 3, dtype);
  writeModel(dir, 'base', base, dtype, { folder: true });
  writeModel(dir, 'a', a, dtype, { folder: true, shards: opts.shards || 1 });
  writeModel(dir, 'b', b, dtype);
  return { base, a, b };
}

const TASK_ARITHMETIC = `merge_method: task_arithmetic
base_model: ./base
models:
  - model: ./a
    parameters: {weight: [1.0, 0.2]}
  - model: ./b.safetensors
    parameters:
      weight: -0.3
parameters: {lambda: 0.8}
`;

for (const dtype of ['BF16', 'F16', 'F32']) {
  test(`task_arithmetic of a sharded folder and a file, ${dtype}, matches the f64 reference`, () => {
    const dir = scratchDir('ta');
    const { base, a, b } = familyIn(dir, dtype, { shards: 3 });
    fs.writeFileSync(path.join(dir, 'merge.yaml'), TASK_ARITHMETIC);
    const r = wasmerge(['merge.yaml', 'out'], { cwd: dir });
    assert.strictEqual(r.status, 0, r.stderr);
    const expected = referenceMerge({ method: 'task_arithmetic', base, models: [a, b], weights: [[1.0, 0.2], -0.3], lambda: 0.8, nLayers: 4 });
    checkAgainstReference(path.join(dir, 'out/model.safetensors'), dtype, expected,
      (n, i) => 4 * (Math.abs(a.get(n)[i]) + Math.abs(b.get(n)[i])));
  });
}

test('linear of three single files with normalize, out_dtype float16', () => {
  const dir = scratchDir('linear');
  const models = [1, 2, 3].map((s) => baseValues(s, 'BF16'));
  models.forEach((m, k) => writeModel(dir, `m${k}`, m, 'BF16'));
  fs.writeFileSync(path.join(dir, 'merge.yaml'), `merge_method: linear
out_dtype: float16
models:
  - {model: m0.safetensors, parameters: {weight: 1}}
  - {model: m1.safetensors, parameters: {weight: 2}}
  - {model: m2.safetensors, parameters: {weight: [{filter: mlp, value: 5}, {value: 1}]}}
`);
  const r = wasmerge(['merge.yaml', 'out'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  const expected = new Map();
  for (const [name] of SHAPES) {
    const w2 = name.includes('mlp') ? 5 : 1;
    expected.set(name, models[0].get(name).map((_, i) =>
      (models[0].get(name)[i] + 2 * models[1].get(name)[i] + w2 * models[2].get(name)[i]) / (3 + w2)));
  }
  checkAgainstReference(path.join(dir, 'out/model.safetensors'), 'F16', expected, () => 8);
  assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'out')).sort(), ['README.md', 'model.safetensors']);
});

const TIES = TASK_ARITHMETIC.replace('task_arithmetic', 'ties')
  .replace('{weight: [1.0, 0.2]}', '{weight: [1.0, 0.2], density: 0.4}').replace('weight: -0.3', 'weight: -0.3\n      density: [0.2, 0.9]');
const DARE_TIES = TIES.replace('merge_method: ties', 'merge_method: dare_ties\nrandom_seed: 17');

for (const [method, config] of [['task_arithmetic', TASK_ARITHMETIC], ['ties', TIES], ['dare_ties', DARE_TIES]]) {
  test(`${method}: wasm and native give the same bytes, for 1 and 2 threads and two memory budgets`, () => {
    const dir = scratchDir('same');
    familyIn(dir, 'BF16', { shards: 2 });
    fs.writeFileSync(path.join(dir, 'merge.yaml'), config);
    const runs = [
      ['wasm1', ['--threads', '1', '--memory-mb', '8']],
      ['wasm2', ['--threads', '2']],
      ['native1', ['--native', '--threads', '1', '--memory-mb', '8']],
      ['native2', ['--native', '--threads', '2']],
    ];
    const outputs = runs.map(([out, flags]) => {
      const r = wasmerge(['merge.yaml', out, ...flags], { cwd: dir });
      assert.strictEqual(r.status, 0, r.stderr);
      return fs.readFileSync(path.join(dir, out, 'model.safetensors'));
    });
    outputs.forEach((o, i) => assert.ok(o.equals(outputs[0]), `${runs[i][0]} differs from ${runs[0][0]}`));
  });
}

test('a fine-tune with a grown vocabulary: cut to the base, with one warning line per tensor', () => {
  const dir = scratchDir('vocab');
  const { base } = familyIn(dir, 'BF16');
  const grown = [...base].map(([name, values]) => {
    const shape = SHAPES.find(([n]) => n === name)[1].slice();
    if (!/embed_tokens|lm_head/.test(name)) return { name, dtype: 'BF16', shape, values };
    shape[0] += 2;
    return { name, dtype: 'BF16', shape, values: [...values, ...new Array(2 * shape[1]).fill(0.5)] };
  });
  writeSafetensors(path.join(dir, 'b.safetensors'), grown);
  fs.writeFileSync(path.join(dir, 'merge.yaml'), TASK_ARITHMETIC);
  const r = wasmerge(['merge.yaml', 'out'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
  assert.deepStrictEqual(warnings, [
    "warning: ./b.safetensors: tensor 'model.embed_tokens.weight': 15 vocabulary rows cut to the 13 of ./base/model.safetensors",
    "warning: ./b.safetensors: tensor 'lm_head.weight': 15 vocabulary rows cut to the 13 of ./base/model.safetensors",
  ]);
  assert.deepStrictEqual(readSafetensors(path.join(dir, 'out/model.safetensors')).tensors.get('lm_head.weight').shape, [13, 16]);
});

test('folder output: config.json with torch_dtype, tokenizer files, model card, metadata', () => {
  const dir = scratchDir('folder');
  familyIn(dir, 'BF16');
  fs.writeFileSync(path.join(dir, 'merge.yaml'), TASK_ARITHMETIC + 'dtype: float32\n');
  const r = wasmerge(['merge.yaml', 'out'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  const out = path.join(dir, 'out');
  assert.deepStrictEqual(fs.readdirSync(out).sort(),
    ['README.md', 'config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
  assert.strictEqual(config.torch_dtype, 'float32');
  assert.strictEqual(config.num_hidden_layers, 4);
  assert.strictEqual(JSON.parse(fs.readFileSync(path.join(out, 'tokenizer.json'), 'utf8')).model, 'base');
  const card = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
  assert.match(card, /merged using the \[task arithmetic\]/);
  assert.match(card, /using \.\/base as a base/);
  assert.ok(card.includes(TASK_ARITHMETIC), 'the card quotes the config');
  const { metadata, tensors } = readSafetensors(path.join(out, 'model.safetensors'));
  assert.strictEqual(metadata.format, 'pt');
  assert.ok(metadata.merge_config.startsWith('merge_method: task_arithmetic'));
  assert.strictEqual(tensors.get('lm_head.weight').dtype, 'F32');
});

test('--out-shard-size writes shards and an index that hold the same tensors', () => {
  const dir = scratchDir('shards');
  familyIn(dir, 'BF16');
  fs.writeFileSync(path.join(dir, 'merge.yaml'), TASK_ARITHMETIC);
  assert.strictEqual(wasmerge(['merge.yaml', 'whole'], { cwd: dir }).status, 0);
  const r = wasmerge(['merge.yaml', 'sharded', '--out-shard-size', '2KB'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'sharded/model.safetensors.index.json'), 'utf8'));
  const shards = safetensorsIn(path.join(dir, 'sharded'));
  assert.ok(shards.length >= 3, `${shards.length} shards`);
  assert.ok(shards.every((s) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(s)));
  const whole = readSafetensors(path.join(dir, 'whole/model.safetensors')).tensors;
  let total = 0;
  for (const [name, file] of Object.entries(index.weight_map)) {
    const t = readSafetensors(path.join(dir, 'sharded', file)).tensors.get(name);
    assert.ok(t.bytes.equals(whole.get(name).bytes), name);
    total += t.bytes.length;
  }
  assert.strictEqual(index.metadata.total_size, total);
  assert.strictEqual(Object.keys(index.weight_map).length, SHAPES.length);
});
