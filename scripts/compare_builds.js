'use strict';
// node scripts/compare_builds.js OLD_ROOT NEW_ROOT [LABEL] (run by scripts/compare_builds.sh):
// generates a fixed, deterministic set of models, merges each config below with
// OLD_ROOT/scripts/wasmerge and NEW_ROOT/scripts/wasmerge, wasm and --native, and compares
// what each run left (every output file byte for byte, warnings, exit status) with the
// old build's wasm run. Prints one line per config and "N same, N differ"; exits 1 on any
// difference. The configs cover every method of SPEC §2 with their parameters, the three
// float dtypes and dtype changes, shards in and out, budgets small enough for the
// several-pass paths, 1 and 2 threads, non-float tensors, grown vocabularies, folders
// with config.json and tokenizer files, and allow_nonfinite.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { writeSafetensors, rng, roundToGrid } = require('../tests/cli/st_io');
const { SHAPES, baseValues, fineTune, writeModel } = require('../tests/cli/model_sets');

// ---- models -----------------------------------------------------------------------------

const TOKENIZER_EXTRAS = {
  'special_tokens_map.json': '{"bos_token": "<s>", "eos_token": "</s>"}\n',
  'generation_config.json': '{"do_sample": false, "max_new_tokens": 16}\n',
  'vocab.json': '{"<s>": 0, "</s>": 1, "a": 2}\n',
  'merges.txt': '#version: 0.2\na b\n',
};

function addTokenizerExtras(folder) {
  for (const [name, text] of Object.entries(TOKENIZER_EXTRAS)) fs.writeFileSync(path.join(folder, name), text);
}

const count = (shape) => shape.reduce((a, b) => a * b, 1);

function randomValues(seed, dtype, shape, scale = 1) {
  const r = rng(seed);
  return Array.from({ length: count(shape) }, () => roundToGrid(dtype, (r() * 2 - 1) * scale));
}

function randomBytes(seed, n, mask) {
  const r = rng(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256) & mask));
}

// tensors [{name, dtype, shape, values | data}] as dir/name.safetensors, or as a folder
// dir/name/ with config.json and tokenizer files.
function writeTensors(dir, name, tensors, { folder = false } = {}) {
  if (!folder) return writeSafetensors(path.join(dir, name + '.safetensors'), tensors);
  const f = path.join(dir, name);
  fs.mkdirSync(f, { recursive: true });
  fs.writeFileSync(path.join(f, 'config.json'), JSON.stringify({
    architectures: ['LlamaForCausalLM'], hidden_size: 16, num_hidden_layers: 4, torch_dtype: 'bfloat16',
  }, null, 2));
  fs.writeFileSync(path.join(f, 'tokenizer.json'), JSON.stringify({ model: name }));
  fs.writeFileSync(path.join(f, 'tokenizer_config.json'), '{}');
  addTokenizerExtras(f);
  writeSafetensors(path.join(f, 'model.safetensors'), tensors);
}

const tensorsOf = (values, dtype) => SHAPES.map(([name, shape]) => ({ name, dtype, shape, values: values.get(name) }));

