'use strict';
// The methods beyond task arithmetic, TIES and DARE, through scripts/wasmerge: the wasm and
// native engines give the same bytes for any thread count and budget; and the slerp
// config most often pasted from the Hub (slices naming the base among the sources, t as
// gradients under filters) merges to the f64 slerp of SPEC §6.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge } = require('./harness');
const { readSafetensors } = require('../../scripts/lib/st_io');
const { baseValues, fineTune, writeModel } = require('../../scripts/lib/model_sets');
const { withinTolerance, gradient, layerT } = require('./reference');

function familyIn(dir, dtype) {
  const base = baseValues(1, dtype);
  const models = [2, 3, 4].map((seed) => fineTune(base, seed, dtype, 0.5));
  writeModel(dir, 'base', base, dtype, { folder: true });
  models.forEach((m, k) => writeModel(dir, `m${k}`, m, dtype));
  return { base, models };
}

const models = (list) => 'models:\n' + list.map((m) => `  - model: ./${m}\n`).join('');
const CONFIGS = {
  slerp: `merge_method: slerp\nbase_model: ./base\n${models(['m0.safetensors'])}parameters: {t: 0.3}\n`,
  nuslerp: `merge_method: nuslerp\nbase_model: ./base\nmodels:\n  - {model: ./m0.safetensors, parameters: {weight: 1}}\n` +
    `  - {model: ./m1.safetensors, parameters: {weight: 2}}\nparameters: {nuslerp_flatten: false}\n`,
  multislerp: `merge_method: multislerp\nmodels:\n` +
    ['m0', 'm1', 'm2'].map((m, k) => `  - {model: ./${m}.safetensors, parameters: {weight: ${k + 1}}}\n`).join(''),
  karcher: `merge_method: karcher\n${models(['m0.safetensors', 'm1.safetensors', 'm2.safetensors'])}`,
  model_stock: `merge_method: model_stock\nbase_model: ./base\n${models(['m0.safetensors', 'm1.safetensors'])}` +
    `parameters: {filter_wise: true}\n`,
  nearswap: `merge_method: nearswap\nbase_model: ./base\n${models(['m0.safetensors'])}parameters: {t: 0.1}\n`,
  breadcrumbs_ties: `merge_method: breadcrumbs_ties\nbase_model: ./base\nmodels:\n` +
    `  - {model: ./m0.safetensors, parameters: {weight: 1, density: 0.6, gamma: 0.05}}\n` +
    `  - {model: ./m1.safetensors, parameters: {weight: 0.5, density: 0.8}}\n`,
  della: `merge_method: della\nbase_model: ./base\nrandom_seed: 3\nmodels:\n` +
    `  - {model: ./m0.safetensors, parameters: {weight: 1, density: 0.5, epsilon: 0.2}}\n` +
    `  - {model: ./m1.safetensors, parameters: {weight: 0.5, density: 0.7}}\n`,
  sce: `merge_method: sce\nbase_model: ./base\n${models(['m0.safetensors', 'm1.safetensors', 'm2.safetensors'])}` +
    `parameters: {select_topk: 0.3}\n`,
  arcee_fusion: `merge_method: arcee_fusion\nbase_model: ./base\n${models(['m0.safetensors'])}`,
};

for (const [method, config] of Object.entries(CONFIGS)) {
  test(`${method}: wasm and native give the same bytes, for 1 and 2 threads and two memory budgets`, () => {
    const dir = scratchDir(method);
    familyIn(dir, 'BF16');
    fs.writeFileSync(path.join(dir, 'merge.yaml'), config);
    const runs = [
      ['wasm1', ['--threads', '1', '--memory-mb', '8']],
      ['native2', ['--native', '--threads', '2']],
    ];
    const outputs = runs.map(([out, flags]) => {
      const r = wasmerge(['merge.yaml', out, ...flags], { cwd: dir });
      assert.strictEqual(r.status, 0, r.stderr);
      return fs.readFileSync(path.join(dir, out, 'model.safetensors'));
    });
    assert.ok(outputs[1].equals(outputs[0]), `native differs from wasm for ${method}`);
  });
}

const HUB_SLERP = `slices:
  - sources:
      - model: ./base
        layer_range: [0, 4]
      - model: ./m0.safetensors
        layer_range: [0, 4]
merge_method: slerp
base_model: ./base
parameters:
  t:
    - filter: self_attn
      value: [0, 0.5, 0.3, 0.7, 1]
    - filter: mlp
      value: [1, 0.5, 0.7, 0.3, 0]
    - value: 0.5
dtype: bfloat16
`;

// SPEC §6's slerp, in f64.
function slerp(t, v0, v1) {
  const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const n0 = norm(v0) > 1e-8 ? norm(v0) : 1, n1 = norm(v1) > 1e-8 ? norm(v1) : 1;
  const c = v0.reduce((s, x, i) => s + (x / n0) * (v1[i] / n1), 0);
  if (Math.abs(c) > 0.9995) return v0.map((x, i) => (1 - t) * x + t * v1[i]);
  const theta = Math.acos(c), s = Math.sin(theta);
  return v0.map((x, i) => (Math.sin((1 - t) * theta) / s) * x + (Math.sin(t * theta) / s) * v1[i]);
}

test('the Hub\'s usual slerp config (slices, the base among the sources, filtered gradients) matches the f64 slerp', () => {
  const dir = scratchDir('hub-slerp');
  const { base, models: [m0] } = familyIn(dir, 'BF16');
  fs.writeFileSync(path.join(dir, 'merge.yaml'), HUB_SLERP);
  const r = wasmerge(['merge.yaml', 'out'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  const { tensors } = readSafetensors(path.join(dir, 'out', 'model.safetensors'));
  for (const [name, b] of base) {
    const pos = layerT(name, 4);
    const t = name.includes('self_attn') ? gradient([0, 0.5, 0.3, 0.7, 1], pos)
      : name.includes('mlp') ? gradient([1, 0.5, 0.7, 0.3, 0], pos) : 0.5;
    const expected = slerp(t, b, m0.get(name));
    tensors.get(name).values.forEach((got, i) => {
      if (!withinTolerance('BF16', got, expected[i], Math.abs(b[i]) + Math.abs(m0.get(name)[i])))
        assert.fail(`${name}[${i}] (t ${t}): got ${got}, reference ${expected[i]}`);
    });
  }
});
