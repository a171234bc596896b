'use strict';
// scripts/wasmerge extract-lora: the wasm and native engines write the same adapter bytes;
// the adapter applied by this test's own code (W + s·B·A, s = lora_alpha/r per module,
// modules_to_save replacing tensors) gives back the fine-tune; a rank too large for a
// matrix is one error line naming the tensor, exit 1, nothing written.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge } = require('./harness');
const { readSafetensors } = require('../../scripts/lib/st_io');
const { baseValues, fineTune, writeModel, SHAPES } = require('../../scripts/lib/model_sets');

function family(dir) {
  const base = baseValues(1, 'F32');
  const ft = fineTune(base, 2, 'F32');
  ft.set('model.layers.3.mlp.up_proj.weight', base.get('model.layers.3.mlp.up_proj.weight'));  // unchanged: left out
  writeModel(dir, 'base', base, 'F32');
  writeModel(dir, 'ft', ft, 'F32');
  return { base, ft };
}

function extract(dir, out, extra = []) {
  return wasmerge(['extract-lora', '--base', 'base.safetensors', '--model', 'ft.safetensors', ...extra, out],
    { cwd: dir });
}

// The adapter applied in f64 by this test: module -> W + s·B·A; modules_to_save -> the saved tensor.
function applyAdapter(base, folder) {
  const config = JSON.parse(fs.readFileSync(path.join(folder, 'adapter_config.json'), 'utf8'));
  const { tensors } = readSafetensors(path.join(folder, 'adapter_model.safetensors'));
  const out = new Map([...base].map(([k, v]) => [k, v.slice()]));
  for (const [name, t] of tensors) {
    const plain = name.replace(/^base_model\.model\./, '');
    const lora = /^(.*)\.lora_A\.weight$/.exec(plain);
    if (lora) {
      const module = lora[1];
      const a = t;
      const b = tensors.get(`base_model.model.${module}.lora_B.weight`);
      const r = a.shape[0];
      const alpha = config.alpha_pattern[module] ?? config.lora_alpha;
      const s = alpha / (config.rank_pattern[module] ?? config.r);
      assert.strictEqual(r, config.rank_pattern[module] ?? config.r);
      const [m, n] = [b.shape[0], a.shape[1]];
      const w = out.get(`${module}.weight`);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let k = 0; k < r; k++) sum += b.values[i * r + k] * a.values[k * n + j];
          w[i * n + j] += s * sum;
        }
    } else if (!/\.lora_B\./.test(plain)) {
      out.set(plain, Array.from(t.values));
    }
  }
  return { config, tensors, applied: out };
}

test('extract: wasm and --native write the same adapter, and W + s·B·A gives back the fine-tune', () => {
  const dir = scratchDir('extract');
  const { base, ft } = family(dir);
  const wasm = extract(dir, 'wasm', ['--rank', '16', '--threads', '3']);
  assert.strictEqual(wasm.status, 0, wasm.stderr);
  const native = extract(dir, 'native', ['--rank', '16', '--threads', '2', '--native']);
  assert.strictEqual(native.status, 0, native.stderr);
  for (const f of ['adapter_model.safetensors', 'adapter_config.json'])
    assert.ok(fs.readFileSync(path.join(dir, 'wasm', f)).equals(fs.readFileSync(path.join(dir, 'native', f))), f);
  const { config, tensors, applied } = applyAdapter(base, path.join(dir, 'wasm'));
  assert.deepStrictEqual(config.target_modules, ['model.layers.0.mlp.up_proj', 'model.layers.1.mlp.up_proj',
    'model.layers.2.mlp.up_proj', 'q_proj']);
  assert.deepStrictEqual(config.modules_to_save, ['embed_tokens', 'input_layernorm', 'lm_head', 'norm']);
  assert.ok(!tensors.has('base_model.model.model.layers.3.mlp.up_proj.lora_A.weight'));
  for (const [name] of SHAPES) {
    const want = ft.get(name);
    const got = applied.get(name);
    let err = 0;
    let norm = 0;
    for (let i = 0; i < want.length; i++) {
      err += (got[i] - want[i]) ** 2;
      norm += (want[i] - base.get(name)[i]) ** 2;
    }
    assert.ok(err <= 1e-10 * Math.max(norm, 1e-30), `${name}: error² ${err} of δ² ${norm}`);
  }
});

test('extract: a rank above a matrix\'s smaller side is one line naming the tensor, nothing written', () => {
  const dir = scratchDir('extract-rank');
  family(dir);
  for (const extra of [[], ['--native']]) {
    const r = extract(dir, 'out', ['--rank', '17', ...extra]);
    assert.strictEqual(r.status, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.strictEqual(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: ft\.safetensors: tensor 'model\.layers\.0\.self_attn\.q_proj\.weight': rank 17 is larger than the matrix's smaller dimension \(16 of \[16, 16\]\)$/);
    assert.ok(!fs.existsSync(path.join(dir, 'out')), 'no OUT_DIR left');
  }
  const usage = extract(dir, 'out', []);
  assert.strictEqual(usage.status, 2);
  assert.match(usage.stderr, /extract-lora needs --base, --model and --rank/);
});