function makeModels(root) {
  const at = (sub) => {
    const d = path.join(root, sub);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };

  // One family per float dtype: base + three fine-tunes; bf16 has folders (one sharded).
  for (const dtype of ['BF16', 'F16', 'F32']) {
    const dir = at(dtype.toLowerCase());
    const base = baseValues(1, dtype);
    const folders = dtype !== 'F16';
    writeModel(dir, 'base', base, dtype, { folder: folders });
    writeModel(dir, 'a', fineTune(base, 2, dtype), dtype, { folder: folders, shards: dtype === 'BF16' ? 3 : 1 });
    writeModel(dir, 'b', fineTune(base, 3, dtype), dtype);
    writeModel(dir, 'c', fineTune(base, 4, dtype, 0.2), dtype, { folder: folders });
    if (folders) ['base', 'a', 'c'].forEach((m) => addTokenizerExtras(path.join(dir, m)));
    if (folders) fs.writeFileSync(path.join(dir, 'c/tokenizer.json'), JSON.stringify({ model: 'c', own: true }));
  }

  // Inputs of different float dtypes: base bf16, fine-tunes f32 and f16.
  {
    const dir = at('mixed_dtypes');
    const base = baseValues(5, 'BF16');
    writeModel(dir, 'base', base, 'BF16', { folder: true });
    writeModel(dir, 'a', fineTune(base, 6, 'BF16'), 'F32');
    writeModel(dir, 'b', fineTune(base, 7, 'BF16'), 'F16');
  }

  // Non-float tensors (and one F64) next to the float ones.
  {
    const dir = at('nonfloat');
    const extras = (seed) => [
      { name: 'model.rotary_emb.position_ids', dtype: 'I64', shape: [1, 12], values: Array.from({ length: 12 }, (_, i) => i * (seed + 1)) },
      { name: 'model.layers.0.self_attn.mask', dtype: 'BOOL', shape: [4, 4], data: randomBytes(seed + 10, 16, 1) },
      { name: 'model.buckets', dtype: 'I32', shape: [10], data: randomBytes(seed + 20, 40, 0xff) },
      { name: 'model.codes16', dtype: 'I16', shape: [6], data: randomBytes(seed + 30, 12, 0xff) },
      { name: 'model.codes8', dtype: 'I8', shape: [7], data: randomBytes(seed + 40, 7, 0xff) },
      { name: 'model.layers.1.quant.zeros', dtype: 'U8', shape: [9], data: randomBytes(seed + 50, 9, 0xff) },
      { name: 'model.scales_e4m3', dtype: 'F8_E4M3', shape: [8], data: randomBytes(seed + 60, 8, 0x3f) },
      { name: 'model.scales_e5m2', dtype: 'F8_E5M2', shape: [8], data: randomBytes(seed + 70, 8, 0x3f) },
      { name: 'model.f64_scale', dtype: 'F64', shape: [5], values: randomValues(seed + 80, 'F32', [5]) },
    ];
    const base = baseValues(8, 'BF16');
    writeTensors(dir, 'base', [...tensorsOf(base, 'BF16'), ...extras(0)], { folder: true });
    writeTensors(dir, 'a', [...tensorsOf(fineTune(base, 9, 'BF16'), 'BF16'), ...extras(1)]);
    writeTensors(dir, 'b', [...tensorsOf(fineTune(base, 10, 'BF16'), 'BF16'), ...extras(2)]);
  }

  // A fine-tune whose vocabulary grew by three rows (embeddings and lm_head).
  {
    const dir = at('vocab');
    const base = baseValues(11, 'BF16');
    writeModel(dir, 'base', base, 'BF16', { folder: true });
    writeModel(dir, 'b', fineTune(base, 13, 'BF16'), 'BF16');
    const grown = tensorsOf(fineTune(base, 12, 'BF16'), 'BF16').map((t) => {
      if (!/embed_tokens|lm_head/.test(t.name)) return t;
      const extra = randomValues(14, 'BF16', [3, t.shape[1]]);
      return { ...t, shape: [t.shape[0] + 3, t.shape[1]], values: [...t.values, ...extra] };
    });
    writeTensors(dir, 'a', grown);
  }

  // NaN and ±inf in a fine-tune (and inf in the base).
  {
    const dir = at('nonfinite');
    const base = baseValues(15, 'BF16');
    const a = fineTune(base, 16, 'BF16');
    a.get('model.layers.1.self_attn.q_proj.weight')[5] = NaN;
    a.get('model.layers.2.mlp.up_proj.weight')[100] = Infinity;
    a.get('lm_head.weight')[7] = -Infinity;
    const b = fineTune(base, 17, 'BF16');
    base.get('model.norm.weight')[3] = Infinity;
    writeModel(dir, 'base', base, 'BF16');
    writeModel(dir, 'a', a, 'BF16');
    writeModel(dir, 'b', b, 'BF16');
  }

  // Tensors far larger than a 1-2 MB budget: blocks, histogram passes, re-reads.
  for (const [sub, dtype, rows, cols] of [['big_bf16', 'BF16', 640, 512], ['big_f32', 'F32', 384, 256]]) {
    const dir = at(sub);
    const shapes = [
      ['model.embed_tokens.weight', [64, 32]],
      ['model.layers.0.mlp.up_proj.weight', [rows, cols]],
      ['model.layers.0.input_layernorm.weight', [cols]],
      ['model.layers.1.mlp.up_proj.weight', [rows, cols]],
      ['model.layers.1.input_layernorm.weight', [cols]],
      ['model.norm.weight', [32]],
      ['lm_head.weight', [64, 32]],
    ];
    const base = shapes.map(([name, shape], i) => ({ name, dtype, shape, values: randomValues(100 + i, dtype, shape) }));
    writeTensors(dir, 'base', base, { folder: true });
    ['a', 'b', 'c'].forEach((m, k) => {
      const r = rng(200 + k);
      writeTensors(dir, m, base.map((t) => ({ ...t, values: t.values.map((x) => roundToGrid(dtype, x + (r() * 2 - 1) * 0.05)) })),
        { folder: true });
    });
  }

  // Many equal |δ| (deltas j/64, j in -3..3): the magnitude cut falls inside runs of ties,
  // and one tensor is just over a chunk (16384 elements), so it takes the histogram passes.
  {
    const dir = at('tied');
    const shapes = [...SHAPES, ['model.layers.3.mlp.down_proj.weight', [160, 128]]];
    const r = rng(300);
    const base = shapes.map(([name, shape]) => ({
      name, dtype: 'BF16', shape, values: Array.from({ length: count(shape) }, () => Math.floor(r() * 17 - 8) / 8),
    }));
    writeTensors(dir, 'base', base);
    ['a', 'b', 'c'].forEach((m, k) => {
      const rk = rng(301 + k);
      writeTensors(dir, m, base.map((t) => ({ ...t, values: t.values.map((x) => x + (Math.floor(rk() * 7) - 3) / 64) })));
    });
  }
}

