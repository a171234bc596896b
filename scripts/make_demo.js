#!/usr/bin/env node
'use strict';
// Writes the page's built-in demo (web/demo/): a tiny Llama-shaped base model in bf16 and
// three fine-tunes of it, the config the page shows on first load, and a manifest.
// Deterministic: the same bytes on every run (tests/browser checks the committed files).
//   node scripts/make_demo.js [OUT_DIR]   (default web/demo)
const fs = require('fs');
const path = require('path');
const { writeSafetensors, encode, rng, roundToGrid } = require('./lib/st_io');

const VOCAB = 256;
const HIDDEN = 128;
const INTERMEDIATE = 256;
const LAYERS = 4;

const SHAPES = [
  ['model.embed_tokens.weight', [VOCAB, HIDDEN]],
  ...Array.from({ length: LAYERS }, (_, i) => [
    [`model.layers.${i}.self_attn.q_proj.weight`, [HIDDEN, HIDDEN]],
    [`model.layers.${i}.self_attn.k_proj.weight`, [HIDDEN, HIDDEN]],
    [`model.layers.${i}.self_attn.v_proj.weight`, [HIDDEN, HIDDEN]],
    [`model.layers.${i}.self_attn.o_proj.weight`, [HIDDEN, HIDDEN]],
    [`model.layers.${i}.mlp.gate_proj.weight`, [INTERMEDIATE, HIDDEN]],
    [`model.layers.${i}.mlp.up_proj.weight`, [INTERMEDIATE, HIDDEN]],
    [`model.layers.${i}.mlp.down_proj.weight`, [HIDDEN, INTERMEDIATE]],
    [`model.layers.${i}.input_layernorm.weight`, [HIDDEN]],
    [`model.layers.${i}.post_attention_layernorm.weight`, [HIDDEN]],
  ]).flat(),
  ['model.norm.weight', [HIDDEN]],
  ['lm_head.weight', [VOCAB, HIDDEN]],
];

const count = (shape) => shape.reduce((a, b) => a * b, 1);
const bf16 = (x) => roundToGrid('BF16', x);

function baseModel(seed) {
  const r = rng(seed);
  return SHAPES.map(([name, shape]) => {
    const norm = name.endsWith('layernorm.weight') || name === 'model.norm.weight';
    const scale = 1 / Math.sqrt(shape[shape.length - 1]);
    const values = Array.from({ length: count(shape) }, () => bf16(norm ? 1 + (r() - 0.5) * 0.1 : (r() * 2 - 1) * scale));
    return { name, shape, values };
  });
}

// A fine-tune moves a task-specific part of the weights a lot (a third of them) and the
// rest a little: what TIES trimming and DARE dropping are made for.
function fineTune(base, seed, focus) {
  const r = rng(seed);
  return base.map(({ name, shape, values }) => {
    const strong = name.includes(focus) ? 0.03 : 0.01;
    return { name, shape, values: values.map((x) => bf16(x + (r() < 0.33 ? strong : 0.002) * (r() * 2 - 1))) };
  });
}

const CONFIG = `# Demo: a tiny Llama-shaped base and three fine-tunes
# of it. Pick your own files to merge real models.
merge_method: ties
base_model: base.safetensors
models:
  - model: math.safetensors
    parameters: {weight: 1.0, density: 0.5}
  - model: code.safetensors
    parameters: {weight: 0.8, density: 0.5}
  - model: chat.safetensors
    parameters: {weight: [0.4, 0.8], density: 0.7}
parameters: {lambda: 1.0, normalize: true}
dtype: bfloat16
`;

function makeDemo(outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  const base = baseModel(7);
  const models = {
    'base.safetensors': base,
    'math.safetensors': fineTune(base, 11, 'mlp'),
    'code.safetensors': fineTune(base, 12, 'self_attn'),
    'chat.safetensors': fineTune(base, 13, 'embed'),
  };
  for (const [file, tensors] of Object.entries(models)) {
    writeSafetensors(path.join(outDir, file),
      tensors.map(({ name, shape, values }) => ({ name, dtype: 'BF16', shape, data: encode('BF16', values) })),
      { format: 'pt' });
  }
  fs.writeFileSync(path.join(outDir, 'merge.yaml'), CONFIG);
  fs.writeFileSync(path.join(outDir, 'demo.json'),
    JSON.stringify({ config: 'merge.yaml', files: Object.keys(models) }, null, 2) + '\n');
  return ['demo.json', 'merge.yaml', ...Object.keys(models)];
}

if (require.main === module) {
  const out = path.resolve(process.argv[2] || path.join(__dirname, '../web/demo'));
  const files = makeDemo(out);
  console.log(`wrote ${files.length} files into ${out}`);
}

module.exports = { makeDemo };
