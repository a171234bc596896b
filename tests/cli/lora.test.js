'use strict';
// LoRA adapters through the CLI (SPEC §8): `base+adapter` with a PEFT adapter folder made
// here gives the same bytes from the wasm engine and --native, W + s·B·A against a JS f64
// reference; a bad adapter is one `error:` line naming the adapter file and module, exit 1,
// nothing written.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge, safetensorsIn } = require('./harness');
const { readSafetensors, writeSafetensors, rng, roundToGrid } = require('../../scripts/lib/st_io');
const { baseValues, writeModel, SHAPES } = require('../../scripts/lib/model_sets');

const RANK = 4;
const ALPHA = 8;

function randomValues(n, seed) {
  const r = rng(seed);
  return Array.from({ length: n }, () => roundToGrid('F32', (r() * 2 - 1) * 0.5));
}

// lora_A/lora_B for every q_proj and up_proj of the model_sets shapes; inFix/outFix change a
// module's A input size (a bad adapter).
function writeAdapter(dir, name, { inFix = 0 } = {}) {
  const folder = path.join(dir, name);
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'adapter_config.json'),
    JSON.stringify({ peft_type: 'LORA', r: RANK, lora_alpha: ALPHA, target_modules: ['q_proj', 'up_proj'] }));
  const tensors = [];
  let seed = 10;
  for (const [tensor, [out, inSize]] of SHAPES.filter(([n]) => /(q_proj|up_proj)\.weight$/.test(n))) {
    const module = tensor.replace(/\.weight$/, '');
    const a = inSize + (tensors.length === 0 ? inFix : 0);
    tensors.push({ name: `base_model.model.${module}.lora_A.weight`, dtype: 'F32', shape: [RANK, a], values: randomValues(RANK * a, seed++) });
    tensors.push({ name: `base_model.model.${module}.lora_B.weight`, dtype: 'F32', shape: [out, RANK], values: randomValues(out * RANK, seed++) });
  }
  writeSafetensors(path.join(folder, 'adapter_model.safetensors'), tensors);
  return new Map(tensors.map((t) => [t.name, t.values]));
}

test('lora: base+adapter under passthrough, wasm = native, W + s·B·A', () => {
  const dir = scratchDir('lora');
  const base = baseValues(1, 'BF16');
  writeModel(dir, 'base', base, 'BF16', { folder: true });
  const adapter = writeAdapter(dir, 'my adapter');
  fs.writeFileSync(path.join(dir, 'merge.yaml'), 'merge_method: passthrough\nmodels:\n  - model: base+my adapter\n');
  for (const [out, extra] of [['out', []], ['out_native', ['--native']]]) {
    const r = wasmerge(['merge.yaml', out, ...extra], { cwd: dir });
    assert.strictEqual(r.status, 0, r.stderr);
  }
  const wasm = fs.readFileSync(path.join(dir, 'out/model.safetensors'));
  assert.ok(wasm.equals(fs.readFileSync(path.join(dir, 'out_native/model.safetensors'))), 'wasm and native bytes differ');
  const { tensors } = readSafetensors(path.join(dir, 'out/model.safetensors'));
  for (const [name, [rows, cols]] of SHAPES.filter(([, s]) => s.length === 2)) {
    const got = tensors.get(name);
    assert.strictEqual(got.dtype, 'BF16', name);
    const module = name.replace(/\.weight$/, '');
    const a = adapter.get(`base_model.model.${module}.lora_A.weight`);
    const b = adapter.get(`base_model.model.${module}.lora_B.weight`);
    const w = base.get(name);
    if (!a) {
      assert.deepStrictEqual(got.values, w, `${name} unchanged`);
      continue;
    }
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        let sum = 0;
        for (let k = 0; k < RANK; k++) sum += b[i * RANK + k] * a[k * cols + j];
        const expected = w[i * cols + j] + (ALPHA / RANK) * sum;
        const tolerance = Math.abs(expected) * 2 ** -8 + 1e-6;
        assert.ok(Math.abs(got.values[i * cols + j] - expected) <= tolerance,
          `${name}[${i}, ${j}]: ${got.values[i * cols + j]} vs ${expected}`);
      }
  }
});

test('lora: a bad adapter is one error line naming the adapter file and the module, nothing written', () => {
  const dir = scratchDir('lora-bad');
  writeModel(dir, 'base', baseValues(1, 'BF16'), 'BF16', { folder: true });
  writeAdapter(dir, 'ad', { inFix: 1 });
  fs.writeFileSync(path.join(dir, 'merge.yaml'), 'merge_method: passthrough\nmodels:\n  - model: base+ad\n');
  for (const extra of [[], ['--native']]) {
    const r = wasmerge(['merge.yaml', 'out', ...extra], { cwd: dir });
    assert.strictEqual(r.status, 1, `exit status ${r.status}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.strictEqual(lines.length, 1, `one line expected:\n${r.stderr}`);
    assert.match(lines[0],
      /^error: ad\/adapter_model\.safetensors: tensor 'base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight': lora_A\.weight \[4, 17\] does not fit 'model\.layers\.0\.self_attn\.q_proj\.weight' \[16, 16\]/);
    assert.deepStrictEqual(safetensorsIn(path.join(dir, 'out')), [], 'no .safetensors left');
  }
  fs.rmSync(path.join(dir, 'ad', 'adapter_config.json'));
  const r = wasmerge(['merge.yaml', 'out'], { cwd: dir });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr.trim(), /^error: ad\/adapter_config\.json: missing/);
});