// ---- configs ----------------------------------------------------------------------------
// [name, yaml, flags]: models relative to the scratch folder (the runs' cwd).

const TA_BF16 = `merge_method: task_arithmetic
base_model: ./bf16/base
models:
  - model: ./bf16/a
    parameters: {weight: [1.0, 0.2]}
  - model: ./bf16/b.safetensors
    parameters:
      weight: -0.3
parameters: {lambda: 0.8}
`;

const CASES = [
  // linear
  ['linear: three files, filter-list weight, out_dtype float16', `merge_method: linear
out_dtype: float16
models:
  - {model: bf16/b.safetensors, parameters: {weight: 1}}
  - {model: f16/a.safetensors, parameters: {weight: 2}}
  - {model: f32/b.safetensors, parameters: {weight: [{filter: mlp, value: 5}, {filter: self_attn, value: 0.5}, {value: 1}]}}
`, ['--threads', '1']],
  ['linear: folders, gradients, normalize false, base listed and ignored', `merge_method: linear
base_model: ./bf16/base
models:
  - model: ./bf16/base
    parameters: {weight: 1.0}
  - model: ./bf16/a
    parameters: {weight: [0.2, 0.8, 1.0]}
  - model: ./bf16/c
    parameters: {weight: [1.0, 0.0]}
parameters: {normalize: false}
`, ['--threads', '2']],
  ['linear: f32 folders to bfloat16, global weight', `merge_method: linear
models:
  - model: ./f32/base
  - model: ./f32/a
  - model: ./f32/c
parameters: {weight: 0.5}
dtype: bfloat16
`, ['--threads', '2']],

  // task_arithmetic
  ['task_arithmetic: sharded folder + file, gradient, lambda, 1 thread', TA_BF16, ['--threads', '1']],
  ['task_arithmetic: the same, 2 threads, 1 MB', TA_BF16, ['--threads', '2', '--memory-mb', '1']],
  ['task_arithmetic: f16 files, normalize true, dtype float32', `merge_method: task_arithmetic
base_model: f16/base.safetensors
models:
  - {model: f16/a.safetensors, parameters: {weight: 0.7}}
  - {model: f16/b.safetensors, parameters: {weight: [0.1, 0.9]}}
  - {model: f16/c.safetensors, parameters: {weight: 0.4}}
parameters: {normalize: true, lambda: 1.3}
dtype: float32
`, ['--threads', '2']],
  ['task_arithmetic: sharded output (--out-shard-size 2KB), folder companions', TA_BF16 + 'dtype: float32\n',
    ['--threads', '2', '--out-shard-size', '2KB']],
  ['task_arithmetic: tensors bigger than a 1 MB budget, 2 threads', `merge_method: task_arithmetic
base_model: ./big_bf16/base
models:
  - {model: ./big_bf16/a, parameters: {weight: 0.6}}
  - {model: ./big_bf16/b, parameters: {weight: [0.3, 1.0]}}
`, ['--threads', '2', '--memory-mb', '1']],
  ['task_arithmetic: non-float tensors copied, F64 merged', `merge_method: task_arithmetic
base_model: ./nonfloat/base
models:
  - {model: ./nonfloat/a.safetensors, parameters: {weight: 0.5}}
  - {model: ./nonfloat/b.safetensors, parameters: {weight: 0.5}}
`, ['--threads', '2']],
  ['task_arithmetic: grown vocabulary cut with warnings', `merge_method: task_arithmetic
base_model: ./vocab/base
models:
  - {model: ./vocab/a.safetensors, parameters: {weight: 1.0}}
  - {model: ./vocab/b.safetensors, parameters: {weight: 0.5}}
`, ['--threads', '1']],
  ['task_arithmetic: allow_nonfinite merges NaN and inf', `merge_method: task_arithmetic
base_model: nonfinite/base.safetensors
models:
  - {model: nonfinite/a.safetensors, parameters: {weight: 1.0}}
  - {model: nonfinite/b.safetensors, parameters: {weight: 0.5}}
allow_nonfinite: true
`, ['--threads', '2']],
  ['task_arithmetic: inputs bf16 + f32 + f16, out_dtype float16', `merge_method: task_arithmetic
base_model: ./mixed_dtypes/base
models:
  - {model: ./mixed_dtypes/a.safetensors, parameters: {weight: 0.5}}
  - {model: ./mixed_dtypes/b.safetensors, parameters: {weight: 0.5}}
out_dtype: float16
`, ['--threads', '2']],
  ['task_arithmetic: tokenizer_source another folder', `merge_method: task_arithmetic
base_model: ./bf16/base
models:
  - {model: ./bf16/a, parameters: {weight: 0.5}}
  - {model: ./bf16/c, parameters: {weight: 0.5}}
tokenizer_source: ./bf16/c
`, ['--threads', '2']],

  // ties
  ['ties: density per model (scalar, gradient), 1 thread, 8 MB', TA_BF16.replace('task_arithmetic', 'ties')
    .replace('{weight: [1.0, 0.2]}', '{weight: [1.0, 0.2], density: 0.4}')
    .replace('weight: -0.3', 'weight: -0.3\n      density: [0.2, 0.9]'), ['--threads', '1', '--memory-mb', '8']],
  ['ties: density filter list, normalize false, lambda, f32 folders', `merge_method: ties
base_model: ./f32/base
models:
  - model: ./f32/a
    parameters:
      weight: 0.8
      density: [{filter: mlp, value: 0.3}, {filter: layernorm, value: 1.0}, {value: 0.5}]
  - model: ./f32/b.safetensors
    parameters: {weight: 0.6, density: 0.7}
  - model: ./f32/c
    parameters: {weight: [0.2, 1.0]}
parameters: {normalize: false, lambda: 0.7, density: 0.25}
`, ['--threads', '2']],
  ['ties: density 1.0 and tiny (keeps all / none)', `merge_method: ties
base_model: f16/base.safetensors
models:
  - {model: f16/a.safetensors, parameters: {weight: 1.0, density: 1.0}}
  - {model: f16/b.safetensors, parameters: {weight: 1.0, density: 0.001}}
  - {model: f16/c.safetensors, parameters: {weight: 1.0, density: 0.00001}}
`, ['--threads', '2']],
  ['ties: tensors bigger than a 1 MB budget (histogram passes, re-reads), 1 thread', `merge_method: ties
base_model: ./big_bf16/base
models:
  - {model: ./big_bf16/a, parameters: {weight: 0.5, density: 0.3}}
  - {model: ./big_bf16/b, parameters: {weight: 0.5, density: 0.05}}
  - {model: ./big_bf16/c, parameters: {weight: 0.5, density: 0.0001}}
`, ['--threads', '1', '--memory-mb', '1']],
  ['ties: the same, 2 threads', `merge_method: ties
base_model: ./big_bf16/base
models:
  - {model: ./big_bf16/a, parameters: {weight: 0.5, density: 0.3}}
  - {model: ./big_bf16/b, parameters: {weight: 0.5, density: 0.05}}
  - {model: ./big_bf16/c, parameters: {weight: 0.5, density: 0.0001}}
`, ['--threads', '2', '--memory-mb', '1']],
  ['ties: big f32 in 2 MB to bfloat16, rescale true', `merge_method: ties
base_model: ./big_f32/base
models:
  - {model: ./big_f32/a, parameters: {weight: 1.0, density: 0.2}}
  - {model: ./big_f32/b, parameters: {weight: 0.5, density: 0.6}}
parameters: {rescale: true}
dtype: bfloat16
`, ['--threads', '2', '--memory-mb', '2']],
  ['ties: many equal magnitudes at the cut, a tensor just over one chunk', `merge_method: ties
base_model: tied/base.safetensors
models:
  - {model: tied/a.safetensors, parameters: {weight: 1.0, density: 0.5}}
  - {model: tied/b.safetensors, parameters: {weight: 0.7, density: 0.33}}
  - {model: tied/c.safetensors, parameters: {weight: 0.4, density: 0.1}}
`, ['--threads', '2']],
  ['ties: the same in 1 MB, 1 thread', `merge_method: ties
base_model: tied/base.safetensors
models:
  - {model: tied/a.safetensors, parameters: {weight: 1.0, density: 0.5}}
  - {model: tied/b.safetensors, parameters: {weight: 0.7, density: 0.33}}
  - {model: tied/c.safetensors, parameters: {weight: 0.4, density: 0.1}}
`, ['--threads', '1', '--memory-mb', '1']],
  ['ties: int8_mask, dtype float32, out_dtype float16, random_seed', `merge_method: ties
base_model: ./bf16/base
models:
  - {model: ./bf16/a, parameters: {weight: 1.0, density: 0.6}}
  - {model: ./bf16/c, parameters: {weight: 1.0, density: 0.6}}
parameters: {int8_mask: true}
dtype: float32
out_dtype: float16
random_seed: 3
`, ['--threads', '2']],
  ['ties: non-float tensors, allow_nonfinite', `merge_method: ties
base_model: ./nonfloat/base
models:
  - {model: ./nonfloat/a.safetensors, parameters: {weight: 1.0, density: 0.5}}
  - {model: ./nonfloat/b.safetensors, parameters: {weight: 1.0, density: 0.5}}
`, ['--threads', '1']],
  ['ties: NaN and inf with allow_nonfinite', `merge_method: ties
base_model: nonfinite/base.safetensors
models:
  - {model: nonfinite/a.safetensors, parameters: {weight: 1.0, density: 0.5}}
  - {model: nonfinite/b.safetensors, parameters: {weight: 1.0, density: 0.5}}
allow_nonfinite: true
`, ['--threads', '2']],

  // dare_linear
  ['dare_linear: L1 rescale (default), random_seed 5', `merge_method: dare_linear
base_model: ./bf16/base
models:
  - {model: ./bf16/a, parameters: {weight: 0.6, density: 0.5}}
  - {model: ./bf16/b.safetensors, parameters: {weight: 0.4, density: 0.7}}
random_seed: 5
`, ['--threads', '2']],
  ['dare_linear: rescale_mode inverse_density, density gradient, normalize true', `merge_method: dare_linear
base_model: f16/base.safetensors
models:
  - {model: f16/a.safetensors, parameters: {weight: 1.0, density: [0.3, 0.9]}}
  - {model: f16/b.safetensors, parameters: {weight: 0.5, density: 0.6}}
parameters: {rescale_mode: inverse_density, normalize: true}
`, ['--threads', '1']],
  ['dare_linear: rescale false, --random-seed above 2^53', `merge_method: dare_linear
base_model: ./f32/base
models:
  - {model: ./f32/a, parameters: {weight: 1.0, density: 0.4}}
  - {model: ./f32/c, parameters: {weight: 1.0, density: 0.4}}
parameters: {rescale: false, lambda: 0.9}
`, ['--threads', '2', '--random-seed', '12345678901234567890']],
  ['dare_linear: tensors bigger than a 1 MB budget (L1 pass, re-reads), 2 threads', `merge_method: dare_linear
base_model: ./big_bf16/base
models:
  - {model: ./big_bf16/a, parameters: {weight: 0.5, density: 0.3}}
  - {model: ./big_bf16/b, parameters: {weight: 0.5, density: 0.8}}
`, ['--threads', '2', '--memory-mb', '1']],
  ['dare_linear: density 1.0 and tiny', `merge_method: dare_linear
base_model: ./bf16/base
models:
  - {model: ./bf16/a, parameters: {weight: 1.0, density: 1.0}}
  - {model: ./bf16/c, parameters: {weight: 1.0, density: 0.000001}}
`, ['--threads', '1']],

  // dare_ties
  ['dare_ties: random_seed 17, densities per model', TA_BF16.replace('task_arithmetic', 'dare_ties\nrandom_seed: 17')
    .replace('{weight: [1.0, 0.2]}', '{weight: [1.0, 0.2], density: 0.4}')
    .replace('weight: -0.3', 'weight: -0.3\n      density: [0.2, 0.9]'), ['--threads', '2']],
  ['dare_ties: inverse_density, normalize true, lambda 0.5, f16', `merge_method: dare_ties
base_model: f16/base.safetensors
models:
  - {model: f16/a.safetensors, parameters: {weight: 1.0, density: 0.5}}
  - {model: f16/b.safetensors, parameters: {weight: 0.8, density: 0.3}}
  - {model: f16/c.safetensors, parameters: {weight: 0.6, density: 0.9}}
parameters: {rescale_mode: inverse_density, normalize: true, lambda: 0.5}
`, ['--threads', '2']],
  ['dare_ties: tensors bigger than a 1 MB budget, 1 thread', `merge_method: dare_ties
base_model: ./big_bf16/base
models:
  - {model: ./big_bf16/a, parameters: {weight: 0.5, density: 0.3}}
  - {model: ./big_bf16/b, parameters: {weight: 0.5, density: 0.6}}
  - {model: ./big_bf16/c, parameters: {weight: 0.5, density: 0.9}}
`, ['--threads', '1', '--memory-mb', '1']],
  ['dare_ties: big f32 in 2 MB, rescale false, 2 threads', `merge_method: dare_ties
base_model: ./big_f32/base
models:
  - {model: ./big_f32/a, parameters: {weight: 1.0, density: 0.5}}
  - {model: ./big_f32/b, parameters: {weight: 1.0, density: 0.5}}
  - {model: ./big_f32/c, parameters: {weight: 1.0, density: 0.5}}
parameters: {rescale: false}
`, ['--threads', '2', '--memory-mb', '2']],
  ['dare_ties: sharded output (3KB), folders, out_dtype bfloat16 from f32', `merge_method: dare_ties
base_model: ./f32/base
models:
  - {model: ./f32/a, parameters: {weight: 1.0, density: 0.7}}
  - {model: ./f32/c, parameters: {weight: 0.5, density: 0.7}}
out_dtype: bfloat16
random_seed: 99
`, ['--threads', '2', '--out-shard-size', '3KB']],
  ['dare_ties: grown vocabulary, dtype float32', `merge_method: dare_ties
base_model: ./vocab/base
models:
  - {model: ./vocab/a.safetensors, parameters: {weight: 1.0, density: 0.5}}
  - {model: ./vocab/b.safetensors, parameters: {weight: 1.0, density: 0.5}}
dtype: float32
`, ['--threads', '1']],
  ['dare_ties: non-float tensors', `merge_method: dare_ties
base_model: ./nonfloat/base
models:
  - {model: ./nonfloat/a.safetensors, parameters: {weight: 1.0, density: 0.5}}
  - {model: ./nonfloat/b.safetensors, parameters: {weight: 1.0, density: 0.5}}
`, ['--threads', '2']],
];

// ---- runs and comparison ----------------------------------------------------------------

function listFiles(dir, prefix = '') {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name), prefix + e.name + '/') : [prefix + e.name]).sort();
}

function run(rootDir, cwd, config, out, flags) {
  const r = spawnSync(path.join(rootDir, 'scripts/wasmerge'), [config, out, ...flags], { cwd, encoding: 'utf8' });
  const lines = (r.stderr || '').split('\n');
  if (r.error) lines.push(`error: cannot run ${rootDir}/scripts/wasmerge: ${r.error.message}`);
  return {
    status: r.status,
    warnings: lines.filter((l) => l.startsWith('warning:')),
    errors: lines.filter((l) => l.startsWith('error:')),
    dir: path.join(cwd, out),
  };
}

// Where two .safetensors first differ: the header, or a tensor and element.
function safetensorsDifference(a, b) {
  const n = Number(a.readBigUInt64LE(0));
  if (n !== Number(b.readBigUInt64LE(0)) || !a.subarray(0, 8 + n).equals(b.subarray(0, 8 + n))) return 'the header differs';
  let i = 8 + n;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const header = JSON.parse(a.subarray(8, 8 + n).toString('utf8'));
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = t.data_offsets;
    if (i - 8 - n >= begin && i - 8 - n < end) {
      const size = { F64: 8, F32: 4, I64: 8, I32: 4, F16: 2, BF16: 2, I16: 2 }[t.dtype] || 1;
      return `tensor '${name}' differs from element ${Math.floor((i - 8 - n - begin) / size)}`;
    }
  }
  return `the sizes differ (${a.length} vs ${b.length} bytes)`;
}

function differences(ref, other) {
  const found = [];
  if (ref.status !== other.status) found.push(`exit ${other.status} (${other.errors.join(' ') || 'no error line'}), not ${ref.status}`);
  if (JSON.stringify(ref.warnings) !== JSON.stringify(other.warnings))
    found.push(`warnings differ: ${JSON.stringify(other.warnings)} vs ${JSON.stringify(ref.warnings)}`);
  const refFiles = listFiles(ref.dir);
  const otherFiles = listFiles(other.dir);
  const missing = refFiles.filter((f) => !otherFiles.includes(f));
  const extra = otherFiles.filter((f) => !refFiles.includes(f));
  if (missing.length) found.push(`missing ${missing.join(', ')}`);
  if (extra.length) found.push(`extra ${extra.join(', ')}`);
  for (const f of refFiles.filter((x) => otherFiles.includes(x))) {
    const a = fs.readFileSync(path.join(ref.dir, f));
    const b = fs.readFileSync(path.join(other.dir, f));
    if (a.equals(b)) continue;
    found.push(`${f}: ${f.endsWith('.safetensors') ? safetensorsDifference(a, b) : 'differs'}`);
  }
  return found;
}

function main() {
  const [oldArg, newArg, label = 'old'] = process.argv.slice(2);
  if (!oldArg || !newArg) {
    process.stderr.write('usage: node scripts/compare_builds.js OLD_ROOT NEW_ROOT [LABEL]\n');
    return 2;
  }
  const [oldRoot, newRoot] = [path.resolve(oldArg), path.resolve(newArg)];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmerge-compare-'));
  makeModels(scratch);
  const sides = [
    [`${label} wasm`, oldRoot, []], [`${label} native`, oldRoot, ['--native']],
    ['new wasm', newRoot, []], ['new native', newRoot, ['--native']],
  ];
  let same = 0;
  let differ = 0;
  const started = Date.now();
  CASES.forEach(([name, yaml, flags], c) => {
    const config = `config-${String(c).padStart(2, '0')}.yaml`;
    fs.writeFileSync(path.join(scratch, config), yaml);
    const runs = sides.map(([, root, extra], s) =>
      run(root, scratch, config, `out/${String(c).padStart(2, '0')}/${s}`, [...flags, ...extra]));
    const problems = [];
    if (runs[0].status !== 0) problems.push(`${sides[0][0]} failed: ${runs[0].errors.join(' ') || `exit ${runs[0].status}`}`);
    runs.slice(1).forEach((r, i) => differences(runs[0], r).forEach((d) => problems.push(`${sides[i + 1][0]}: ${d}`)));
    const files = listFiles(runs[0].dir);
    if (problems.length === 0) {
      same++;
      console.log(`same    ${name} (${files.length} files${runs[0].warnings.length ? `, ${runs[0].warnings.length} warnings` : ''})`);
    } else {
      differ++;
      console.log(`DIFFER  ${name}\n        ${problems.slice(0, 8).join('\n        ')}`);
    }
  });
  console.log(`${same} same, ${differ} differ (${CASES.length} configs x ${sides.length} runs, ` +
    `${((Date.now() - started) / 1000).toFixed(0)} s)`);
  if (differ === 0 && !process.env.KEEP) fs.rmSync(scratch, { recursive: true, force: true });
  else console.log(`outputs kept in ${scratch}`);
  return differ === 0 ? 0 : 1;
}

process.exit(main());
